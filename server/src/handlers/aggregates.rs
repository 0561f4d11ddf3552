//! `GET /v1/datasets/{id}/aggregates` (`crate::aggregates`), and the table answers the
//! analysts' routes share: JSON, or CSV for a client that accepts it.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use uuid::Uuid;

use crate::aggregates::{AggregateTable, csv};
use crate::auth::Caller;
use crate::disclosure::query_log;
use crate::error::ErrorBody;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::{Dataset, Role};
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
    let query = AnalystQuery::read(&state, caller, id, raw).await?;
    let form_id = query
        .pairs
        .iter()
        .find(|(k, _)| k == "form")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| ApiError::bad_request("bad_query", "`form` is required"))?;
    let table = state
        .aggregates
        .query(
            &state.storage,
            &query.dataset,
            &form_id,
            &query.pairs,
            state.disclosure,
        )
        .await?;
    query.answer(&state, "aggregates", &headers, table).await
}

/// An analyst's table query (aggregates or tallies), checked before anything is counted: the
/// caller may read tables of this dataset, the dataset exists, the query string parses.
pub struct AnalystQuery {
    caller: Caller,
    raw: String,
    pub dataset: Dataset,
    /// The query string's `key=value` pairs, percent-decoded.
    pub pairs: Vec<(String, String)>,
}

impl AnalystQuery {
    pub async fn read(
        state: &AppState,
        caller: Caller,
        id: Uuid,
        raw: Option<String>,
    ) -> Result<AnalystQuery> {
        caller.require(&[Role::Admin, Role::Analyst])?;
        caller.require_dataset(id)?;
        let dataset = state.storage.existing_dataset(id).await?;
        let raw = raw.unwrap_or_default();
        let pairs = serde_urlencoded::from_str(&raw)
            .map_err(|e| ApiError::bad_request("bad_query", format!("the query string is malformed: {e}")))?;
        Ok(AnalystQuery {
            caller,
            raw,
            dataset,
            pairs,
        })
    }

    /// Charges the query to the token's daily budget (and logs it), then answers the table.
    pub async fn answer(
        self,
        state: &AppState,
        route: &'static str,
        headers: &HeaderMap,
        table: AggregateTable,
    ) -> Result<Response> {
        let token = self
            .caller
            .token
            .ok_or_else(|| ApiError::Internal("an aggregate query without a token".into()))?;
        query_log::spend(
            state.storage.as_ref(),
            token,
            &self.caller.name,
            self.caller.role,
            self.dataset.id,
            route,
            &self.raw,
        )
        .await?;
        Ok(table_response(headers, table))
    }
}

/// The table as JSON, or as CSV when the client accepts `text/csv`.
fn table_response(headers: &HeaderMap, table: AggregateTable) -> Response {
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
