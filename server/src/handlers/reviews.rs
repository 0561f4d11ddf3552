//! Supervisors' reviews over HTTP (`crate::reviews`): recording a verdict, reading where a
//! response's review stands, and the list of responses awaiting one.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use sync_core::{ReviewStanding, ReviewState};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{DatasetId, DatasetResponseIds, JsonBody};
use crate::reviews::{self, verdict_name};
use crate::state::AppState;
use crate::storage::{ReviewFilter, ReviewSummary, Role};
use crate::{ApiError, Result};

const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approved` or `flagged`.
    state: String,
    /// Scrubbed, at most 500 characters.
    #[serde(default)]
    note: Option<String>,
}

/// Where a response's review stands.
#[derive(Serialize, ToSchema)]
pub struct Standing {
    id: Uuid,
    /// `approved` or `flagged` while the review covers the response as it is; else `pending`.
    #[schema(schema_with = review_state)]
    review: ReviewState,
    /// The last review recorded, whether or not it still covers the response.
    verdict: Option<Verdict>,
    /// The response changed in a way the review did not see.
    edited_since_review: bool,
    /// `GET` only: the response as a supervisor sees it (no answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<ReviewSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct Verdict {
    #[schema(schema_with = review_state)]
    state: ReviewState,
    note: Option<String>,
}

/// sync-core's review states, which carry no OpenAPI code of their own.
fn review_state() -> ObjectBuilder {
    let names = [ReviewState::Pending, ReviewState::Approved, ReviewState::Flagged].map(ReviewState::as_str);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
}

/// `PUT /v1/datasets/{id}/responses/{response}/review {state, note?}`: records a review of the
/// response as the server holds it now ([`reviews::record_review`]) and answers where its
/// review stands.
#[utoipa::path(
    put,
    path = "/v1/datasets/{id}/responses/{response}/review",
    summary = "Review a submitted response",
    extensions(("x-roles" = json!([Role::Admin, Role::Supervisor]))),
    params(
        ("id" = Uuid, Path, description = "The dataset"),
        ("response" = Uuid, Path, description = "The response document"),
    ),
    request_body = ReviewRequest,
    responses((status = 200, description = "Where its review now stands", body = Standing))
)]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    DatasetResponseIds(dataset, response): DatasetResponseIds,
    JsonBody(request): JsonBody<ReviewRequest>,
) -> Result<Json<Standing>> {
    caller.require(&[Role::Admin, Role::Supervisor])?;
    caller.require_dataset(dataset)?;
    let verdict = reviews::verdict(&request.state, request.note.as_deref())?;
    let audit = caller.audit(
        format!("review_response:{}", verdict_name(&verdict)),
        Some(dataset),
    );
    let standing = reviews::record_review(&state, dataset, response, &verdict, &audit).await?;
    Ok(Json(Standing::of(response, &standing, None)))
}

/// `GET /v1/datasets/{id}/responses/{response}/review`: the response as a supervisor sees it
/// and where its review stands.
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/responses/{response}/review",
    summary = "Where a response's review stands, and the response as a supervisor sees it: form, version, status, area, ISO week, device (no answers)",
    extensions(("x-roles" = json!([Role::Admin, Role::Supervisor]))),
    params(
        ("id" = Uuid, Path, description = "The dataset"),
        ("response" = Uuid, Path, description = "The response document"),
    ),
    responses((status = 200, description = "Its standing, with `response`", body = Standing))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    DatasetResponseIds(dataset, response): DatasetResponseIds,
) -> Result<Json<Standing>> {
    caller.require(&[Role::Admin, Role::Supervisor])?;
    caller.require_dataset(dataset)?;
    let (standing, summary) = reviews::review_of(state.storage.as_ref(), dataset, response).await?;
    Ok(Json(Standing::of(response, &standing, Some(summary))))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending` (default), `approved` or `flagged`.
    #[serde(default)]
    state: Option<String>,
    /// One form's responses only.
    #[serde(default)]
    form: Option<String>,
    /// The `next` of the page before.
    #[serde(default)]
    after: Option<Uuid>,
    /// 100 by default.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// A page of responses by id; `next` is the `after` of the next page (`null`: the last).
#[derive(Serialize, ToSchema)]
pub struct ReviewPage {
    responses: Vec<ReviewSummary>,
    next: Option<Uuid>,
}

/// `GET /v1/datasets/{id}/reviews?state=pending|approved|flagged&form=F&after=ID&limit=N`:
/// submitted responses in that review standing (pending, i.e. awaiting review, by default),
/// in pages ordered by id; `next` is the `after` of the next page.
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/reviews",
    summary = "Submitted responses by review standing",
    extensions(("x-roles" = json!([Role::Admin, Role::Supervisor]))),
    params(("id" = Uuid, Path, description = "The dataset"), ListQuery),
    responses((status = 200, description = "A page of responses", body = ReviewPage))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    query: std::result::Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ReviewPage>> {
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
    Ok(Json(ReviewPage { responses, next }))
}

impl Standing {
    fn of(response: Uuid, standing: &ReviewStanding, summary: Option<ReviewSummary>) -> Standing {
        Standing {
            id: response,
            review: standing.state(),
            verdict: standing.review.state.map(|state| Verdict {
                state,
                note: standing.review.note.clone(),
            }),
            edited_since_review: standing.edited_since,
            response: summary,
        }
    }
}
