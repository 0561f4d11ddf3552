//! Supervisors' reviews: a verdict (approved or flagged, with an optional scrubbed note) on a
//! submitted response, kept in a review document beside it (`sync_core::review`), and the list
//! of responses awaiting one. A supervisor sees where and when (ISO week) a response was
//! collected and which phone sent it, never an answer (docs/privacy.md, "Reviews").

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::{AutoCommit, DocKind, Review, ReviewStanding, ReviewState, load_document, review};
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{DatasetId, DatasetResponseIds, JsonBody};
use crate::state::AppState;
use crate::storage::{ReviewFilter, ReviewSummary, ReviewWrite, Role, StoredDocument, new_version};
use crate::{ApiError, Result};

/// Each retry means another review was stored meanwhile; the bound only stops a pathological
/// loop.
const MAX_ATTEMPTS: usize = 16;
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    state: String,
    #[serde(default)]
    note: Option<String>,
}

impl ReviewRequest {
    fn verdict(&self) -> Result<Review> {
        let state = match self.state.as_str() {
            "approved" => ReviewState::Approved,
            "flagged" => ReviewState::Flagged,
            _ => {
                return Err(ApiError::bad_request(
                    "bad_review_state",
                    "state must be approved or flagged",
                ));
            }
        };
        Review::scrubbed(state, self.note.as_deref()).map_err(|err| match err {
            sync_core::Error::TextTooLong { max_len, .. } => ApiError::bad_request(
                "note_too_long",
                format!("a review note has at most {max_len} characters"),
            ),
            other => other.into(),
        })
    }
}

/// `PUT /v1/datasets/{id}/responses/{response}/review {state, note?}`: records a review of the
/// response as the server holds it now and answers where its review stands. A review stored
/// by someone else meanwhile is merged with, as replicas of a document merge: of two
/// concurrent reviews the same one wins everywhere (`sync_core::review`).
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    DatasetResponseIds(dataset, response): DatasetResponseIds,
    JsonBody(request): JsonBody<ReviewRequest>,
) -> Result<Json<Value>> {
    caller.require(&[Role::Admin, Role::Supervisor])?;
    caller.require_dataset(dataset)?;
    let verdict = request.verdict()?;
    // This review's own changes, made once on the review document as first read and merged
    // into whatever is stored at each attempt.
    let mut mine: Option<Vec<sync_core::Change>> = None;
    for _ in 0..MAX_ATTEMPTS {
        let (stored, summary) = reviewable(&state, dataset, response).await?;
        if summary.status != "submitted" {
            return Err(ApiError::Conflict {
                code: "not_submitted",
                message: "only a submitted response can be reviewed".into(),
            });
        }
        let existing = state.storage.review_document(response).await?;
        let mut reviews = match &existing {
            Some(found) => load(&found.bytes)?,
            None => review::create(response)?,
        };
        match &mine {
            None => {
                let before = reviews.get_heads();
                review::record(&mut reviews, &verdict, &stored.head_hashes())?;
                let made = if existing.is_some() {
                    reviews.get_changes(&before)
                } else {
                    reviews.get_changes(&[])
                };
                mine = Some(made);
            }
            Some(changes) => reviews
                .apply_changes(changes.iter().cloned())
                .map_err(|e| ApiError::Internal(format!("merging a review: {e}")))?,
        }
        let standing = standing_of(&reviews, &stored)?;
        let write = ReviewWrite {
            dataset,
            response,
            base_version: existing.as_ref().map(|e| e.version),
            version: new_version(),
            bytes: reviews.save(),
            response_version: stored.version,
            state: standing.state().as_str(),
        };
        let audit = caller.audit(
            format!("review_response:{}", verdict_name(&verdict)),
            Some(dataset),
        );
        if state.storage.save_review(&write, &audit).await? {
            state.aggregates.changed(dataset, &[response]);
            return Ok(Json(standing_json(response, &standing)));
        }
    }
    Err(ApiError::Internal(format!(
        "reviews kept changing during {MAX_ATTEMPTS} attempts"
    )))
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
    let (stored, summary) = reviewable(&state, dataset, response).await?;
    let standing = match state.storage.review_document(response).await? {
        Some(found) => standing_of(&load(&found.bytes)?, &stored)?,
        None => ReviewStanding::default(),
    };
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

/// The response's document and row, if `dataset` holds it (withdrawn ones are gone).
async fn reviewable(
    state: &AppState,
    dataset: Uuid,
    response: Uuid,
) -> Result<(StoredDocument, ReviewSummary)> {
    let not_found = || ApiError::NotFound("response".into());
    let stored = state
        .storage
        .document(response)
        .await?
        .filter(|d| d.dataset == dataset && d.kind == DocKind::Response)
        .ok_or_else(not_found)?;
    let summary = state
        .storage
        .review_summary(dataset, response)
        .await?
        .ok_or_else(not_found)?;
    Ok((stored, summary))
}

fn load(bytes: &[u8]) -> Result<AutoCommit> {
    load_document(bytes).map_err(|e| ApiError::Internal(format!("a stored document: {e}")))
}

fn standing_of(reviews: &AutoCommit, response: &StoredDocument) -> Result<ReviewStanding> {
    let record = review::read(reviews).map_err(|e| ApiError::Internal(format!("a stored review: {e}")))?;
    Ok(review::standing(Some(&record), &mut load(&response.bytes)?))
}

fn verdict_name(review: &Review) -> &'static str {
    review.state.map_or("none", ReviewState::as_str)
}

fn standing_json(response: Uuid, standing: &ReviewStanding) -> Value {
    json!({
        "id": response,
        "review": standing.state(),
        "verdict": standing.review.state.map(|state| json!({ "state": state, "note": standing.review.note })),
        "edited_since_review": standing.edited_since,
    })
}
