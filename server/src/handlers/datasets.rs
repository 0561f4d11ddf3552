use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::extract::{DatasetId, JsonBody};
use crate::state::AppState;
use crate::storage::{Dataset, Mode, Role};
use crate::{ApiError, Result, datasets};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDataset {
    name: String,
    mode: Mode,
    k: Option<i64>,
    /// Days submitted responses are kept; left out or `null` keeps them.
    #[serde(default)]
    retention_days: Value,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewDataset>,
) -> Result<(StatusCode, Json<Dataset>)> {
    caller.require(&[Role::Admin])?;
    if caller.dataset.is_some() {
        return Err(ApiError::Forbidden(
            "a token limited to one dataset cannot create datasets".into(),
        ));
    }
    let retention_days = super::retention::parse_days(&body.retention_days)?;
    let audit = caller.audit("create_dataset", None);
    let dataset = datasets::create_dataset(
        state.storage.as_ref(),
        &body.name,
        body.mode,
        body.k,
        retention_days,
        audit,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dataset)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Dataset>>> {
    caller.require(&[Role::Admin, Role::Analyst, Role::Trainer, Role::Supervisor])?;
    let mut datasets = state.storage.datasets().await?;
    if let Some(own) = caller.dataset {
        datasets.retain(|d| d.id == own);
    }
    Ok(Json(datasets))
}

/// Resets a demo dataset: its response and site documents go, its epoch moves on so trainee
/// phones drop what they hold, and `responses` synthetic responses generated from `seed` take
/// their place (`crate::demo`). The body (`{ seed, responses }`) must be a JSON object.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    seed: u64,
    responses: u64,
}

pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(id): DatasetId,
    JsonBody(request): JsonBody<ResetRequest>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Admin, Role::Trainer])?;
    caller.require_dataset(id)?;
    let dataset = state.storage.existing_dataset(id).await?;
    if dataset.mode != Mode::Demo {
        return Err(ApiError::Conflict {
            code: "not_demo",
            message: "only a demo dataset can be reset".into(),
        });
    }
    let audit = caller.audit("reset", Some(id));
    let (epoch, responses) = crate::demo::reset::reset_with_seed(
        &state,
        &dataset,
        request.seed,
        request.responses,
        &audit,
        Default::default(),
    )
    .await?;
    Ok(Json(json!({ "epoch": epoch, "responses": responses })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PurgeQuery {
    confirm: Option<String>,
}

/// `DELETE /v1/datasets/{id}?confirm=<name>`: the dataset and every row of it go, for good
/// ([`datasets::purge_dataset`]).
pub async fn purge(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(id): DatasetId,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(id)?;
    let query: PurgeQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_request("bad_query", format!("the query string is malformed: {e}")))?;
    let audit = caller.audit("purge_dataset", Some(id));
    let responses = datasets::purge_dataset(&state, id, query.confirm.as_deref(), &audit).await?;
    Ok(Json(json!({ "id": id, "purged": true, "responses": responses })))
}
