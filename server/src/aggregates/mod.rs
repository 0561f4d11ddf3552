//! Analyst aggregates (DESIGN section 6): counts and means by up to three dimensions, every
//! cell perturbed by its cell key and small ones suppressed (`crate::disclosure`), as JSON or
//! CSV.
//!
//! Responses are aggregated from an in-memory column store per form ([`cache`]), filled from
//! the materialized tables; the SQL tables stay the source of truth.

pub mod cache;
mod columns;
pub mod csv;
mod query;
mod table;
#[cfg(test)]
mod tests;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::disclosure::query_log;
use crate::extract::DatasetId;
use crate::router::AppState;
use crate::storage::Role;
use crate::{ApiError, Result};

pub use query::AggregateQuery;
pub(crate) use table::periods as table_periods;
pub use table::{AggregateTable, MAX_CELLS, OutputCell, TOTAL};

/// Why a query cannot be answered; each becomes a 400 with its own code.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AggregateError {
    #[error("{0}")]
    BadQuery(String),
    #[error("{0:?} is not a question, area, week or month of this form that can be counted")]
    UnknownDimension(String),
    #[error("{0:?} is a free-text question: free text is never aggregated or exported")]
    FreeText(String),
    #[error("unknown metric {0:?}: use count, mean:SCORE or mean:LIKERT_QUESTION")]
    UnknownMetric(String),
    #[error("no such value: {0}")]
    UnknownValue(String),
}

impl From<AggregateError> for ApiError {
    fn from(err: AggregateError) -> ApiError {
        let code = match &err {
            AggregateError::BadQuery(_) => "bad_query",
            AggregateError::UnknownDimension(_) => "unknown_dimension",
            AggregateError::FreeText(_) => "free_text",
            AggregateError::UnknownMetric(_) => "unknown_metric",
            AggregateError::UnknownValue(_) => "unknown_value",
        };
        ApiError::bad_request(code, err.to_string())
    }
}

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
    let dataset = state
        .storage
        .dataset(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("dataset".into()))?;
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
    query_log::spend(&state, &caller, id, "aggregates", &raw).await?;
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
