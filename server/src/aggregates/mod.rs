//! Analyst aggregates (`docs/privacy.md`, Aggregates), served by `crate::handlers::aggregates`:
//! counts and means by up to three dimensions, every cell perturbed by its cell key and small
//! ones suppressed (`crate::disclosure`), as JSON or CSV.
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

use crate::ApiError;

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
