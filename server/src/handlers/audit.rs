//! The audit log, read back: who (the token's name and role) did what, on which dataset, which
//! day. Actions name what was done, never what was in it (no form content, no answers).

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::state::AppState;
use crate::storage::{AuditRecord, Role};
use crate::{ApiError, Result};

const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// One dataset's records only.
    dataset: Option<Uuid>,
    /// 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// `GET /v1/audit?dataset=&limit=`: the latest records, newest first. A limited admin reads
/// its dataset's only.
#[utoipa::path(
    get,
    path = "/v1/audit",
    summary = "The audit log, newest first",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(AuditQuery),
    responses((status = 200, description = "Actor, role, action, dataset, day", body = Vec<AuditRecord>))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<AuditRecord>>> {
    caller.require(&[Role::Admin])?;
    let query: AuditQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_request("bad_query", format!("the query string is malformed: {e}")))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    if let Some(dataset) = query.dataset {
        caller.require_dataset(dataset)?;
    }
    let dataset = query.dataset.or(caller.dataset);
    Ok(Json(state.storage.audit_log(dataset, limit).await?))
}
