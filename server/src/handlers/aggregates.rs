//! `GET /v1/datasets/{id}/aggregates` (`crate::aggregates`), and the table answers the
//! analysts' routes share: JSON, or CSV for a client that accepts it.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::aggregates::{AggregateTable, csv};
use crate::auth::Caller;
use crate::disclosure::query_log;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::Role;
use crate::{ApiError, Result};

/// `GET /v1/datasets/{id}/aggregates?form=F&by=..&where=q=v&from=D&to=D&metric=..`
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
