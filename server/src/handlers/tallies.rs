//! `GET /v1/datasets/{id}/tallies?by=site,week&metric=contacts` (`crate::tallies`).

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::aggregates::AnalystQuery;
use crate::Result;
use crate::aggregates::AggregateTable;
use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::Role;
use crate::tallies::site_tallies;

#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/tallies",
    summary = "Site tallies, protected like the aggregates",
    extensions(("x-roles" = json!([Role::Admin, Role::Analyst]))),
    params(
        ("id" = Uuid, Path, description = "The dataset"),
        ("by" = Option<String>, Query, description = "1 or 2 of `site`, `week`, `month`, comma-separated"),
        ("metric" = Option<String>, Query, description = "A tally: `contacts` (default)"),
    ),
    responses((status = 200, description = "The table; as CSV when the client accepts text/csv", content(
        (AggregateTable = "application/json"),
        (String = "text/csv"),
    )))
)]
pub async fn tallies(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(id): DatasetId,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let query = AnalystQuery::read(&state, caller, id, raw).await?;
    let table = site_tallies(
        state.storage.as_ref(),
        &query.dataset,
        &query.pairs,
        state.disclosure,
    )
    .await?;
    query.answer(&state, "tallies", &headers, table).await
}
