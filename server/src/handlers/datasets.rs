use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::{DatasetId, JsonBody};
use crate::state::AppState;
use crate::storage::{Dataset, Mode, Role};
use crate::{ApiError, Result, datasets};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDataset {
    name: String,
    mode: Mode,
    /// The smallest count an aggregate shows; the server's default when left out.
    k: Option<i64>,
    /// Days submitted responses are kept; left out or `null` keeps them.
    #[serde(default)]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 36500)]
    retention_days: Value,
}

#[utoipa::path(
    post,
    path = "/v1/datasets",
    summary = "Create a dataset",
    extensions(("x-roles" = json!([Role::Admin]))),
    request_body = NewDataset,
    responses((status = 201, description = "Created", body = Dataset))
)]
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

#[utoipa::path(
    get,
    path = "/v1/datasets",
    summary = "List datasets",
    extensions(("x-roles" = json!([Role::Admin, Role::Analyst, Role::Trainer, Role::Supervisor]))),
    responses((status = 200, description = "The datasets the token may see", body = Vec<Dataset>))
)]
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
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    seed: u64,
    responses: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ResetDone {
    /// The dataset's new epoch: phones holding the old one drop their documents.
    epoch: i64,
    /// How many synthetic responses were generated.
    responses: u64,
}

#[utoipa::path(
    post,
    path = "/v1/datasets/{id}/reset",
    summary = "Reset a demo dataset",
    extensions(("x-roles" = json!([Role::Admin, Role::Trainer]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    request_body = ResetRequest,
    responses(
        (status = 200, description = "Reset", body = ResetDone),
        (status = 409, description = "`not_demo`: a live dataset", body = ErrorBody)
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(id): DatasetId,
    JsonBody(request): JsonBody<ResetRequest>,
) -> Result<Json<ResetDone>> {
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
    Ok(Json(ResetDone { epoch, responses }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PurgeQuery {
    /// A live dataset's name, to show the purge is meant.
    confirm: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Purged {
    id: Uuid,
    /// Always `true`.
    purged: bool,
    /// How many responses went with it.
    responses: u64,
}

/// `DELETE /v1/datasets/{id}?confirm=<name>`: the dataset and every row of it go, for good
/// ([`datasets::purge_dataset`]).
#[utoipa::path(
    delete,
    path = "/v1/datasets/{id}",
    summary = "Purge a dataset and everything in it; its phones get 401 wiped",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset"), PurgeQuery),
    responses((status = 200, description = "Purged", body = Purged))
)]
pub async fn purge(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(id): DatasetId,
    RawQuery(raw): RawQuery,
) -> Result<Json<Purged>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(id)?;
    let query: PurgeQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_request("bad_query", format!("the query string is malformed: {e}")))?;
    let audit = caller.audit("purge_dataset", Some(id));
    let responses = datasets::purge_dataset(&state, id, query.confirm.as_deref(), &audit).await?;
    Ok(Json(Purged {
        id,
        purged: true,
        responses,
    }))
}
