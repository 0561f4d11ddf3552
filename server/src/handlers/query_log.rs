use axum::Json;
use axum::extract::State;

use super::forms::ensure_dataset;
use crate::Result;
use crate::auth::Caller;
use crate::disclosure::query_log::LISTED;
use crate::extract::DatasetId;
use crate::router::AppState;
use crate::storage::{QueryLogRecord, Role};

/// The aggregate and tally queries answered on a dataset, newest first: who asked what, and
/// when. Many near-identical queries about one small group are what an averaging attack
/// looks like.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<QueryLogRecord>>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    ensure_dataset(&state, dataset).await?;
    Ok(Json(state.storage.query_log(dataset, LISTED).await?))
}
