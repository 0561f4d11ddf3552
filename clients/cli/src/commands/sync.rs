use std::time::{SystemTime, UNIX_EPOCH};

use crate::Result;
use crate::http::Server;
use crate::state::{State, StateFile};
use crate::sync::{MAX_ROUNDS, SyncOutcome, sync_until_done};

pub fn run(file: &StateFile) -> Result<()> {
    let mut state = file.load()?;
    let server = Server::new(&state.device.server)?;
    let pending_before = state.engine.pending_count();
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
    for refused in &outcome.rejected {
        println!(
            "Refused by the server: document {} ({}): {}",
            refused.id, refused.code, refused.message
        );
    }
    if !outcome.rejected.is_empty() {
        println!(
            "Refused documents stay on this device; correct and collect them again, or ask your coordinator."
        );
    }
    Ok(())
}

/// Syncs, saving after every round so an interruption keeps what the server acknowledged,
/// and records when the last sync finished or why it failed (for `survey status`).
pub fn sync_and_save(file: &StateFile, server: &Server, state: &mut State) -> Result<SyncOutcome> {
    let token = state.device.token.clone();
    let device = &state.device;
    let result = sync_until_done(server, token.expose(), &mut state.engine, MAX_ROUNDS, |engine| {
        file.save_parts(device, engine)
    });
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
