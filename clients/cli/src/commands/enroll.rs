use sync_core::ClientEngine;

use super::plural;
use super::sync::sync_and_save;
use crate::http::Server;
use crate::state::{Device, DeviceToken, State, StateFile};
use crate::{Error, Result, admin};

pub fn run(file: &StateFile, server: &str, code: &str, keep_sent: bool) -> Result<()> {
    // Checked before the code is spent: a code may enroll only a few devices.
    if file.exists() {
        return Err(Error::AlreadyEnrolled(file.path().to_owned()));
    }
    let server = Server::new(server)?;
    if server.is_plaintext_remote() {
        eprintln!(
            "warning: {} is plain HTTP: the device token and the answers cross the network unencrypted. Use https:// outside a test bench.",
            server.base()
        );
    }
    let enrolled = admin::enroll(&server, code.trim())?;
    let mut state = State {
        device: Device {
            server: server.base().to_owned(),
            device_id: enrolled.device_id,
            token: DeviceToken::new(enrolled.token),
            last_sync: None,
            last_sync_error: None,
        },
        engine: ClientEngine::new(enrolled.dataset, enrolled.epoch),
    };
    // A demo dataset's trainees look back at their practice; anything else (a server too old
    // to say) is treated as live, where a phone that holds less puts fewer people at risk.
    let demo = enrolled.mode.as_deref() == Some("demo");
    state.engine.set_delete_after_send(!demo && !keep_sent);
    // Saved before anything else can fail: the code is spent, the token must not be lost.
    file.save(&mut state)?;
    println!(
        "Enrolled: device {} in dataset {}. State saved in {}.",
        enrolled.device_id,
        enrolled.dataset,
        file.path().display()
    );
    if state.engine.delete_after_send() == Some(true) {
        println!(
            "Submitted responses are deleted from this device once the server has them (`survey delete-after-send off` keeps them)."
        );
    }
    match sync_and_save(file, &server, &mut state) {
        Ok(_) => {
            let forms = state.engine.forms();
            println!(
                "Fetched {} form{} and {} site{}. `survey forms` lists them.",
                forms.len(),
                plural(forms.len()),
                state.engine.sites().len(),
                plural(state.engine.sites().len())
            );
        }
        Err(e) => eprintln!(
            "warning: enrolled, but the forms could not be fetched yet: {e}. Run `survey sync` later."
        ),
    }
    Ok(())
}
