use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::Result;
use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::{QuarantineSummary, Role};

/// What sync refused for a dataset, for an admin to look into: code, size, hash and day of
/// each, and the refusal message where one was kept (never the bytes).
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/quarantine",
    summary = "Documents refused by sync: code, size, SHA-256, day, and the message where kept",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    responses((status = 200, description = "The quarantine records", body = Vec<QuarantineSummary>))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<QuarantineSummary>>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    Ok(Json(state.storage.quarantined(dataset).await?))
}

/// Deletes every quarantine record of a dataset now, without waiting for the retention: for
/// an admin who has looked into them, or who finds something there that must go. The audit
/// log says who purged which dataset, and nothing of what was purged.
#[utoipa::path(
    delete,
    path = "/v1/datasets/{id}/quarantine",
    summary = "Purge the dataset's quarantine records now",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    responses((status = 200, description = "How many records went", body = QuarantinePurged))
)]
pub async fn purge(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<QuarantinePurged>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    let audit = caller.audit("purge_quarantine", Some(dataset));
    let purged = state.storage.purge_quarantine(dataset, &audit).await?;
    Ok(Json(QuarantinePurged { purged }))
}

#[derive(Serialize, ToSchema)]
pub struct QuarantinePurged {
    purged: u64,
}
