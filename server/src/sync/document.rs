//! One document of a sync request: authorize, merge, validate, store.
//!
//! Who may do what (DESIGN section 4):
//! - a response document is its first writer's: no other device may read or change it;
//! - a site document may be created, read and changed by every device of its dataset;
//! - a form document is written by the server only and read by every device of its dataset;
//! - an entry without changes is a read.
//!
//! A refused entry changes nothing; its bytes go to the quarantine table with the reason.
//! Storing is guarded by the version the merge started from: when another request (on this or
//! another server) stored the document first, the merge is redone on the newer bytes, so
//! concurrent increments to one site tally all count.

use std::time::{SystemTime, UNIX_EPOCH};

use sync_core::{
    DocEntry, DocKind, Error as CoreError, Form, MergeOutcome, MergedDocument, Rejection, merge_incoming,
};
use uuid::Uuid;

use super::FormCache;
use super::materialize::{conflict_rows, rows_of};
use crate::auth::DeviceCaller;
use crate::handlers::forms::heads_bytes;
use crate::router::AppState;
use crate::storage::{BatchOutcome, DocumentWrite, QuarantineEntry, StoredDocument};
use crate::{ApiError, Result};

/// Each retry means another writer stored the document meanwhile, so the system as a whole
/// makes progress; the bound only stops a pathological loop.
const MAX_ATTEMPTS: usize = 64;

pub struct SyncContext<'a> {
    pub state: &'a AppState,
    pub device: &'a DeviceCaller,
    /// The dataset epoch the request was checked against.
    pub epoch: i64,
    pub forms: FormCache,
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
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }

    fn forbidden(message: &str) -> Refusal {
        Refusal::new("forbidden", message)
    }
}

impl From<CoreError> for Refusal {
    fn from(err: CoreError) -> Refusal {
        Refusal::new(err.code(), err.to_string())
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

/// Authorizes, merges and validates one entry against the stored document; a refusal is
/// recorded here, a write is left for [`store`].
pub async fn prepare(context: &mut SyncContext<'_>, entry: &DocEntry) -> Result<Prepared> {
    match merge_and_check(context, entry).await? {
        Ok(prepared) => Ok(prepared),
        Err(refusal) => Ok(Prepared::Done(refuse(context, entry, refusal).await?)),
    }
}

/// Stores every prepared write of a request in one transaction and answers each entry.
/// Entries someone else stored first meanwhile are merged again on the newer bytes and stored
/// together in the next round, so concurrent increments to one site tally all count; an entry
/// reusing another document's actor is refused and the rest stored without it.
pub async fn store(
    context: &mut SyncContext<'_>,
    pending: Vec<(&DocEntry, Box<Pending>)>,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(pending.len());
    // Side by side, so the writes go to storage as one slice without copying them.
    let (mut waiting, mut writes): (Vec<(&DocEntry, DocEntry)>, Vec<DocumentWrite>) = pending
        .into_iter()
        .map(|(entry, p)| ((entry, p.reply), p.write))
        .unzip();
    for _ in 0..MAX_ATTEMPTS {
        if writes.is_empty() {
            return Ok(outcomes);
        }
        match context
            .state
            .storage
            .save_documents(&writes, context.epoch)
            .await?
        {
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
                writes.clear();
                for ((entry, reply), stale) in std::mem::take(&mut waiting).into_iter().zip(stale) {
                    if !stale {
                        context.state.metrics.count_merged_document();
                        outcomes.push(Outcome::Reply(reply));
                        continue;
                    }
                    context.state.metrics.count_merge_retry();
                    match prepare(context, entry).await? {
                        Prepared::Done(outcome) => outcomes.push(outcome),
                        Prepared::Write(prepared) => {
                            waiting.push((entry, prepared.reply));
                            writes.push(prepared.write);
                        }
                    }
                }
            }
            BatchOutcome::LinkedActor(culprit) => {
                let (entry, _) = waiting.remove(culprit);
                writes.remove(culprit);
                let refusal = Refusal::new(
                    "linked_actor",
                    "a change's actor already wrote another document; every document needs its own actor",
                );
                outcomes.push(refuse(context, entry, refusal).await?);
            }
        }
    }
    Err(ApiError::Internal(format!(
        "documents kept changing during {MAX_ATTEMPTS} merge attempts"
    )))
}

async fn merge_and_check(
    context: &mut SyncContext<'_>,
    entry: &DocEntry,
) -> Result<Result<Prepared, Refusal>> {
    let device = context.device;
    let stored = context.state.storage.document(entry.id).await?;
    if let Err(refusal) = authorize(device, entry, stored.as_ref()) {
        return Ok(Err(refusal));
    }
    let kind = stored.as_ref().map_or(entry.kind, |s| s.kind);
    if stored.is_none() && entry.changes.is_empty() {
        // A read of a document the server lacks (lost, or never received): send it all.
        return Ok(Ok(Prepared::Done(Outcome::NeedAll(entry.id))));
    }
    let mut merged = match merge_incoming(stored.as_ref().map(|s| s.bytes.as_slice()), &entry.changes) {
        Ok(MergeOutcome::Merged(merged)) => merged,
        Ok(MergeOutcome::NeedAll) => return Ok(Ok(Prepared::Done(Outcome::NeedAll(entry.id)))),
        Err(err) => return Ok(Err(err.into())),
    };
    let changes = merged.changes_missing_from(&entry.head_hashes());
    let reply = DocEntry::new(entry.id, kind, &merged.heads(), changes);
    if !merged.changed() {
        return Ok(Ok(Prepared::Done(Outcome::Reply(reply))));
    }
    if kind == DocKind::Form {
        return Ok(Err(Refusal::forbidden(
            "form documents are written by the server only",
        )));
    }
    Ok(checked_write(context, entry, kind, stored.as_ref(), &mut merged)
        .await?
        .map(|write| Prepared::Write(Box::new(Pending { write, reply }))))
}

/// Whether the device may touch the document at all (reads included).
fn authorize(
    device: &DeviceCaller,
    entry: &DocEntry,
    stored: Option<&StoredDocument>,
) -> Result<(), Refusal> {
    match stored {
        Some(stored) => {
            if stored.dataset != device.dataset {
                return Err(Refusal::forbidden("the document belongs to another dataset"));
            }
            if stored.kind == DocKind::Response && stored.owner != Some(device.device) {
                return Err(Refusal::forbidden(
                    "response documents belong to the device that wrote them",
                ));
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
    stored: Option<&StoredDocument>,
    merged: &mut MergedDocument,
) -> Result<Result<DocumentWrite, Refusal>> {
    let device = context.device;
    let form = match (kind, merged.form_ref()) {
        (DocKind::Response, Some((form_id, version))) => {
            match form_version(context, &form_id, version).await? {
                Some(form) => Some(form),
                None => {
                    let err = CoreError::UnknownForm {
                        form: form_id.chars().take(80).collect(),
                        version,
                    };
                    return Ok(Err(err.into()));
                }
            }
        }
        _ => None,
    };
    let checked = match merged.validate(kind, form.as_ref()) {
        Ok(checked) => checked,
        Err(err) => return Ok(Err(err.into())),
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
    let owner = match (kind, stored) {
        (DocKind::Response, Some(stored)) => stored.owner,
        (DocKind::Response, None) => Some(device.device),
        _ => None,
    };
    let Some(rows) = rows_of(&checked, owner.unwrap_or(device.device)) else {
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
        heads: heads_bytes(merged.heads()),
        bytes,
        actors: merged
            .incoming_actors()
            .iter()
            .map(|a| a.to_bytes().to_vec())
            .collect(),
        rows,
        conflicts: conflict_rows(merged.conflicts()),
    }))
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
            Some(Form::from_json(&text).map_err(|e| ApiError::Internal(format!("stored form: {e}")))?)
        }
        None => None,
    };
    context.forms.insert(key, form.clone());
    Ok(form)
}

/// Records a refusal: the entry's bytes (if it carried changes) go to quarantine.
async fn refuse(context: &SyncContext<'_>, entry: &DocEntry, refusal: Refusal) -> Result<Outcome> {
    if !entry.changes.is_empty() {
        let mut raw = Vec::new();
        ciborium::ser::into_writer(entry, &mut raw)
            .map_err(|e| ApiError::Internal(format!("encoding a quarantined entry: {e}")))?;
        let quarantined = QuarantineEntry {
            id: Uuid::new_v4(),
            dataset: context.device.dataset,
            device: context.device.device,
            document: entry.id,
            code: refusal.code.to_owned(),
            message: refusal.message.clone(),
            raw,
            received_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        };
        context.state.storage.quarantine(&quarantined).await?;
    }
    Ok(Outcome::Rejected(Rejection {
        id: entry.id,
        code: refusal.code.to_owned(),
        message: refusal.message,
    }))
}
