//! Documents a device may read without mentioning them: the form and site documents of its
//! dataset (never another device's responses). They go out in id order until the byte budget
//! is used; the device mentions what it received next time, so the next page starts where
//! this one stopped without the server keeping a cursor.

use std::collections::HashSet;

use sync_core::{DocEntry, MergeOutcome, merge_incoming};
use uuid::Uuid;

use crate::router::AppState;
use crate::{ApiError, Result};

pub async fn unmentioned_documents(
    state: &AppState,
    dataset: Uuid,
    mentioned: &HashSet<Uuid>,
    budget: usize,
) -> Result<(Vec<DocEntry>, bool)> {
    let mut out = Vec::new();
    let mut used = 0usize;
    for summary in state.storage.shared_documents(dataset).await? {
        if mentioned.contains(&summary.id) {
            continue;
        }
        let size = usize::try_from(summary.size).unwrap_or(usize::MAX);
        // Always at least one document per reply, so every round makes progress.
        if !out.is_empty() && used.saturating_add(size) > budget {
            return Ok((out, true));
        }
        let Some(stored) = state.storage.document(summary.id).await? else {
            continue; // reset between the listing and the read
        };
        let no_changes: &[Vec<u8>] = &[];
        let MergeOutcome::Merged(mut doc) = merge_incoming(Some(&stored.bytes), no_changes)? else {
            return Err(ApiError::Internal(
                "a stored document lacks its own dependencies".into(),
            ));
        };
        out.push(DocEntry::new(
            summary.id,
            stored.kind,
            &doc.heads(),
            doc.changes_missing_from(&[]),
        ));
        used = used.saturating_add(size);
    }
    Ok((out, false))
}
