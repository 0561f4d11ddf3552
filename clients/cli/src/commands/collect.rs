use std::io::Read as _;
use std::path::Path;

use sync_core::{Error as CoreError, Form, ResponseEdit};

use crate::state::StateFile;
use crate::{Error, Result};

/// An answers file is a few kilobytes; anything far larger is a wrong file.
const MAX_ANSWERS_BYTES: u64 = 1 << 20;

pub fn run(file: &StateFile, form_id: &str, answers: &Path) -> Result<()> {
    let mut state = file.load()?;
    let form = state.engine.form(form_id, None).map_err(|_| Error::UnknownForm {
        form: form_id.to_owned(),
    })?;
    let edit = read_edit(&form, answers)?;
    let id = state
        .engine
        .create_response(&form.id, &edit)
        .map_err(|reason| doesnt_fit(&form, answers, reason))?;
    file.save(&mut state)?;
    let pending = state.engine.pending_count();
    println!(
        "Saved response {id} to form {} v{} as {}. {pending} document{} wait{} to be synced.",
        form.id,
        form.version,
        if edit.submit { "submitted" } else { "a draft" },
        super::plural(pending),
        if pending == 1 { "s" } else { "" },
    );
    Ok(())
}

/// An answers file as an edit of a response to `form`: every answer checked against the form,
/// contact details scrubbed out of free text.
pub(super) fn read_edit(form: &Form, answers: &Path) -> Result<ResponseEdit> {
    let json = read_answers(answers).map_err(|detail| Error::AnswersFile {
        file: answers.display().to_string(),
        detail,
    })?;
    ResponseEdit::from_json(form, &json).map_err(|reason| doesnt_fit(form, answers, reason))
}

/// The engine refused the answers of file `answers` for `form`.
pub(super) fn doesnt_fit(form: &Form, answers: &Path, reason: CoreError) -> Error {
    Error::AnswersDontFit {
        file: answers.display().to_string(),
        form: form.id.clone(),
        reason,
    }
}

fn read_answers(path: &Path) -> std::result::Result<serde_json::Value, String> {
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_ANSWERS_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_ANSWERS_BYTES + 1).read_to_string(&mut text))
    };
    read.map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_ANSWERS_BYTES {
        return Err(format!("it is larger than {MAX_ANSWERS_BYTES} bytes"));
    }
    serde_json::from_str(&text).map_err(|e| format!("it is not valid JSON ({e})"))
}
