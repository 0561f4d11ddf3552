//! `GET /v1/datasets/{id}/aggregates` (`crate::aggregates`), and the table answers the
//! analysts' routes share: JSON, or CSV for a client that accepts it.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::aggregates::{AggregateTable, csv};
use crate::auth::Caller;
use crate::disclosure::query_log;
use crate::error::ErrorBody;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::Role;
use crate::{ApiError, Result};

/// `GET /v1/datasets/{id}/aggregates?form=F&by=..&where=q=v&from=D&to=D&metric=..`
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/aggregates",
    summary = "Aggregates: every combination and its totals (key `*`), counts perturbed by cell key, those under k suppressed",
    description = "At most 3 dimensions, filters, date windows and review=approved (only responses a supervisor approved) together; 500 queries a token a day.",
    extensions(("x-roles" = json!([Role::Admin, Role::Analyst]))),
    params(
        ("id" = Uuid, Path, description = "The dataset"),
        ("form" = String, Query, description = "The form"),
        ("by" = Option<String>, Query, description = "1 to 3 dimensions, comma-separated"),
        ("where" = Option<String>, Query, description = "A filter `question=value`; may repeat"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD"),
        ("metric" = Option<String>, Query, description = "`count` (default), or `mean:q` for a likert question or a score"),
        ("review" = Option<String>, Query, description = "`approved`: only responses a supervisor approved"),
    ),
    responses(
        (status = 200, description = "The table; as CSV when the client accepts text/csv", content(
            (AggregateTable = "application/json"),
            (String = "text/csv"),
        )),
        (status = 429, description = "`query_budget`: the token's queries for today are spent", body = ErrorBody)
    )
)]
pub async fn aggregates(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(id): DatasetId,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    caller.require(&[Role::Admin, Role::Analyst])?;
    caller.require_dataset(id)?;
    let dataset = state.storage.existing_dataset(id).await?;
    let raw = raw.unwrap_or_default();
    let pairs = query_pairs(&raw)?;
    let form_id = pairs
        .iter()
        .find(|(k, _)| k == "form")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| ApiError::bad_request("bad_query", "`form` is required"))?;
    let table = state
        .aggregates
        .query(&state.storage, &dataset, &form_id, &pairs, state.disclosure)
        .await?;
    query_log::spend(state.storage.as_ref(), &caller, id, "aggregates", &raw).await?;
    Ok(table_response(&headers, table))
}

/// The query string's `key=value` pairs, percent-decoded.
pub fn query_pairs(raw: &str) -> Result<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw)
        .map_err(|e| ApiError::bad_request("bad_query", format!("the query string is malformed: {e}")))
}

/// The table as JSON, or as CSV when the client accepts `text/csv`.
pub fn table_response(headers: &HeaderMap, table: AggregateTable) -> Response {
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    if wants_csv {
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv::to_csv(&table),
        )
            .into_response()
    } else {
        Json(table).into_response()
    }
}
