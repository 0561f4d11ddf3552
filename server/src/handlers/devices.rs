//! The phones of a dataset, for an admin: which exist, when each enrolled and last synced, how
//! much each sent; and withdrawing one that was lost or seized.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{DatasetId, DeviceId, OptionalJsonBody};
use crate::state::AppState;
use crate::storage::{DeviceSummary, Role};
use crate::{ApiError, Result, clock};

/// The dataset's devices by label (days only, never an address).
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/devices",
    summary = "The dataset's devices",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    responses((status = 200, description = "Label, enrollment and last sync days, documents sent, revocation", body = Vec<DeviceSummary>))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<DeviceSummary>>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    state.usage.flush(state.storage.as_ref()).await?;
    Ok(Json(state.storage.devices(dataset).await?))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The phone deletes the dataset's documents at its next request.
    #[serde(default)]
    wipe: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    id: Uuid,
    /// Always `true`.
    revoked: bool,
    wipe: bool,
}

/// Withdraws a device: every token it holds stops at its next request, on every replica. With
/// `wipe`, that request is answered 401 `wiped`, which tells our clients to delete every
/// document of the dataset they hold (docs/protocol.md). What it sent stays on the server.
/// A wipe cannot be taken back, and a withdrawn device cannot enroll again as itself.
#[utoipa::path(
    post,
    path = "/v1/devices/{id}/revoke",
    summary = "Withdraw a device: its tokens get 401 revoked, or 401 wiped (the phone deletes the dataset's documents)",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The device")),
    request_body(content = Option<RevokeRequest>, description = "May be left out: no wipe", content_type = "application/json"),
    responses((status = 200, description = "Withdrawn", body = Revoked))
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    DeviceId(device): DeviceId,
    OptionalJsonBody(request): OptionalJsonBody<RevokeRequest>,
) -> Result<Json<Revoked>> {
    caller.require(&[Role::Admin])?;
    let dataset = state
        .storage
        .device_dataset(device)
        .await?
        .ok_or_else(|| ApiError::NotFound("device".into()))?;
    // A limited admin is not told that devices of other datasets exist.
    if caller.dataset.is_some_and(|own| own != dataset) {
        return Err(ApiError::NotFound("device".into()));
    }
    let action = if request.wipe {
        "revoke_device:wipe"
    } else {
        "revoke_device"
    };
    let audit = caller.audit(action, Some(dataset));
    state
        .storage
        .revoke_device(device, request.wipe, clock::today(), &audit)
        .await?;
    Ok(Json(Revoked {
        id: device,
        revoked: true,
        wipe: request.wipe,
    }))
}
