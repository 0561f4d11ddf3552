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

/// The route of one protocol version, described for the OpenAPI document with the CBOR
/// schemas `super::openapi` writes by hand.
macro_rules! sync_route {
    ($name:ident, $version:tt, $path:tt, $summary:tt) => {
        #[utoipa::path(
            post,
            path = $path,
            summary = $summary,
            extensions(("x-roles" = json!([crate::storage::Role::Device]))),
            request_body(content = ref("#/components/schemas/SyncRequest"), content_type = "application/cbor"),
            responses((status = 200, description = "Sync response", content_type = "application/cbor", body = ref("#/components/schemas/SyncResponse")))
        )]
        pub async fn $name(
            state: State<AppState>,
            device: DeviceCaller,
            headers: HeaderMap,
            body: Body,
        ) -> Result<Response> {
            sync::<$version>(state, device, headers, body).await
        }
    };
}

sync_route!(sync_v1, 1, "/v1/sync", "Sync protocol v1 (CBOR both ways)");
sync_route!(
    sync_v2,
    2,
    "/v2/sync",
    "Sync protocol v2: v1, and a reply entry may carry the document saved whole as `state`"
);
sync_route!(
    sync_v3,
    3,
    "/v3/sync",
    "Sync protocol v3: v2 with a device's own `tally` documents, and `totals` per site in the reply"
);

/// `POST /v{VERSION}/sync`: takes bodies of that protocol version only.
async fn sync<const VERSION: u64>(
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
    let reply = answer(&state.sync_services(), &device, &request).await?;
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
