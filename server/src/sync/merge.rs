//! The entries of one sync request, merged and stored: each is authorized, merged into the
//! stored document (or the copy [`HotSites`] keeps loaded), checked, and all of the request's
//! writes go to the group commit together.
//!
//! Over protocol 3 the answer to a site's writer confirms what it sent and no more: the site's
//! other changes (older phones' bumps) do not go down to phones that get totals instead.
//!
//! Storing is guarded by the version the merge started from: when another request (on this or
//! another server) stored the document first, the merge is redone on the newer bytes, so
//! concurrent increments to one site tally all count. Site documents being written are merged
//! into the loaded copy [`HotSites`] keeps, under their site locks until the write is queued.
//!
//! [`HotSites`]: super::hot_sites::HotSites

use sync_core::{
    ChangeHash, DocEntry, DocKind, MergeOutcome, MergedDocument, Rejection, TALLY_DOCUMENTS_SINCE,
    merge_incoming, merge_into,
};
use uuid::Uuid;

use super::authorization::authorize;
use super::checks::checked_write;
use super::context::SyncContext;
use super::hot_sites::{HotSite, Snapshot, Stored};
use super::lookup::{Base, Lookup, fresh_copies_to_read, look_up, uses_hot_site};
use super::refusal::{Refusal, Stop, refuse};
use crate::storage::{BatchOutcome, DocumentWrite, head_hashes, heads_bytes};
use crate::{ApiError, Result};

/// Each retry means another writer stored the document meanwhile, so the system as a whole
/// makes progress; the bound only stops a pathological loop.
const MAX_ATTEMPTS: usize = 64;

pub enum Outcome {
    Reply(DocEntry),
    NeedAll(Uuid),
    Rejected(Rejection),
    /// The dataset was reset while the request was being served: answer `reset`.
    Reset,
}

/// An entry merged and checked, waiting to be stored with the rest of its request.
pub struct Pending {
    write: DocumentWrite,
    /// The answer to the device once the write has committed.
    reply: DocEntry,
}

pub enum Prepared {
    Done(Outcome),
    Write(Box<Pending>),
}

/// Merges, checks and stores a request's entries and answers each: all of the request's
/// writes go to the group commit together, and entries someone else stored first meanwhile are
/// merged again on the newer state and stored in the next round, so concurrent increments to
/// one site tally all count. An entry reusing another document's actor is refused and the rest
/// stored without it.
pub async fn merge_and_store(
    context: &mut SyncContext<'_>,
    mut entries: Vec<&DocEntry>,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(entries.len());
    for attempt in 0..MAX_ATTEMPTS {
        if entries.is_empty() {
            return Ok(outcomes);
        }
        refuse_withdrawn(context, &mut entries, &mut outcomes).await?;
        let (sites, own): (Vec<&DocEntry>, Vec<&DocEntry>) =
            entries.drain(..).partition(|e| uses_hot_site(e));
        let mut waiting = Vec::with_capacity(own.len() + sites.len());
        let mut writes = Vec::with_capacity(own.len() + sites.len());
        let ids: Vec<Uuid> = own.iter().map(|e| e.id).collect();
        let mut stored = context.state.storage.documents(&ids).await?;
        for entry in own {
            let lookup = Lookup::Fetched(stored.remove(&entry.id));
            prepare(context, entry, lookup, &mut outcomes, &mut waiting, &mut writes).await?;
        }
        // Held until the writes are queued: writes to one site queue in the order they were
        // merged, each on the state the one before it leaves. A retry holds them until its
        // writes have committed, so this process's next merges wait for it instead of
        // overtaking it again and again (another replica writing the same sites, or a site
        // evicted from the cache, would otherwise starve it).
        let held = context.state.site_locks.lock(sites.iter().map(|e| e.id)).await;
        let mut read = fresh_copies_to_read(context, &sites).await?;
        for entry in sites {
            let lookup = if entry.changes.is_empty() {
                Lookup::Read(read.remove(&entry.id))
            } else {
                Lookup::HotOrStored
            };
            prepare(context, entry, lookup, &mut outcomes, &mut waiting, &mut writes).await?;
        }
        if writes.is_empty() {
            // Everything answered already (reads, replays): no commit to wait for.
            return Ok(outcomes);
        }
        crate::pause_points::reached("sync-merged").await;
        let committed = context.state.group_commit.submit(writes, context.epoch);
        let held = (attempt > 0).then_some(held);
        let (writes, outcome) = committed.await?;
        drop(held);
        context.state.hot_sites.settle(&writes, &outcome);
        match outcome? {
            BatchOutcome::EpochMoved => {
                outcomes.push(Outcome::Reset);
                return Ok(outcomes);
            }
            BatchOutcome::Saved { stale } => {
                let saved = writes.iter().zip(&stale).filter(|(_, stale)| !**stale);
                context
                    .state
                    .aggregates
                    .written(context.device.dataset, saved.map(|(w, _)| w));
                for ((entry, reply), stale) in waiting.into_iter().zip(stale) {
                    if stale {
                        context.state.metrics.count_merge_retry();
                        entries.push(entry);
                    } else {
                        context.state.metrics.count_merged_document();
                        outcomes.push(Outcome::Reply(reply));
                    }
                }
            }
            BatchOutcome::LinkedActor(culprit) => {
                // Nothing of the batch was written: the others are merged and queued again.
                for (i, (entry, _)) in waiting.into_iter().enumerate() {
                    if i != culprit {
                        entries.push(entry);
                        continue;
                    }
                    let refusal = Refusal::new(
                        "linked_actor",
                        "a change's actor already wrote another document; every document needs its own actor",
                    );
                    outcomes.push(refuse(context, entry, refusal).await?);
                }
            }
        }
    }
    Err(ApiError::Internal(format!(
        "documents kept changing during {MAX_ATTEMPTS} merge attempts"
    )))
}

/// Answers entries of withdrawn responses with `withdrawn`, which tells the device to drop
/// them, and takes them out of `entries`. Nothing of them is quarantined: keeping the entry
/// would store again what the withdrawal deleted.
async fn refuse_withdrawn(
    context: &SyncContext<'_>,
    entries: &mut Vec<&DocEntry>,
    outcomes: &mut Vec<Outcome>,
) -> Result<()> {
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    let withdrawn = context.state.storage.withdrawn(&ids).await?;
    if withdrawn.is_empty() {
        return Ok(());
    }
    entries.retain(|entry| {
        if !withdrawn.contains(&entry.id) {
            return true;
        }
        outcomes.push(Outcome::Rejected(Rejection {
            id: entry.id,
            code: sync_core::WITHDRAWN.into(),
            message: "this response was withdrawn and is deleted from the server: delete it".into(),
        }));
        false
    });
    Ok(())
}

/// Authorizes, merges and validates one entry: its answer goes to `outcomes` at once (a
/// refusal is recorded here), or its write to `writes` and its answer, sent once the write has
/// committed, to `waiting`.
async fn prepare<'e>(
    context: &mut SyncContext<'_>,
    entry: &'e DocEntry,
    lookup: Lookup,
    outcomes: &mut Vec<Outcome>,
    waiting: &mut Vec<(&'e DocEntry, DocEntry)>,
    writes: &mut Vec<DocumentWrite>,
) -> Result<()> {
    match merge_and_check(context, entry, lookup).await {
        Ok(Prepared::Done(outcome)) => outcomes.push(outcome),
        Ok(Prepared::Write(pending)) => {
            waiting.push((entry, pending.reply));
            writes.push(pending.write);
        }
        Err(Stop::Refused(refusal)) => outcomes.push(refuse(context, entry, refusal).await?),
        Err(Stop::Failed(err)) => return Err(err),
    }
    Ok(())
}

async fn merge_and_check(
    context: &mut SyncContext<'_>,
    entry: &DocEntry,
    lookup: Lookup,
) -> Result<Prepared, Stop> {
    let (known, base) = look_up(context, entry, lookup).await?;
    authorize(context.device, context.protocol, entry, known.as_ref())?;
    let kind = known.as_ref().map_or(entry.kind, |k| k.kind);
    if known.is_none() && entry.changes.is_empty() {
        // A read of a document the server lacks (lost, or never received): send it all.
        return Ok(Prepared::Done(Outcome::NeedAll(entry.id)));
    }
    // The state merged onto, and what the database holds of it.
    let (merged, latest, stored) = match base {
        Base::New => (merge_incoming(None, &entry.changes), None, Stored::Latest),
        Base::Stored { heads, .. }
            if entry.changes.is_empty() && heads == heads_bytes(entry.head_hashes()) =>
        {
            // A read by a device that has exactly what is stored (every form document, in
            // every sync): nothing to load, nothing to send.
            let reply = DocEntry::new(entry.id, kind, &entry.head_hashes(), Vec::new());
            return Ok(Prepared::Done(Outcome::Reply(reply)));
        }
        Base::Stored {
            bytes,
            heads,
            version,
        } => {
            let merged = merge_incoming(Some(&bytes), &entry.changes);
            let snapshot = Snapshot {
                version,
                heads: head_hashes(&heads),
                saved: bytes.into(),
            };
            (merged, Some(snapshot), Stored::Latest)
        }
        Base::Loaded(site) => {
            let HotSite {
                doc, latest, stored, ..
            } = *site;
            (merge_into(doc, &entry.changes), Some(latest), stored)
        }
    };
    let mut merged = match merged {
        Ok(MergeOutcome::Merged(merged)) => merged,
        Ok(MergeOutcome::NeedAll) => return Ok(Prepared::Done(Outcome::NeedAll(entry.id))),
        Err(err) => return Err(Stop::core(err)),
    };
    let keep_hot = uses_hot_site(entry) && kind == DocKind::Site;
    if !merged.changed() {
        // Nothing new: answer at once from what is stored. A loaded copy whose latest write
        // has not committed answers a read from the state before it; a merge that adds
        // nothing to it is written again instead, so its answer waits for a commit.
        let answered = match (&stored, &latest) {
            (Stored::Latest, Some(latest)) => Some(latest),
            (Stored::Earlier { committed, .. }, _) if entry.changes.is_empty() => committed.as_ref(),
            _ => None,
        };
        if let Some(state) = answered {
            let reply = catch_up(context, entry, kind, &mut merged, &state.heads, &state.saved);
            if let (Some(known), Some(latest)) = (known.filter(|_| keep_hot), latest) {
                let site = hot_site(context, known.dataset, latest, stored, *merged);
                context.state.hot_sites.put(entry.id, site);
            }
            return Ok(Prepared::Done(Outcome::Reply(reply)));
        }
    }
    if kind == DocKind::Form {
        return Err(Refusal::server_only().into());
    }
    let write = checked_write(context, entry, kind, known.as_ref(), &mut merged).await?;
    let heads = merged.heads();
    let reply = catch_up(context, entry, kind, &mut merged, &heads, &write.bytes);
    if keep_hot {
        let written = Snapshot {
            version: write.version,
            heads,
            saved: write.bytes.as_slice().into(),
        };
        let stored = stored.after_writing(latest);
        let site = hot_site(context, write.dataset, written, stored, *merged);
        context.state.hot_sites.put(entry.id, site);
    }
    Ok(Prepared::Write(Box::new(Pending { write, reply })))
}

/// The answer to `entry`: the state with `heads` (the merged document's, or an earlier one's
/// that is known stored), and what the device lacks of it as changes or, under v2 when that
/// is smaller, as that state saved whole (`saved`). Over v3 a site's writer gets its own heads
/// confirmed and nothing else: it counts the site from totals, not from the site's history.
fn catch_up(
    context: &SyncContext<'_>,
    entry: &DocEntry,
    kind: DocKind,
    merged: &mut MergedDocument,
    heads: &[ChangeHash],
    saved: &[u8],
) -> DocEntry {
    if context.protocol >= TALLY_DOCUMENTS_SINCE && kind == DocKind::Site {
        return DocEntry::new(entry.id, kind, &entry.head_hashes(), Vec::new());
    }
    let limit = if context.protocol < 2 {
        usize::MAX
    } else {
        saved.len()
    };
    match merged.changes_within(&entry.head_hashes(), heads, limit) {
        Some(changes) => DocEntry::new(entry.id, kind, heads, changes),
        None => DocEntry::with_state(entry.id, kind, heads, saved.to_vec()),
    }
}

/// The loaded copy to keep.
fn hot_site(
    context: &SyncContext<'_>,
    dataset: Uuid,
    latest: Snapshot,
    stored: Stored,
    merged: MergedDocument,
) -> HotSite {
    HotSite {
        dataset,
        epoch: context.epoch,
        doc: merged.into_loaded(),
        latest,
        stored,
    }
}
