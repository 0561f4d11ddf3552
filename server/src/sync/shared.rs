//! Documents a device may read without mentioning them: the form and site documents of its
//! dataset (never another device's responses). They go out in id order until the byte budget
//! is used; the device mentions what it received next time, so the next page starts where
//! this one stopped without the server keeping a cursor.

use std::collections::HashSet;

use sync_core::{DocEntry, MergeOutcome, merge_incoming};
use uuid::Uuid;

use super::context::SyncContext;
use crate::storage::{DocumentSummary, StoredDocument};
use crate::{ApiError, Result};

/// `shared`: the dataset's form and site documents ([`crate::storage::Storage::shared_documents`]).
pub async fn unmentioned_documents(
    context: &SyncContext<'_>,
    shared: &[DocumentSummary],
    mentioned: &HashSet<Uuid>,
) -> Result<(Vec<DocEntry>, bool)> {
    let storage = &context.state.storage;
    let budget = context.state.sync.reply_budget_bytes;
    let mut page = Vec::new();
    let mut used = 0usize;
    let mut more = false;
    for summary in shared {
        if mentioned.contains(&summary.id) {
            continue;
        }
        let size = usize::try_from(summary.size).unwrap_or(usize::MAX);
        // Always at least one document per reply, so every round makes progress.
        if !page.is_empty() && used.saturating_add(size) > budget {
            more = true;
            break;
        }
        page.push(summary.id);
        used = used.saturating_add(size);
    }
    let mut stored = storage.documents(&page).await?;
    let mut out = Vec::with_capacity(page.len());
    for id in page {
        // Missing: reset between the listing and the read.
        if let Some(document) = stored.remove(&id) {
            out.push(whole(context.protocol, id, document)?);
        }
    }
    Ok((out, more))
}

/// A document for a device that has none of it: under v2 its stored bytes as they are, under
/// v1 every change it holds.
fn whole(protocol: u64, id: Uuid, stored: StoredDocument) -> Result<DocEntry> {
    if protocol >= 2 {
        let heads = stored.head_hashes();
        return Ok(DocEntry::with_state(id, stored.kind, &heads, stored.bytes));
    }
    let no_changes: &[Vec<u8>] = &[];
    let MergeOutcome::Merged(mut doc) = merge_incoming(Some(&stored.bytes), no_changes)? else {
        return Err(ApiError::Internal(
            "a stored document lacks its own dependencies".into(),
        ));
    };
    Ok(DocEntry::new(
        id,
        stored.kind,
        &doc.heads(),
        doc.changes_missing_from(&[]),
    ))
}
