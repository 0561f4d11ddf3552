//! One document of a sync request: authorize, merge, validate, store.
//!
//! Who may do what (`docs/protocol.md`):
//! - a response document is its first writer's: no other device may read or change it;
//! - a tally document (protocol 3) is its first writer's too, and counts for a site of the
//!   same dataset, with that site's metrics only;
//! - a site document may be created, read and changed by every device of its dataset;
//! - a form document is written by the server only and read by every device of its dataset;
//! - an entry without changes is a read.
//!
//! Over protocol 3 the answer to a site's writer confirms what it sent and no more: the site's
//! other changes (older phones' bumps) do not go down to phones that get totals instead.
//!
//! A refused entry changes nothing; the quarantine table keeps a record of it (its bytes and the
//! reason too, unless the refusal is about what it says).
//! Storing is guarded by the version the merge started from: when another request (on this or
//! another server) stored the document first, the merge is redone on the newer bytes, so
//! concurrent increments to one site tally all count. Site documents being written are merged
//! into the loaded copy [`HotSites`] keeps, under their site locks until the write is queued.

use std::collections::HashMap;

use sync_core::{
    ChangeHash, CheckedDocument, DocEntry, DocKind, Error as CoreError, Form, MergeOutcome, MergedDocument,
    Rejection, TALLY_DOCUMENTS_SINCE, merge_incoming, merge_into,
};
use uuid::Uuid;

use super::hot_sites::{HotSite, HotSites, Snapshot, Stored};
use super::materialize::{conflict_rows, rows_of};
use super::{FormCache, SiteCache, quarantine};
use crate::auth::DeviceCaller;
use crate::disclosure::record_key;
use crate::state::AppState;
use crate::storage::{
    BatchOutcome, DocumentWrite, SiteMetrics, StoredDocument, head_hashes, heads_bytes, new_version,
};
use crate::{ApiError, Result};

/// Each retry means another writer stored the document meanwhile, so the system as a whole
/// makes progress; the bound only stops a pathological loop.
const MAX_ATTEMPTS: usize = 64;

pub struct SyncContext<'a> {
    pub state: &'a AppState,
    pub device: &'a DeviceCaller,
    /// The dataset epoch the request was checked against.
    pub epoch: i64,
    /// The request's protocol version, which the reply speaks too.
    pub protocol: u64,
    pub forms: FormCache,
    pub sites: SiteCache,
}

pub enum Outcome {
    Reply(DocEntry),
    NeedAll(Uuid),
    Rejected(Rejection),
    /// The dataset was reset while the request was being served: answer `reset`.
    Reset,
}

/// Why an entry is refused: a wire code and a message for the device.
struct Refusal {
    code: &'static str,
    message: String,
    /// The refusal is about what the document says: the quarantine keeps neither the entry nor
    /// the message (see [`quarantine`]).
    about_content: bool,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            about_content: false,
        }
    }

    fn forbidden(message: &str) -> Refusal {
        Refusal::new("forbidden", message)
    }
}

impl From<CoreError> for Refusal {
    fn from(err: CoreError) -> Refusal {
        Refusal {
            about_content: err.concerns_content(),
            ..Refusal::new(err.code(), err.to_string())
        }
    }
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

/// What the checks need of the stored document, whether read from the database or held
/// loaded in [`HotSites`].
struct Known {
    dataset: Uuid,
    kind: DocKind,
    owner: Option<Uuid>,
    version: i64,
}

impl From<&StoredDocument> for Known {
    fn from(stored: &StoredDocument) -> Known {
        Known {
            dataset: stored.dataset,
            kind: stored.kind,
            owner: stored.owner,
            version: stored.version,
        }
    }
}

/// Where [`merge_and_check`] finds the stored document.
enum Lookup {
    /// Read with the rest of the request's documents (`None`: the server lacks it).
    Fetched(Option<StoredDocument>),
    /// A site written to: the loaded copy, else the database. A stale copy needs no check
    /// here: the version guard catches it at commit.
    HotOrStored,
    /// A site read: its loaded copy if that is not stale, else the database.
    Read(Option<Box<HotSite>>),
}

/// What an entry's changes are merged into.
enum Base {
    New,
    Stored {
        bytes: Vec<u8>,
        heads: Vec<u8>,
        version: i64,
    },
    /// From [`HotSites`].
    Loaded(Box<HotSite>),
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
        let hot = &context.state.hot_sites;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(err) => {
                forget_hot(hot, &writes);
                return Err(err.into());
            }
        };
        match outcome {
            BatchOutcome::EpochMoved => {
                forget_hot(hot, &writes);
                outcomes.push(Outcome::Reset);
                return Ok(outcomes);
            }
            BatchOutcome::Saved { stale } => {
                let saved = writes.iter().zip(&stale).filter(|(_, stale)| !**stale);
                context
                    .state
                    .aggregates
                    .written(context.device.dataset, saved.map(|(w, _)| w));
                for (((entry, reply), write), stale) in waiting.into_iter().zip(&writes).zip(stale) {
                    if stale {
                        hot.forget(write.id, write.version);
                        context.state.metrics.count_merge_retry();
                        entries.push(entry);
                    } else {
                        hot.committed(write.id, write.version);
                        context.state.metrics.count_merged_document();
                        outcomes.push(Outcome::Reply(reply));
                    }
                }
            }
            BatchOutcome::LinkedActor(culprit) => {
                // Nothing of the batch was written: the others are merged and queued again.
                forget_hot(hot, &writes);
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

/// The loaded copies of the sites `entries` only read, taken out of [`HotSites`], that the
/// database still holds a version of, each brought up to the version stored (its commit
/// notice may have come while the copy was taken out). A copy whose document another replica
/// has written since is stale and dropped. The copies are taken before the versions are
/// read, so a write of this process committing in between is one the copy knows.
async fn fresh_copies_to_read(
    context: &SyncContext<'_>,
    entries: &[&DocEntry],
) -> Result<HashMap<Uuid, Box<HotSite>>> {
    let mut copies: HashMap<Uuid, Box<HotSite>> = entries
        .iter()
        .filter(|e| e.changes.is_empty())
        .filter_map(|e| {
            context
                .state
                .hot_sites
                .take(e.id, context.epoch)
                .map(|c| (e.id, Box::new(c)))
        })
        .collect();
    if copies.is_empty() {
        return Ok(copies);
    }
    let ids: Vec<Uuid> = copies.keys().copied().collect();
    let stored = context.state.storage.document_versions(&ids).await?;
    copies.retain(|id, copy| match stored.get(id) {
        None => true,
        Some(&version) if copy.knows(version) => {
            copy.stored_at(version);
            true
        }
        Some(_) => false,
    });
    Ok(copies)
}

/// Site documents are merged into, and read from, the copy [`HotSites`] keeps loaded;
/// everything else goes to the database.
fn uses_hot_site(entry: &DocEntry) -> bool {
    entry.kind == DocKind::Site
}

fn forget_hot(hot: &HotSites, writes: &[DocumentWrite]) {
    for write in writes.iter().filter(|w| w.kind == DocKind::Site) {
        hot.forget(write.id, write.version);
    }
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
    match merge_and_check(context, entry, lookup).await? {
        Ok(Prepared::Done(outcome)) => outcomes.push(outcome),
        Ok(Prepared::Write(pending)) => {
            waiting.push((entry, pending.reply));
            writes.push(pending.write);
        }
        Err(refusal) => outcomes.push(refuse(context, entry, refusal).await?),
    }
    Ok(())
}

fn loaded(hot: Box<HotSite>) -> (Option<Known>, Base) {
    let known = Known {
        dataset: hot.dataset,
        kind: DocKind::Site,
        owner: None,
        version: hot.latest.version,
    };
    (Some(known), Base::Loaded(hot))
}

/// The stored document's facts and what to merge into: the loaded copy of a site if this
/// process has one, else the stored bytes.
async fn look_up(
    context: &SyncContext<'_>,
    entry: &DocEntry,
    lookup: Lookup,
) -> Result<(Option<Known>, Base)> {
    let stored = match lookup {
        Lookup::Fetched(stored) => stored,
        Lookup::HotOrStored => match context.state.hot_sites.take(entry.id, context.epoch) {
            Some(hot) => return Ok(loaded(Box::new(hot))),
            None => context.state.storage.document(entry.id).await?,
        },
        Lookup::Read(Some(hot)) => return Ok(loaded(hot)),
        Lookup::Read(None) => context.state.storage.document(entry.id).await?,
    };
    Ok(match stored {
        Some(stored) => {
            let known = Known::from(&stored);
            let base = Base::Stored {
                bytes: stored.bytes,
                heads: stored.heads,
                version: stored.version,
            };
            (Some(known), base)
        }
        None => (None, Base::New),
    })
}

async fn merge_and_check(
    context: &mut SyncContext<'_>,
    entry: &DocEntry,
    lookup: Lookup,
) -> Result<Result<Prepared, Refusal>> {
    let device = context.device;
    let (known, base) = look_up(context, entry, lookup).await?;
    if let Err(refusal) = authorize(device, context.protocol, entry, known.as_ref()) {
        return Ok(Err(refusal));
    }
    let kind = known.as_ref().map_or(entry.kind, |k| k.kind);
    if known.is_none() && entry.changes.is_empty() {
        // A read of a document the server lacks (lost, or never received): send it all.
        return Ok(Ok(Prepared::Done(Outcome::NeedAll(entry.id))));
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
            return Ok(Ok(Prepared::Done(Outcome::Reply(reply))));
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
        Ok(MergeOutcome::NeedAll) => return Ok(Ok(Prepared::Done(Outcome::NeedAll(entry.id)))),
        Err(err) => return Ok(Err(err.into())),
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
            return Ok(Ok(Prepared::Done(Outcome::Reply(reply))));
        }
    }
    if kind == DocKind::Form {
        return Ok(Err(Refusal::forbidden(
            "form documents are written by the server only",
        )));
    }
    let write = match checked_write(context, entry, kind, known.as_ref(), &mut merged).await? {
        Ok(write) => write,
        Err(refusal) => return Ok(Err(refusal)),
    };
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
    Ok(Ok(Prepared::Write(Box::new(Pending { write, reply }))))
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

/// Whether the device may touch the document at all (reads included).
fn authorize(
    device: &DeviceCaller,
    protocol: u64,
    entry: &DocEntry,
    stored: Option<&Known>,
) -> Result<(), Refusal> {
    if entry.kind == DocKind::Tally && protocol < TALLY_DOCUMENTS_SINCE {
        return Err(Refusal::new(
            "invalid",
            "tally documents are synced over protocol 3 (/v3/sync)",
        ));
    }
    match stored {
        Some(stored) => {
            if stored.dataset != device.dataset {
                return Err(Refusal::forbidden("the document belongs to another dataset"));
            }
            if stored.kind.is_owned() && stored.owner != Some(device.device) {
                return Err(Refusal::forbidden(&format!(
                    "{} documents belong to the device that wrote them",
                    stored.kind.as_str()
                )));
            }
            if stored.kind != entry.kind {
                return Err(Refusal::new(
                    "invalid",
                    format!(
                        "the document is a {}, not a {}",
                        stored.kind.as_str(),
                        entry.kind.as_str()
                    ),
                ));
            }
            Ok(())
        }
        None if entry.kind == DocKind::Form && !entry.changes.is_empty() => Err(Refusal::forbidden(
            "form documents are written by the server only",
        )),
        None => Ok(()),
    }
}

/// Validates the merged document and prepares its write, or says why it is refused.
async fn checked_write(
    context: &mut SyncContext<'_>,
    entry: &DocEntry,
    kind: DocKind,
    stored: Option<&Known>,
    merged: &mut MergedDocument,
) -> Result<Result<DocumentWrite, Refusal>> {
    let device = context.device;
    let checked = match kind {
        DocKind::Tally => validate_tally(context, merged).await?,
        _ => validate(context, kind, merged).await?,
    };
    let checked = match checked {
        Ok(checked) => checked,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if checked.dataset() != device.dataset {
        let err = CoreError::WrongDataset {
            expected: device.dataset,
            found: checked.dataset().to_string(),
        };
        return Ok(Err(err.into()));
    }
    let bytes = merged.save();
    let limit = context.state.sync.max_document_bytes;
    if bytes.len() > limit {
        return Ok(Err(Refusal::new(
            "too_large",
            format!("the document would grow to {} bytes (limit {limit})", bytes.len()),
        )));
    }
    let owner = match stored {
        _ if !kind.is_owned() => None,
        Some(stored) => stored.owner,
        None => Some(device.device),
    };
    let Some(rows) = rows_of(
        &checked,
        owner.unwrap_or(device.device),
        context.state.clock.today(),
    ) else {
        return Ok(Err(Refusal::forbidden(
            "form documents are written by the server only",
        )));
    };
    Ok(Ok(DocumentWrite {
        id: entry.id,
        dataset: device.dataset,
        kind,
        owner,
        base_version: stored.map(|s| s.version),
        version: new_version(),
        heads: heads_bytes(merged.heads()),
        bytes,
        actors: merged
            .incoming_actors()
            .iter()
            .map(|a| a.to_bytes().to_vec())
            .collect(),
        record_key: match kind {
            DocKind::Response => Some(record_key::random()?),
            DocKind::Site | DocKind::Form | DocKind::Tally => None,
        },
        rows,
        conflicts: conflict_rows(merged.conflicts()),
    }))
}

/// Validates a merged response (against the form version it claims), site or form.
async fn validate(
    context: &mut SyncContext<'_>,
    kind: DocKind,
    merged: &mut MergedDocument,
) -> Result<Result<CheckedDocument, Refusal>> {
    let form = match (kind, merged.form_ref()) {
        (DocKind::Response, Some((form_id, version))) => {
            match form_version(context, &form_id, version).await? {
                Some(form) => Some(form),
                None => {
                    let err = CoreError::UnknownForm {
                        form: sync_core::quoted(&form_id),
                        version,
                    };
                    return Ok(Err(err.into()));
                }
            }
        }
        _ => None,
    };
    Ok(merged.validate(kind, form.as_ref()).map_err(Refusal::from))
}

/// Validates a merged tally document against the site it counts for, which must be a site of
/// the device's dataset: its counts go into that site's totals.
async fn validate_tally(
    context: &mut SyncContext<'_>,
    merged: &mut MergedDocument,
) -> Result<Result<CheckedDocument, Refusal>> {
    let Some(site) = merged.tally_site() else {
        // Without a site it fails the checks, which say what is wrong.
        return Ok(merged.validate_tally(&[]).map_err(Refusal::from));
    };
    let metrics = match site_metrics(context, site).await? {
        Some(found) if found.dataset == context.device.dataset => found.metrics,
        Some(_) => {
            return Ok(Err(Refusal::forbidden(
                "the tally document counts for a site of another dataset",
            )));
        }
        None => {
            return Ok(Err(Refusal::new(
                "invalid",
                "the tally document counts for a site the server does not hold; send the site first",
            )));
        }
    };
    Ok(merged.validate_tally(&metrics).map_err(Refusal::from))
}

/// A site's dataset and metrics, from the request's cache or the database.
async fn site_metrics(context: &mut SyncContext<'_>, site: Uuid) -> Result<Option<SiteMetrics>> {
    if let Some(cached) = context.sites.get(&site) {
        return Ok(cached.clone());
    }
    let found = context.state.storage.site_metrics(&[site]).await?.remove(&site);
    context.sites.insert(site, found.clone());
    Ok(found)
}

/// The form version a response claims, from the request's cache or the database.
async fn form_version(context: &mut SyncContext<'_>, form_id: &str, version: i64) -> Result<Option<Form>> {
    let key = (form_id.to_owned(), version);
    if let Some(cached) = context.forms.get(&key) {
        return Ok(cached.clone());
    }
    let definition = context
        .state
        .storage
        .form_definition(context.device.dataset, form_id, version)
        .await?;
    let form = match definition {
        Some(text) => {
            Some(Form::from_published(&text).map_err(|e| ApiError::Internal(format!("stored form: {e}")))?)
        }
        None => None,
    };
    context.forms.insert(key, form.clone());
    Ok(form)
}

/// Records a refusal of an entry that carried changes in the quarantine (see [`quarantine`]
/// for what is kept of it).
async fn refuse(context: &SyncContext<'_>, entry: &DocEntry, refusal: Refusal) -> Result<Outcome> {
    if !entry.changes.is_empty() {
        let message = (!refusal.about_content).then_some(refusal.message.as_str());
        let record = quarantine::record(
            context.device,
            entry,
            refusal.code,
            message,
            context.state.clock.today(),
        )?;
        context.state.storage.quarantine(&record).await?;
    }
    Ok(Outcome::Rejected(Rejection {
        id: entry.id,
        code: refusal.code.to_owned(),
        message: refusal.message,
    }))
}
