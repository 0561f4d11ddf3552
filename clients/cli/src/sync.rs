//! Sync rounds against `POST /v3/sync` (`/v2/sync` or `/v1/sync` on an older server): the engine
//! builds each request and takes in each answer; this module moves the bytes and keeps going
//! until the engine is up to date, within a bound so a misbehaving server cannot keep a phone
//! busy forever.

use std::time::{Duration, Instant};

use sync_core::{
    ClientEngine, LocalRejection, REPLY_LIMITS, REQUEST_CHANGE_BYTES, decode_response, encode_request,
};

use crate::http::Server;
use crate::{Error, Result};

/// Rounds of one `survey sync` before it stops and says so: sync-core's client limit, the web
/// app's too.
pub use sync_core::MAX_SYNC_ROUNDS;

/// What one round trip cost on the wire and in time.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    pub request_bytes: usize,
    pub response_bytes: usize,
    pub elapsed: Duration,
}

#[derive(Debug, Default)]
pub struct SyncOutcome {
    pub rounds: Vec<Round>,
    /// The server said the dataset was reset (a training session started over): local
    /// documents of the old epoch were dropped.
    pub reset: bool,
    /// Documents the server refused during this sync.
    pub rejected: Vec<LocalRejection>,
    /// Withdrawals of responses the server was told of.
    pub withdrawn: usize,
}

/// One round: build, send, take in. Returns the round's cost and the server's refusals.
pub fn sync_round(
    server: &Server,
    token: &str,
    engine: &mut ClientEngine,
) -> Result<(Round, bool, Vec<LocalRejection>)> {
    let (request, answer, elapsed) = loop {
        let request = encode_request(&engine.build_request(REQUEST_CHANGE_BYTES));
        let started = Instant::now();
        let path = format!("/v{}/sync", engine.protocol());
        match server.post_cbor(&path, token, &request) {
            Ok(answer) => break (request, answer, started.elapsed()),
            // A server older than this client has no route for its protocol: speak the older.
            Err(Error::Server { status: 404, .. }) if engine.use_older_protocol() => {}
            Err(other) => return Err(refused_token(other)),
        }
    };
    let response = decode_response(&answer, &REPLY_LIMITS).map_err(|e| Error::BadAnswer(e.to_string()))?;
    engine
        .apply_response(&response)
        .map_err(|e| Error::BadAnswer(e.to_string()))?;
    let rejected = response
        .rejected
        .iter()
        .map(|r| LocalRejection {
            id: r.id,
            code: r.code.clone(),
            message: r.message.clone(),
        })
        .collect();
    let round = Round {
        request_bytes: request.len(),
        response_bytes: answer.len(),
        elapsed,
    };
    Ok((round, response.reset, rejected))
}

/// A 401 as what the device must do about it (docs/protocol.md); other errors as they are.
fn refused_token(err: Error) -> Error {
    match err {
        Error::Server {
            status: 401, code, ..
        } => match code.as_str() {
            "expired" => Error::TokenExpired,
            "wiped" => Error::WipeRequested,
            _ => Error::Unauthorized,
        },
        other => other,
    }
}

/// Tells the server of every response withdrawn on this device (docs/protocol.md) and drops
/// each the server answered for: 200 (deleted, now or before) or 404 (it holds nothing of it
/// from this device, e.g. it was never sent). Returns how many were told.
pub fn send_withdrawals(server: &Server, token: &str, engine: &mut ClientEngine) -> Result<usize> {
    let dataset = engine.dataset();
    let withdrawals = engine.withdrawals().to_vec();
    for &id in &withdrawals {
        let path = format!("/v1/datasets/{dataset}/responses/{id}");
        match server.delete_json::<serde_json::Value>(&path, token) {
            Ok(_) | Err(Error::Server { status: 404, .. }) => engine.withdrawal_sent(id),
            Err(other) => return Err(refused_token(other)),
        }
    }
    Ok(withdrawals.len())
}

/// Syncs until the engine needs nothing more, calling `after_round` after each round that
/// the engine took in (the CLI saves its state there, so an interrupted sync keeps what was
/// acknowledged). There is always a first round, even with nothing to send: it is how a
/// device hears about new forms, new sites and other phones' tallies.
pub fn sync_until_done(
    server: &Server,
    token: &str,
    engine: &mut ClientEngine,
    max_rounds: usize,
    mut after_round: impl FnMut(&mut ClientEngine) -> Result<()>,
) -> Result<SyncOutcome> {
    let mut outcome = SyncOutcome {
        withdrawn: send_withdrawals(server, token, engine)?,
        ..SyncOutcome::default()
    };
    while outcome.rounds.is_empty() || engine.needs_sync() {
        if outcome.rounds.len() >= max_rounds {
            return Err(Error::SyncIncomplete {
                rounds: outcome.rounds.len(),
            });
        }
        let (round, reset, rejected) = sync_round(server, token, engine)?;
        outcome.rounds.push(round);
        outcome.reset |= reset;
        outcome.rejected.extend(rejected);
        after_round(engine)?;
    }
    Ok(outcome)
}
