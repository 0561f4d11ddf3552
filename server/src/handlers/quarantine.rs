use axum::Json;
use axum::extract::State;

use super::forms::ensure_dataset;
use crate::Result;
use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::router::AppState;
use crate::storage::{QuarantineSummary, Role};

/// What sync refused for a dataset, for an admin to look into (without the bytes).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<QuarantineSummary>>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    ensure_dataset(&state, dataset).await?;
    Ok(Json(state.storage.quarantined(dataset).await?))
}
