use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::http::Server;
use crate::state::{State, StateFile};
use crate::sync::{MAX_SYNC_ROUNDS, SyncOutcome, sync_until_done};
use crate::{Error, Result};

pub fn run(file: &StateFile) -> Result<()> {
    let mut state = file.load()?;
    let server = Server::new(&state.device.server)?;
    let pending_before = state.engine.pending_count();
    let sent_before = state.engine.sent_count();
    let outcome = sync_and_save(file, &server, &mut state)?;
    if outcome.reset {
        println!(
            "The coordinator reset this training dataset: its old documents were removed from this device and it is now on epoch {}.",
            state.engine.epoch()
        );
    }
    let sent = outcome.rounds.iter().map(|r| r.request_bytes).sum::<usize>();
    let received = outcome.rounds.iter().map(|r| r.response_bytes).sum::<usize>();
    println!(
        "Synced: {pending_before} document{} sent; {} round{}, {sent} bytes up, {received} bytes down.",
        super::plural(pending_before),
        outcome.rounds.len(),
        super::plural(outcome.rounds.len()),
    );
    let deleted = state.engine.sent_count().saturating_sub(sent_before);
    if deleted > 0 {
        println!(
            "{deleted} submitted response{} the server confirmed {} deleted from this device.",
            super::plural(deleted),
            if deleted == 1 { "was" } else { "were" }
        );
    }
    if outcome.withdrawn > 0 {
        println!(
            "The server was told of {} withdrawn response{}.",
            outcome.withdrawn,
            super::plural(outcome.withdrawn)
        );
    }
    let (withdrawn, refused): (Vec<_>, Vec<_>) = outcome
        .rejected
        .iter()
        .partition(|r| r.code == sync_core::WITHDRAWN);
    for gone in &withdrawn {
        println!(
            "Response {} was withdrawn on the server: it was deleted from this device.",
            gone.id
        );
    }
    for refused in &refused {
        println!(
            "Refused by the server: document {} ({}): {}",
            refused.id, refused.code, refused.message
        );
    }
    if !refused.is_empty() {
        println!(
            "Refused documents stay on this device; correct and collect them again, or ask your coordinator."
        );
    }
    Ok(())
}

/// Syncs, saving after every round so an interruption keeps what the server acknowledged,
/// and records when the last sync finished or why it failed (for `survey status`). A server
/// that says the device was withdrawn with a wipe gets its wipe ([`wipe`]).
pub fn sync_and_save(file: &StateFile, server: &Server, state: &mut State) -> Result<SyncOutcome> {
    let token = state.device.token.clone();
    let device = &state.device;
    let result = sync_until_done(
        server,
        token.expose(),
        &mut state.engine,
        MAX_SYNC_ROUNDS,
        |engine| file.save_parts(device, engine),
    );
    if matches!(result, Err(Error::WipeRequested)) {
        return Err(wipe(file, state));
    }
    match &result {
        Ok(_) => {
            state.device.last_sync = Some(unix_now());
            state.device.last_sync_error = None;
        }
        Err(e) => state.device.last_sync_error = Some(e.to_string()),
    }
    let saved = file.save(state);
    let outcome = result?;
    saved?;
    Ok(outcome)
}

/// Deletes the state file, and with it every document of the dataset this device held, sent
/// or not. First, as the web app does, a person at a terminal may save a copy of the state
/// (which holds the unsent work) to a file of their choosing; run unattended, nothing is kept.
/// Returns what to tell them.
fn wipe(file: &StateFile, state: &mut State) -> Error {
    let unsent = state.engine.pending_count();
    let copy = if unsent > 0 && std::io::stdin().is_terminal() {
        match offer_copy(file, unsent) {
            Ok(copy) => copy,
            Err(err) => return err,
        }
    } else {
        None
    };
    match file.remove() {
        Ok(()) => Error::Wiped { unsent, copy },
        Err(err) => err,
    }
}

fn offer_copy(file: &StateFile, unsent: usize) -> Result<Option<PathBuf>> {
    eprint!(
        "The coordinator withdrew this device: its documents will be deleted, {unsent} of them never sent. \
         To keep a copy of them first, type a file path; press Enter to delete them: "
    );
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|source| Error::StateIo {
            action: "read the answer for",
            path: file.path().to_owned(),
            source,
        })?;
    let answer = answer.trim();
    if answer.is_empty() {
        return Ok(None);
    }
    let copy = PathBuf::from(answer);
    std::fs::copy(file.path(), &copy).map_err(|source| Error::StateIo {
        action: "copy",
        path: file.path().to_owned(),
        source,
    })?;
    Ok(Some(copy))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
