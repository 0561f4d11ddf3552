use super::plural;
use super::sync::sync_and_save;
use crate::http::Server;
use crate::state::{DeviceToken, StateFile};
use crate::{Error, Result, admin};

/// A device whose token expired (or was revoked on its own) enrolls again with a new code as
/// the same device: it keeps every document in its state, sent or not, and can still change the
/// responses it sent before (the server lets only their first writer do that).
pub fn run(file: &StateFile, code: &str) -> Result<()> {
    let mut state = file.load()?;
    let server = Server::new(&state.device.server)?;
    let enrolled = admin::enroll_again(&server, code.trim(), state.device.token.expose())?;
    if enrolled.device_id != state.device.device_id || enrolled.dataset != state.engine.dataset() {
        return Err(Error::BadAnswer(
            "the server enrolled another device than this one".into(),
        ));
    }
    state.device.token = DeviceToken::new(enrolled.token);
    // Saved before anything else can fail: the code is spent, the token must not be lost.
    file.save(&mut state)?;
    let waiting = state.engine.pending_count();
    println!(
        "Enrolled again as device {}; {waiting} document{} wait to be sent.",
        enrolled.device_id,
        plural(waiting)
    );
    match sync_and_save(file, &server, &mut state) {
        Ok(_) => println!("Synced: nothing collected on this device was lost."),
        Err(e) => eprintln!("warning: enrolled again, but the sync failed: {e}. Run `survey sync` later."),
    }
    Ok(())
}
