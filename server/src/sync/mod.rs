//! What `POST /v1/sync`, `POST /v2/sync` and `POST /v3/sync` do once the request is decoded
//! (their HTTP entry is `crate::handlers::sync`), protocols v1, v2 (v1, plus a reply
//! entry may carry the document saved whole) and v3 (v2 with tally documents and totals instead
//! of the shared sites' history; `docs/protocol.md` and sync-core's `protocol`): one stateless
//! CBOR round trip.
//!
//! The request is decoded and bounded by sync-core, then every mentioned document is
//! authorized, merged and validated on its own, and all the request's writes are committed
//! together, in one transaction shared with whichever requests are committing at the same
//! moment ([`merge::merge_and_store`], [`crate::storage::group_commit`]). Documents the
//! device may read but did not mention are added, paged by a byte budget. The reply is encoded
//! only after every write has committed, so whatever it acknowledges survives a crash.
//!
//! A v3 device's reads of the responses it holds as stored are answered by nothing, and so
//! are its reads of the forms and sites it holds (they do not
//! change for it) and its reply carries the sites' totals, when they moved since the ones it
//! holds ([`totals`]); before a v1 or v2
//! device is answered, what tally documents counted since is added to the shared sites it
//! reads ([`fold`]).

mod authorization;
mod checks;
mod context;
mod fold;
pub mod hot_sites;
mod lookup;
pub(crate) mod materialize;
mod merge;
mod quarantine;
mod refusal;
mod shared;
pub mod site_locks;
mod totals;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sync_core::{DocEntry, DocKind, SyncRequest, SyncResponse, TALLY_DOCUMENTS_SINCE};
use uuid::Uuid;

use crate::aggregates::cache::AggregateCache;
use crate::auth::DeviceCaller;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::settings::SyncSettings;
use crate::storage::group_commit::GroupCommit;
use crate::storage::{Dataset, Storage};
use crate::{ApiError, Result};

/// What the sync step uses of the server, borrowed from its state for one request: the storage
/// and its commit queue, the site locks and loaded sites, the settings, the clock, the metrics
/// and the analysts' table cache. Named here, so this module does not depend on how the
/// server's state is put together (the state holds this module's caches).
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub storage: &'a Arc<dyn Storage>,
    pub group_commit: &'a Arc<GroupCommit>,
    pub site_locks: &'a Arc<site_locks::SiteLocks>,
    pub hot_sites: &'a Arc<hot_sites::HotSites>,
    pub sync: &'a SyncSettings,
    pub clock: &'a Clock,
    pub metrics: &'a Arc<Metrics>,
    /// Told which documents each commit wrote, so analysts' tables re-read only those.
    pub aggregates: &'a Arc<AggregateCache>,
}

/// One decoded request, answered in its protocol version: what the endpoint
/// (`crate::handlers::sync`) does between the bytes in and the bytes out (also driven directly
/// by `survey-bench-ingest`).
pub async fn answer(
    state: &Services<'_>,
    device: &DeviceCaller,
    request: &SyncRequest,
) -> Result<SyncResponse> {
    if request.dataset != device.dataset {
        return Err(ApiError::Forbidden(
            "this device is enrolled in another dataset".into(),
        ));
    }
    let dataset = state.storage.existing_dataset(device.dataset).await?;
    if request.epoch == epoch_of(&dataset) {
        exchange(state, device, &dataset, request).await
    } else {
        // A trainer reset the dataset: apply nothing, tell the device to start over.
        Ok(reply(request.v, &dataset, true))
    }
}

/// The per-request work: every mentioned document, then the unmentioned ones.
async fn exchange(
    state: &Services<'_>,
    device: &DeviceCaller,
    dataset: &Dataset,
    request: &SyncRequest,
) -> Result<SyncResponse> {
    let mut context = context::SyncContext {
        state,
        device,
        epoch: dataset.epoch,
        protocol: request.v,
        forms: HashMap::new(),
        sites: HashMap::new(),
    };
    let v3 = request.v >= TALLY_DOCUMENTS_SINCE;
    if !v3 {
        fold::add_device_tallies_to_sites(&context).await?;
    }
    let shared = state.storage.shared_documents(dataset.id).await?;
    let mut answer = reply(request.v, dataset, false);
    let mut mentioned = HashSet::with_capacity(request.docs.len());
    // The same document twice in one request: the first mention is answered.
    let mut unique: Vec<&DocEntry> = request.docs.iter().filter(|e| mentioned.insert(e.id)).collect();
    if v3 {
        // Forms never change and a v3 device counts sites from totals: a read of one it holds
        // needs no answer, unless the server lacks it.
        let held: HashSet<Uuid> = shared.iter().map(|s| s.id).collect();
        unique.retain(|entry| {
            let shared_read = entry.changes.is_empty() && matches!(entry.kind, DocKind::Form | DocKind::Site);
            if shared_read && !held.contains(&entry.id) {
                answer.need_all.push(entry.id);
            }
            !shared_read
        });
    }
    // Over v3 a read answered by the very heads the device named tells it nothing (a response
    // it holds as stored): left out, so a reply does not grow with the responses a phone holds.
    let unanswered_reads: HashMap<Uuid, Vec<sync_core::ChangeHash>> = if v3 {
        unique
            .iter()
            .filter(|e| e.changes.is_empty())
            .map(|e| (e.id, sorted(e.head_hashes())))
            .collect()
    } else {
        HashMap::new()
    };
    let outcomes = merge::merge_and_store(&mut context, unique).await?;
    for outcome in outcomes {
        match outcome {
            merge::Outcome::Reply(doc)
                if doc.changes.is_empty()
                    && doc.state.is_none()
                    && unanswered_reads.get(&doc.id) == Some(&sorted(doc.head_hashes())) => {}
            merge::Outcome::Reply(doc) => answer.docs.push(doc),
            merge::Outcome::NeedAll(id) => answer.need_all.push(id),
            merge::Outcome::Rejected(rejection) => {
                state.metrics.count_rejection(&rejection.code);
                answer.rejected.push(rejection);
            }
            merge::Outcome::Reset => {
                // A reset landed mid-request: what this request wrote is gone with the reset,
                // and the device must start over like any stale one.
                let current = state.storage.dataset(dataset.id).await?;
                return Ok(reply(request.v, current.as_ref().unwrap_or(dataset), true));
            }
        }
    }
    let (unmentioned, more) = shared::unmentioned_documents(&context, &shared, &mentioned).await?;
    answer.docs.extend(unmentioned);
    answer.more = more;
    if v3 {
        let seen = request.totals_seen.map(|digest| digest.into_array());
        answer.totals = totals::for_device(&context, seen).await?;
    }
    Ok(answer)
}

fn sorted(mut heads: Vec<sync_core::ChangeHash>) -> Vec<sync_core::ChangeHash> {
    heads.sort_unstable();
    heads
}

fn reply(version: u64, dataset: &Dataset, reset: bool) -> SyncResponse {
    SyncResponse {
        v: version,
        epoch: epoch_of(dataset),
        reset,
        docs: Vec::new(),
        rejected: Vec::new(),
        need_all: Vec::new(),
        more: false,
        totals: None,
    }
}

fn epoch_of(dataset: &Dataset) -> u64 {
    u64::try_from(dataset.epoch).unwrap_or(0)
}
