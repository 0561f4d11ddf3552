//! Supervisors' reviews: a verdict (approved or flagged, with an optional scrubbed note) on a
//! submitted response, kept in a review document beside it (`sync_core::review`). A supervisor
//! sees where and when (ISO week) a response was collected and which phone sent it, never an
//! answer (docs/privacy.md, "Reviews").

use sync_core::{AutoCommit, DocKind, Review, ReviewStanding, ReviewState, load_document, review};
use uuid::Uuid;

use crate::state::AppState;
use crate::storage::{AuditEntry, ReviewSummary, ReviewWrite, Storage, StoredDocument, new_version};
use crate::{ApiError, Result};

/// Each retry means another review was stored meanwhile; the bound only stops a pathological
/// loop.
const MAX_ATTEMPTS: usize = 16;

/// A verdict as a supervisor writes it: `approved` or `flagged`, and a note that is scrubbed
/// like any free text.
pub fn verdict(state: &str, note: Option<&str>) -> Result<Review> {
    let state = match state {
        "approved" => ReviewState::Approved,
        "flagged" => ReviewState::Flagged,
        _ => {
            return Err(ApiError::bad_request(
                "bad_review_state",
                "state must be approved or flagged",
            ));
        }
    };
    Review::scrubbed(state, note).map_err(|err| match err {
        sync_core::Error::TextTooLong { max_len, .. } => ApiError::bad_request(
            "note_too_long",
            format!("a review note has at most {max_len} characters"),
        ),
        other => other.into(),
    })
}

/// The name of a verdict in the audit log.
pub fn verdict_name(review: &Review) -> &'static str {
    review.state.map_or("none", ReviewState::as_str)
}

/// Records `verdict` on the response as the server holds it now; returns where its review
/// stands. A review stored by someone else meanwhile is merged with, as replicas of a document
/// merge: of two concurrent reviews the same one wins everywhere (`sync_core::review`).
pub async fn record_review(
    state: &AppState,
    dataset: Uuid,
    response: Uuid,
    verdict: &Review,
    audit: &AuditEntry,
) -> Result<ReviewStanding> {
    // This review's own changes, made once on the review document as first read and merged
    // into whatever is stored at each attempt.
    let mut mine: Option<Vec<sync_core::Change>> = None;
    for _ in 0..MAX_ATTEMPTS {
        let (stored, summary) = reviewable(state.storage.as_ref(), dataset, response).await?;
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
                review::record(&mut reviews, verdict, &stored.head_hashes())?;
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
        if state.storage.save_review(&write, audit).await? {
            state.aggregates.changed(dataset, &[response]);
            return Ok(standing);
        }
    }
    Err(ApiError::Internal(format!(
        "reviews kept changing during {MAX_ATTEMPTS} attempts"
    )))
}

/// Where the response's review stands, and the response as a supervisor sees it.
pub async fn review_of(
    storage: &dyn Storage,
    dataset: Uuid,
    response: Uuid,
) -> Result<(ReviewStanding, ReviewSummary)> {
    let (stored, summary) = reviewable(storage, dataset, response).await?;
    let standing = match storage.review_document(response).await? {
        Some(found) => standing_of(&load(&found.bytes)?, &stored)?,
        None => ReviewStanding::default(),
    };
    Ok((standing, summary))
}

/// The response's document and row, if `dataset` holds it (withdrawn ones are gone).
async fn reviewable(
    storage: &dyn Storage,
    dataset: Uuid,
    response: Uuid,
) -> Result<(StoredDocument, ReviewSummary)> {
    let not_found = || ApiError::NotFound("response".into());
    let stored = storage
        .document(response)
        .await?
        .filter(|d| d.dataset == dataset && d.kind == DocKind::Response)
        .ok_or_else(not_found)?;
    let summary = storage
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
