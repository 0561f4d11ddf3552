//! One simulated phone: enrolled, given the forms and sites by a first sync, then offline it
//! collects its responses and bumps site tallies through sync-core's engine, exactly as the
//! CLI and the web app do; later it syncs everything in one go.

use std::collections::BTreeMap;

use sync_core::{ClientEngine, DocKind};

use crate::http::Server;
use crate::sync::{MAX_ROUNDS, Round, sync_until_done};
use crate::{Error, Result, admin};
use survey_workload::{self as workload, Plan};

/// A phone between its offline work and its sync: the engine is kept as bytes, because
/// thousands of loaded Automerge documents would not fit in memory.
pub struct OfflinePhone {
    pub token: String,
    /// The sync protocol it speaks (not part of the saved engine).
    pub protocol: u64,
    pub engine: Vec<u8>,
    /// (site code, metric) -> what this phone added.
    pub bumps: BTreeMap<(String, String), i64>,
}

/// Enrolls with `code`, fetches forms and sites, then works offline.
pub fn prepare(server: &Server, code: &str, plan: &Plan, protocol: u64) -> Result<OfflinePhone> {
    let enrolled = admin::enroll(server, code)?;
    let mut engine = ClientEngine::new(enrolled.dataset, enrolled.epoch);
    engine.set_protocol(protocol).map_err(Error::Refused)?;
    sync_until_done(server, &enrolled.token, &mut engine, MAX_ROUNDS, |_| Ok(()))?;
    let form = engine
        .form(workload::FORM_ID, None)
        .map_err(|e| Error::LoadTest(format!("a phone did not receive the load test form: {e}")))?;
    let sites: BTreeMap<String, uuid::Uuid> = engine
        .sites()
        .into_iter()
        .map(|(id, view)| (view.site, id))
        .collect();
    if sites.len() != workload::SITES.len() {
        return Err(Error::LoadTest(format!(
            "a phone received {} sites, expected {}",
            sites.len(),
            workload::SITES.len()
        )));
    }
    let bumps = workload::work_offline(&mut engine, &form, &sites, plan).map_err(Error::Refused)?;
    Ok(OfflinePhone {
        token: enrolled.token,
        protocol,
        engine: engine.save(),
        bumps,
    })
}

/// What one phone's sync cost, and whether the server took everything.
pub struct Synced {
    pub rounds: Vec<Round>,
    pub responses_acknowledged: u64,
}

/// The phone comes back into coverage and syncs until it has nothing left to send.
pub fn sync(server: &Server, phone: &OfflinePhone) -> Result<Synced> {
    let mut engine = ClientEngine::load(&phone.engine).map_err(Error::Refused)?;
    engine.set_protocol(phone.protocol).map_err(Error::Refused)?;
    let outcome = sync_until_done(server, &phone.token, &mut engine, MAX_ROUNDS, |_| Ok(()))?;
    if let Some(refused) = outcome.rejected.first() {
        return Err(Error::Verification(format!(
            "the server refused document {} ({}): {}",
            refused.id, refused.code, refused.message
        )));
    }
    let pending = engine.pending_count();
    if pending > 0 {
        return Err(Error::Verification(format!(
            "{pending} documents were not acknowledged"
        )));
    }
    Ok(Synced {
        rounds: outcome.rounds,
        responses_acknowledged: engine.document_ids(DocKind::Response).len() as u64,
    })
}
