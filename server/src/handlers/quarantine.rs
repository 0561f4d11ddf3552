use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::Result;
use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::{QuarantineSummary, Role};

/// What sync refused for a dataset, for an admin to look into: code, size, hash and day of
/// each, and the refusal message where one was kept (never the bytes).
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
pub async fn purge(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Value>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    let audit = caller.audit("purge_quarantine", Some(dataset));
    let purged = state.storage.purge_quarantine(dataset, &audit).await?;
    Ok(Json(json!({ "purged": purged })))
}
