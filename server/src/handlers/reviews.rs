//! Supervisors' reviews over HTTP (`crate::reviews`): recording a verdict, reading where a
//! response's review stands, and the list of responses awaiting one.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::{ReviewStanding, ReviewState};
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{DatasetId, DatasetResponseIds, JsonBody};
use crate::reviews::{self, verdict_name};
use crate::state::AppState;
use crate::storage::{ReviewFilter, Role};
use crate::{ApiError, Result};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    state: String,
    #[serde(default)]
    note: Option<String>,
}

/// `PUT /v1/datasets/{id}/responses/{response}/review {state, note?}`: records a review of the
/// response as the server holds it now ([`reviews::record_review`]) and answers where its
/// review stands.
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    DatasetResponseIds(dataset, response): DatasetResponseIds,
    JsonBody(request): JsonBody<ReviewRequest>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Admin, Role::Supervisor])?;
    caller.require_dataset(dataset)?;
    let verdict = reviews::verdict(&request.state, request.note.as_deref())?;
    let audit = caller.audit(
        format!("review_response:{}", verdict_name(&verdict)),
        Some(dataset),
    );
    let standing = reviews::record_review(&state, dataset, response, &verdict, &audit).await?;
    Ok(Json(standing_json(response, &standing)))
}

/// `GET /v1/datasets/{id}/responses/{response}/review`: the response as a supervisor sees it
/// and where its review stands.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    DatasetResponseIds(dataset, response): DatasetResponseIds,
) -> Result<Json<Value>> {
    caller.require(&[Role::Admin, Role::Supervisor])?;
    caller.require_dataset(dataset)?;
    let (standing, summary) = reviews::review_of(state.storage.as_ref(), dataset, response).await?;
    let mut body = standing_json(response, &standing);
    body["response"] = serde_json::to_value(&summary).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    form: Option<String>,
    #[serde(default)]
    after: Option<Uuid>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /v1/datasets/{id}/reviews?state=pending|approved|flagged&form=F&after=ID&limit=N`:
/// submitted responses in that review standing (pending, i.e. awaiting review, by default),
/// in pages ordered by id; `next` is the `after` of the next page.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    query: std::result::Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Admin, Role::Supervisor])?;
    caller.require_dataset(dataset)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let standing = match query.state.as_deref().unwrap_or("pending") {
        "pending" => ReviewState::Pending,
        "approved" => ReviewState::Approved,
        "flagged" => ReviewState::Flagged,
        _ => {
            return Err(ApiError::bad_request(
                "bad_review_state",
                "state must be pending, approved or flagged",
            ));
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    state
        .storage
        .dataset(dataset)
        .await?
        .ok_or_else(|| ApiError::NotFound("dataset".into()))?;
    let filter = ReviewFilter {
        state: standing.as_str(),
        form: query.form,
        after: query.after,
        limit,
    };
    let responses = state.storage.reviews(dataset, &filter).await?;
    let next = (responses.len() as i64 == limit)
        .then(|| responses.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({ "responses": responses, "next": next })))
}

fn standing_json(response: Uuid, standing: &ReviewStanding) -> Value {
    json!({
        "id": response,
        "review": standing.state(),
        "verdict": standing.review.state.map(|state| json!({ "state": state, "note": standing.review.note })),
        "edited_since_review": standing.edited_since,
    })
}
