//! One simulated phone: enrolled, given the forms and sites by a first sync, then offline it
//! collects its responses and bumps site tallies through sync-core's engine, exactly as the
//! CLI and the web app do; later it syncs everything in one go.

use std::collections::BTreeMap;

use sync_core::{ClientEngine, Day, DocKind, ResponseEdit};

use super::workload::{self, Rng};
use crate::http::Server;
use crate::sync::{MAX_ROUNDS, Round, sync_until_done};
use crate::{Error, Result, admin};

/// A phone between its offline work and its sync: the engine is kept as bytes, because
/// thousands of loaded Automerge documents would not fit in memory.
pub struct OfflinePhone {
    pub token: String,
    pub engine: Vec<u8>,
    /// (site code, metric) -> what this phone added.
    pub bumps: BTreeMap<(String, String), i64>,
}

/// What the phone's own plan is: which areas its responses go to, how many bumps.
pub struct Plan<'a> {
    pub code: &'a str,
    pub seed: u64,
    /// Index of the phone's first response among all responses, for the area rotation.
    pub first_response: u64,
    pub responses: u32,
    pub site_bumps: u32,
    /// Responses rotate over this many of the form's areas, so every aggregate cell stays at
    /// or above the dataset's k and nothing is suppressed.
    pub areas_used: usize,
    pub collected_on: Day,
}

/// Enrolls, fetches forms and sites, then works offline.
pub fn prepare(server: &Server, plan: &Plan<'_>) -> Result<OfflinePhone> {
    let enrolled = admin::enroll(server, plan.code)?;
    let mut engine = ClientEngine::new(enrolled.dataset, enrolled.epoch);
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
    let mut rng = Rng::new(plan.seed);
    let day = plan.collected_on.to_string();
    for j in 0..u64::from(plan.responses) {
        let area = workload::AREAS[((plan.first_response + j) % plan.areas_used as u64) as usize];
        let json = workload::answers_json(&form, &mut rng, area, &day);
        let edit = ResponseEdit::from_json(&form, &json).map_err(Error::Refused)?;
        engine.create_response(&form.id, &edit).map_err(Error::Refused)?;
    }
    let mut bumps = BTreeMap::new();
    for _ in 0..plan.site_bumps {
        let site = *rng.pick(workload::SITES);
        let metric = *rng.pick(workload::METRICS);
        let by = 1 + rng.below(3) as i64;
        engine
            .bump_tally(sites[site], metric, by)
            .map_err(Error::Refused)?;
        *bumps.entry((site.to_owned(), metric.to_owned())).or_insert(0) += by;
    }
    Ok(OfflinePhone {
        token: enrolled.token,
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
