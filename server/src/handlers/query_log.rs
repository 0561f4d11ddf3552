use axum::Json;
use axum::extract::State;

use crate::Result;
use crate::auth::Caller;
use crate::disclosure::query_log::LISTED;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::{QueryLogRecord, Role};

/// The aggregate and tally queries answered on a dataset, newest first: who asked what, and
/// when. Many near-identical queries about one small group are what an averaging attack
/// looks like.
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/query-log",
    summary = "The aggregate and tally queries answered on the dataset, newest first",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    responses((status = 200, description = "Token name, role, route, query, time", body = Vec<QueryLogRecord>))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<QueryLogRecord>>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    Ok(Json(state.storage.query_log(dataset, LISTED).await?))
}
