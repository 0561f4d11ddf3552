use crate::state::StateFile;
use crate::{Error, Result};

pub fn run(file: &StateFile, form: Option<&str>) -> Result<()> {
    let state = file.load()?;
    if let Some(id) = form {
        let form = state
            .engine
            .form(id, None)
            .map_err(|_| Error::UnknownForm { form: id.to_owned() })?;
        let json: serde_json::Value =
            serde_json::from_str(&form.to_json()).expect("a form serializes to JSON");
        println!("{}", serde_json::to_string_pretty(&json).expect("JSON prints"));
        return Ok(());
    }
    let forms = state.engine.forms();
    if forms.is_empty() {
        println!("No forms on this device yet. Run `survey sync` to fetch them.");
    }
    for form in forms {
        println!(
            "{}  v{}  {}  ({} questions; areas: {})",
            form.id,
            form.version,
            form.title,
            form.questions.len(),
            form.areas.join(", ")
        );
    }
    Ok(())
}
