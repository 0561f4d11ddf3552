//! `POST /v1/sync`, `POST /v2/sync` and `POST /v3/sync`, protocols v1, v2 (v1, plus a reply
//! entry may carry the document saved whole) and v3 (v2 with tally documents and totals instead
//! of the shared sites' history; `docs/protocol.md` and sync-core's `protocol`): one stateless
//! CBOR round trip.
//!
//! The request is decoded and bounded by sync-core, then every mentioned document is
//! authorized, merged and validated on its own, and all the request's writes are committed
//! together, in one transaction shared with whichever requests are committing at the same
//! moment ([`document::merge_and_store`], [`crate::storage::group_commit`]). Documents the
//! device may read but did not mention are added, paged by a byte budget. The reply is encoded
//! only after every write has committed, so whatever it acknowledges survives a crash.
//!
//! A v3 device's reads of the responses it holds as stored are answered by nothing, and so
//! are its reads of the forms and sites it holds (they do not
//! change for it) and its reply carries the sites' totals, when they moved since the ones it
//! holds ([`totals`]); before a v1 or v2
//! device is answered, what tally documents counted since is added to the shared sites it
//! reads ([`fold`]).

mod document;
mod fold;
pub mod hot_sites;
pub(crate) mod materialize;
mod quarantine;
mod shared;
pub(crate) mod site_locks;
mod totals;

use std::collections::{HashMap, HashSet};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use sync_core::{
    DocEntry, DocKind, Form, Limits, SyncRequest, SyncResponse, TALLY_DOCUMENTS_SINCE, decode_request,
    encode_response,
};
use uuid::Uuid;

use crate::auth::DeviceCaller;
use crate::state::AppState;
use crate::storage::{Dataset, SiteMetrics};
use crate::{ApiError, Result};

pub const CBOR: &str = "application/cbor";

/// `POST /v{VERSION}/sync`: takes bodies of that protocol version only.
pub async fn sync<const VERSION: u64>(
    State(state): State<AppState>,
    device: DeviceCaller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    state.metrics.count_sync_request();
    let bytes = read_cbor_body(&headers, body, state.sync.max_body_bytes).await?;
    // The body limit already bounds memory; sync-core's per-field defaults would refuse
    // legitimate requests (a single change of a large document, or a site bumped concurrently
    // by more than 64 phones, which has that many heads).
    let limits = Limits {
        max_change_bytes: state.sync.max_body_bytes,
        max_heads: state.sync.max_body_bytes / 32,
        ..Limits::default()
    };
    let request = decode_request(&bytes, &limits)?;
    if request.v != VERSION {
        return Err(sync_core::Error::UnsupportedVersion(request.v).into());
    }
    let reply = answer(&state, &device, &request).await?;
    Ok(([(CONTENT_TYPE, CBOR)], encode_response(&reply)).into_response())
}

/// One decoded request, answered in its protocol version: what the endpoint does between the
/// bytes in and the bytes out (also driven directly by `survey-server bench-ingest`).
pub async fn answer(state: &AppState, device: &DeviceCaller, request: &SyncRequest) -> Result<SyncResponse> {
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

/// Reads the body after checking its type and size. Any failure while reading (a body over the
/// limit, or a client that went away mid-body) ends as 413: the only one that can still read
/// the answer is the client that sent too much.
async fn read_cbor_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(CBOR) {
        return Err(ApiError::UnsupportedMediaType(CBOR));
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::TooLarge);
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge)
}

/// The per-request work: every mentioned document, then the unmentioned ones.
async fn exchange(
    state: &AppState,
    device: &DeviceCaller,
    dataset: &Dataset,
    request: &SyncRequest,
) -> Result<SyncResponse> {
    let mut context = document::SyncContext {
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
    let outcomes = document::merge_and_store(&mut context, unique).await?;
    for outcome in outcomes {
        match outcome {
            document::Outcome::Reply(doc)
                if doc.changes.is_empty()
                    && doc.state.is_none()
                    && unanswered_reads.get(&doc.id) == Some(&sorted(doc.head_hashes())) => {}
            document::Outcome::Reply(doc) => answer.docs.push(doc),
            document::Outcome::NeedAll(id) => answer.need_all.push(id),
            document::Outcome::Rejected(rejection) => {
                state.metrics.count_rejection(&rejection.code);
                answer.rejected.push(rejection);
            }
            document::Outcome::Reset => {
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

/// Form versions parsed once per request, by (form id, version); `None` when not published.
type FormCache = HashMap<(String, i64), Option<Form>>;

/// Sites tally documents count for, looked up once per request; `None` when not stored.
type SiteCache = HashMap<Uuid, Option<SiteMetrics>>;
