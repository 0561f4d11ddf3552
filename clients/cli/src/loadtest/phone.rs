//! One simulated phone: enrolled and given the forms and sites by a first sync; then, day after
//! day, offline it collects its share of responses and bumps site tallies through sync-core's
//! engine, exactly as the CLI and the web app do, and syncs everything in one go in the evening.

use std::collections::BTreeMap;

use sync_core::{ClientEngine, DocKind};

use crate::http::Server;
use crate::sync::{MAX_SYNC_ROUNDS, Round, sync_until_done};
use crate::{Error, Result, admin};
use survey_workload::{self as workload, Bumps, Plan};

/// A phone between syncs: the engine is kept as bytes, because thousands of loaded Automerge
/// documents would not fit in memory.
pub struct Phone {
    pub token: String,
    /// The sync protocol it speaks (not part of the saved engine).
    pub protocol: u64,
    pub engine: Vec<u8>,
    /// Site code -> site document.
    sites: BTreeMap<String, uuid::Uuid>,
}

/// Enrolls with `code` and fetches forms and sites.
pub fn enroll(server: &Server, code: &str, protocol: u64) -> Result<Phone> {
    let enrolled = admin::enroll(server, code)?;
    let mut engine = ClientEngine::new(enrolled.dataset, enrolled.epoch);
    engine.set_protocol(protocol).map_err(Error::Refused)?;
    sync_until_done(server, &enrolled.token, &mut engine, MAX_SYNC_ROUNDS, |_| Ok(()))?;
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
    Ok(Phone {
        token: enrolled.token,
        protocol,
        engine: engine.save(),
        sites,
    })
}

impl Phone {
    fn engine(&self) -> Result<ClientEngine> {
        let mut engine = ClientEngine::load(&self.engine).map_err(Error::Refused)?;
        engine.set_protocol(self.protocol).map_err(Error::Refused)?;
        Ok(engine)
    }

    /// A day offline: the plan's responses and bumps. Returns what it added to each tally.
    pub fn work_offline(&mut self, plan: &Plan) -> Result<Bumps> {
        let mut engine = self.engine()?;
        let form = engine
            .form(workload::FORM_ID, None)
            .map_err(|e| Error::LoadTest(format!("a phone did not receive the load test form: {e}")))?;
        let bumps = workload::work_offline(&mut engine, &form, &self.sites, plan).map_err(Error::Refused)?;
        self.engine = engine.save();
        Ok(bumps)
    }

    /// Back in coverage: syncs until it has nothing left to send.
    pub fn sync(&mut self, server: &Server) -> Result<Synced> {
        let mut engine = self.engine()?;
        let outcome = sync_until_done(server, &self.token, &mut engine, MAX_SYNC_ROUNDS, |_| Ok(()))?;
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
        let synced = Synced {
            rounds: outcome.rounds,
            responses: engine.document_ids(DocKind::Response).len() as u64,
        };
        self.engine = engine.save();
        Ok(synced)
    }

    /// Syncs once more and compares every tally the phone shows with `expected`.
    pub fn check_tallies(&mut self, server: &Server, expected: &Bumps) -> std::result::Result<(), String> {
        self.sync(server)
            .map_err(|e| format!("a phone could not sync to check its tallies: {e}"))?;
        let engine = self.engine().map_err(|e| e.to_string())?;
        tallies_match(&engine, expected)
    }
}

/// Whether every site `engine` shows has each tally equal to what the phones added.
pub fn tallies_match(engine: &ClientEngine, expected: &Bumps) -> std::result::Result<(), String> {
    let mut seen: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (_, view) in engine.sites() {
        if seen.insert(view.site.clone(), view.tallies).is_some() {
            return Err(format!("site {:?} exists twice", view.site));
        }
    }
    for site in workload::SITES {
        let tallies = seen
            .get(*site)
            .ok_or_else(|| format!("site {site:?} did not reach the phone"))?;
        for metric in workload::METRICS {
            let want = expected
                .get(&((*site).to_owned(), (*metric).to_owned()))
                .copied()
                .unwrap_or(0);
            let got = tallies.get(*metric).copied().unwrap_or(0);
            if got != want {
                return Err(format!(
                    "site {site:?} tally {metric:?} is {got}, the phones added {want}"
                ));
            }
        }
    }
    Ok(())
}

/// What one phone's sync cost, and how many responses it holds acknowledged.
pub struct Synced {
    pub rounds: Vec<Round>,
    pub responses: u64,
}
