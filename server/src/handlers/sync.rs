//! `POST /v1/sync`, `/v2/sync` and `/v3/sync`: the CBOR body read under the size limit and
//! decoded by sync-core, answered by [`crate::sync::answer`].

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use sync_core::{Limits, decode_request, encode_response};

use crate::auth::DeviceCaller;
use crate::state::AppState;
use crate::sync::answer;
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
