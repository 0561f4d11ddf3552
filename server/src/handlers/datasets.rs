use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::check_label;
use crate::auth::Caller;
use crate::extract::{DatasetId, JsonBody};
use crate::router::AppState;
use crate::storage::{Dataset, Mode, Role};
use crate::{ApiError, Result};

/// The disclosure threshold used by the Counter Trafficking Data Collaborative.
pub const DEFAULT_K: i64 = 11;
/// Below this, small cells identify people too easily whatever the setting.
const MIN_K: i64 = 5;
const MAX_K: i64 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDataset {
    name: String,
    mode: Mode,
    k: Option<i64>,
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
    let dataset = create_dataset(&state, &caller, &body.name, body.mode, body.k).await?;
    Ok((StatusCode::CREATED, Json(dataset)))
}

/// Creates a dataset (also used by `serve --demo`).
pub async fn create_dataset(
    state: &AppState,
    caller: &Caller,
    name: &str,
    mode: Mode,
    k: Option<i64>,
) -> Result<Dataset> {
    check_label("name", name, 200)?;
    let k = k.unwrap_or(DEFAULT_K);
    if !(MIN_K..=MAX_K).contains(&k) {
        return Err(ApiError::bad_request(
            "invalid",
            format!("k must be between {MIN_K} and {MAX_K}"),
        ));
    }
    let dataset = Dataset {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        mode,
        k,
        epoch: 1,
    };
    state
        .storage
        .create_dataset(&dataset, &caller.audit("create_dataset", Some(dataset.id)))
        .await?;
    Ok(dataset)
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Dataset>>> {
    caller.require(&[Role::Admin, Role::Analyst, Role::Trainer])?;
    let mut datasets = state.storage.datasets().await?;
    if let Some(own) = caller.dataset {
        datasets.retain(|d| d.id == own);
    }
    Ok(Json(datasets))
}

/// Resets a demo dataset: its response and site documents go, its epoch moves on so trainee
/// phones drop what they hold. The body (`{ seed, responses }`) must be a JSON object; seeding
/// synthetic responses from it arrives with the demo generator, until then `responses` in the
/// answer is 0.
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
    let dataset = state
        .storage
        .dataset(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("dataset".into()))?;
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

/// `DELETE /v1/datasets/{id}`: the dataset and every row of it go, for good. A live dataset's
/// name must be given again (`?confirm=<name>`), since a wrong id in a script would otherwise
/// erase a survey; a demo dataset holds practice data only. Its phones are told to wipe at
/// their next request (401 `wiped`).
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
    let dataset = state
        .storage
        .dataset(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("dataset".into()))?;
    if dataset.mode == Mode::Live && query.confirm.as_deref() != Some(dataset.name.as_str()) {
        return Err(ApiError::bad_request(
            "confirm_name",
            "a live dataset is purged only when its name is given as ?confirm=<name>",
        ));
    }
    let audit = caller.audit("purge_dataset", Some(id));
    let responses = state
        .storage
        .purge_dataset(id, crate::retention::today(), &audit)
        .await?;
    state.aggregates.forget(id);
    Ok(Json(json!({ "id": id, "purged": true, "responses": responses })))
}
