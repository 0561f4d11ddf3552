use std::path::Path;

use sync_core::DocKind;
use uuid::Uuid;

use super::collect::{doesnt_fit, read_edit};
use crate::http::Server;
use crate::state::StateFile;
use crate::sync::send_withdrawals;
use crate::{Error, Result};

/// One line per response, without its answers: enough to find a draft to finish.
pub fn list(file: &StateFile) -> Result<()> {
    let mut state = file.load()?;
    let ids = state.engine.document_ids(DocKind::Response);
    if ids.is_empty() {
        println!("No responses on this device.");
    }
    for id in ids {
        match state.engine.response(id) {
            Ok(view) => println!(
                "{id}  {} v{}  {}  {}  {}",
                view.form,
                view.form_version,
                view.area,
                view.collected_on,
                view.status.as_str()
            ),
            Err(e) => println!("{id}  cannot be read: {e}"),
        }
    }
    Ok(())
}

pub fn edit(file: &StateFile, id: Uuid, answers: &Path) -> Result<()> {
    let mut state = file.load()?;
    if !state.engine.document_ids(DocKind::Response).contains(&id) {
        return Err(Error::UnknownResponse(id));
    }
    let view = state.engine.response(id).map_err(Error::Refused)?;
    let form = state
        .engine
        .form(&view.form, Some(view.form_version))
        .map_err(Error::Refused)?;
    let edit = read_edit(&form, answers)?;
    state
        .engine
        .edit_response(id, &edit)
        .map_err(|reason| doesnt_fit(&form, answers, reason))?;
    file.save(&mut state)?;
    let status = state.engine.response(id).map_err(Error::Refused)?.status;
    println!(
        "Saved the change to response {id}; it is {}. Run `survey sync` to send it.",
        status.as_str()
    );
    Ok(())
}

/// Deletes the response here and saves that first, so it is gone from the phone whatever the
/// network does; then tells the server, or leaves that to the next sync when it is out of
/// reach.
pub fn withdraw(file: &StateFile, id: Uuid) -> Result<()> {
    let mut state = file.load()?;
    if !state.engine.document_ids(DocKind::Response).contains(&id) {
        return Err(Error::UnknownResponse(id));
    }
    state.engine.withdraw(id).map_err(Error::Refused)?;
    file.save(&mut state)?;
    let server = Server::new(&state.device.server)?;
    let token = state.device.token.clone();
    match send_withdrawals(&server, token.expose(), &mut state.engine) {
        Ok(_) => {
            file.save(&mut state)?;
            println!("Withdrew response {id}: deleted from this device and from the server.");
            Ok(())
        }
        Err(Error::Unreachable { .. }) => {
            println!(
                "Withdrew response {id}: deleted from this device; the server will be told at the next `survey sync`."
            );
            Ok(())
        }
        Err(other) => Err(other),
    }
}
