//! A dataset's retention of submitted responses: how many days each is kept after the day the
//! server received it submitted, read with how many a setting would purge now (a dry run), and
//! set by an admin. The purge itself runs in the background (`crate::retention`).

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::{DatasetId, JsonBody};
use crate::retention::oldest_kept;
use crate::state::AppState;
use crate::storage::{Dataset, Role};
use crate::{ApiError, Result};

/// A hundred years: more is keeping for ever, which is what no setting (`null`) says.
pub const MAX_DAYS: i64 = 36_500;

/// Checks a retention setting as given in JSON: `null` (keep) or whole days in 1..=MAX_DAYS.
pub fn parse_days(value: &Value) -> Result<Option<i64>> {
    let invalid = || {
        ApiError::bad_request(
            "invalid",
            format!("days must be null (keep responses) or a whole number of days from 1 to {MAX_DAYS}"),
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(days) if (1..=MAX_DAYS).contains(&days) => Ok(Some(days)),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DryRunQuery {
    /// A setting being considered, in place of the dataset's own.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 36500)]
    days: Option<String>,
}

/// What a retention setting means today.
#[derive(Serialize, ToSchema)]
pub struct RetentionStatus {
    /// The dataset's setting; `null` keeps responses.
    days: Option<i64>,
    /// The setting `due` was counted for: `?days=` when given, else the dataset's own.
    counted_for: Option<i64>,
    /// Responses received submitted before this day would go (`null`: none would).
    oldest_kept: Option<String>,
    /// How many submitted responses that setting would purge now.
    due: u64,
}

/// `GET /v1/datasets/{id}/retention?days=`: the setting, and how many submitted responses it
/// (or `days`, a setting being considered) would purge now. Nothing is deleted.
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/retention",
    summary = "Retention dry run: the setting, and how many submitted responses it (or ?days) would purge now; deletes nothing",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset"), DryRunQuery),
    responses((status = 200, description = "The setting and what it would purge", body = RetentionStatus))
)]
pub async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    RawQuery(raw): RawQuery,
) -> Result<Json<RetentionStatus>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    let query: DryRunQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_request("bad_query", format!("the query string is malformed: {e}")))?;
    let found = state.storage.existing_dataset(dataset).await?;
    let counted_for = match query.days {
        None => found.retention_days,
        Some(text) => match text.parse::<i64>() {
            Ok(days) if (1..=MAX_DAYS).contains(&days) => Some(days),
            _ => {
                return Err(ApiError::bad_request(
                    "bad_query",
                    format!("days must be a whole number of days from 1 to {MAX_DAYS}"),
                ));
            }
        },
    };
    let today = state.clock.today();
    let oldest = counted_for.map(|days| oldest_kept(days, today));
    let due = match oldest {
        Some(day) => state.storage.count_submitted_before(dataset, day).await?,
        None => 0,
    };
    Ok(Json(RetentionStatus {
        days: found.retention_days,
        counted_for,
        oldest_kept: oldest.map(|d| d.to_string()),
        due,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionRequest {
    /// Days a submitted response is kept after the day it was received; `null` keeps them.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 36500)]
    days: Value,
}

/// `PUT /v1/datasets/{id}/retention {"days": 90 | null}`: the dataset as it now is. Responses
/// the new setting expires go at the next run of the purge, within the hour.
#[utoipa::path(
    put,
    path = "/v1/datasets/{id}/retention",
    summary = "Set how many days submitted responses are kept after the day they were received; a background task purges them after that",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    request_body = RetentionRequest,
    responses((status = 200, description = "The dataset as it now is", body = Dataset))
)]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    JsonBody(request): JsonBody<RetentionRequest>,
) -> Result<Json<Dataset>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    let days = parse_days(&request.days)?;
    let audit = caller.audit("set_retention", Some(dataset));
    state
        .storage
        .set_retention(dataset, days, &audit)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("dataset".into()))
}
