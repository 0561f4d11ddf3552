//! The server's per-document merge step: pure, so it is tested here without a database and the
//! server only adds storage and authorization around it.

use std::collections::HashSet;

use automerge::{ActorId, AutoCommit, Change, ReadDoc};

use crate::chunk::{InflateBudget, open_change};
use crate::document::{
    Against, add_to_tallies, check_change_metadata, check_changes, check_content, response, tally,
};
use crate::protocol::DEFAULT_MAX_INFLATED_BYTES;
use crate::{ChangeHash, CheckedDocument, Conflict, DocKind, Error, Form, Result, conflicts, load_document};

pub enum MergeOutcome {
    /// Some incoming change depends on changes the server does not have: the device must resend
    /// the document with all its changes. Nothing was applied.
    NeedAll,
    Merged(Box<MergedDocument>),
}

/// A stored document with a device's changes applied, not yet validated or saved.
pub struct MergedDocument {
    doc: AutoCommit,
    /// The incoming changes the document lacked, each to be checked on its own.
    new_changes: Vec<Change>,
    /// Whether the document held nothing before (only then may a change start its history).
    created: bool,
    changed: bool,
    incoming_actors: Vec<ActorId>,
    /// Automerge sorts a document's heads anew on every call, and a site bumped by a thousand
    /// phones offline has a thousand heads; the merged document no longer changes.
    heads: Option<Vec<ChangeHash>>,
    /// [`LoadedDocument::history_bytes`], when merged into a loaded document.
    history_bytes: Option<usize>,
}

/// A document kept loaded between merges (a server's busy site), with the least encoded sizes
/// of all its changes added up as they arrive. Telling whether a device far behind lacks more
/// than the saved document then costs a walk over the few changes the device has, where
/// listing the metadata of every change it lacks (thousands, on a site bumped by thousands of
/// phones) was a fifth to a third of the server's request threads' time.
pub struct LoadedDocument {
    doc: AutoCommit,
    history_bytes: usize,
}

impl LoadedDocument {
    /// Adds up the document's history once.
    pub fn new(mut doc: AutoCommit) -> LoadedDocument {
        let history_bytes = doc.get_changes_meta(&[]).iter().map(least_encoded_size).sum();
        LoadedDocument { doc, history_bytes }
    }
}

/// Applies `incoming` change bytes to the `stored` document bytes (None for a document the
/// server has never seen). Applying a change twice is a no-op, so replays are harmless.
pub fn merge_incoming<B: AsRef<[u8]>>(stored: Option<&[u8]>, incoming: &[B]) -> Result<MergeOutcome> {
    let changes = parse_changes(incoming)?;
    let doc = match stored {
        Some(bytes) => contain_panics(|| load_document(bytes))?,
        None => AutoCommit::new(),
    };
    apply_checked(doc, changes, None)
}

/// [`merge_incoming`] on a document the caller already holds loaded (a server keeping busy
/// documents in memory), which saves parsing its whole history again. The document is consumed:
/// on an error or `NeedAll` it may hold part of the changes and must be loaded afresh.
pub fn merge_into<B: AsRef<[u8]>>(loaded: LoadedDocument, incoming: &[B]) -> Result<MergeOutcome> {
    apply_checked(loaded.doc, parse_changes(incoming)?, Some(loaded.history_bytes))
}

fn apply_checked(
    mut doc: AutoCommit,
    changes: Vec<Change>,
    history_bytes: Option<usize>,
) -> Result<MergeOutcome> {
    let mut incoming_actors: Vec<ActorId> = changes.iter().map(|c| c.actor_id().clone()).collect();
    incoming_actors.sort();
    incoming_actors.dedup();
    let hashes: Vec<ChangeHash> = changes.iter().map(Change::hash).collect();
    // Each change the document lacks counts once, however often the request repeats it.
    let mut lacked: HashSet<ChangeHash> = doc.get_missing_deps(&hashes).into_iter().collect();
    let new_changes: Vec<Change> = changes
        .iter()
        .filter(|c| lacked.remove(&c.hash()))
        .cloned()
        .collect();
    for change in &new_changes {
        check_encoding(change)?;
    }
    let history_bytes = history_bytes.map(|bytes| {
        let added: usize = new_changes
            .iter()
            .map(|c| least_size(c.deps().len(), c.actor_id()))
            .sum();
        bytes + added
    });
    // Changes already held are skipped and changes missing a dependency are queued, so the
    // count of applied changes grows exactly when something new was merged.
    let before = doc.stats().num_changes;
    let created = before == 0;
    let doc = contain_panics(move || {
        doc.apply_changes(changes)?;
        Ok(doc)
    })?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Ok(MergeOutcome::NeedAll);
    }
    let changed = doc.stats().num_changes > before;
    Ok(MergeOutcome::Merged(Box::new(MergedDocument {
        doc,
        new_changes,
        created,
        changed,
        incoming_actors,
        heads: None,
        history_bytes,
    })))
}

/// Parses change bytes (compressed ones inflated within a budget) and enforces the rules on a
/// change's metadata (timestamp 0, no message, no author, a 16-byte actor, a bounded size)
/// before anything is applied.
pub(crate) fn parse_changes<B: AsRef<[u8]>>(incoming: &[B]) -> Result<Vec<Change>> {
    let mut budget = InflateBudget::new(DEFAULT_MAX_INFLATED_BYTES);
    incoming
        .iter()
        .map(|bytes| {
            let bytes = bytes.as_ref();
            let opened = open_change(bytes, &mut budget)?.unwrap_or_else(|| bytes.to_vec());
            let change = Change::from_bytes(opened).map_err(|e| Error::Automerge(e.to_string()))?;
            check_change_metadata(&change)?;
            Ok(change)
        })
        .collect()
}

impl MergedDocument {
    /// Whether the incoming changes added anything the server did not have.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Actors that wrote the incoming changes, for the server's check that an actor never
    /// appears in two documents.
    pub fn incoming_actors(&self) -> &[ActorId] {
        &self.incoming_actors
    }

    /// For a response, the form id and version it claims, so the caller can fetch that form.
    pub fn form_ref(&self) -> Option<(String, i64)> {
        response::form_ref(&self.doc).ok()
    }

    /// For a tally document, the site it claims to count for, so the caller can fetch that
    /// site's metrics.
    pub fn tally_site(&self) -> Option<uuid::Uuid> {
        tally::site_of(&self.doc).ok()
    }

    /// Validates the merged document as a `kind` document (responses against `form`): its
    /// state, and each new change on its own, since the history keeps what the state no longer
    /// shows. The new changes are a device's, so none of them may touch the review. Tally
    /// documents go through [`MergedDocument::validate_tally`].
    pub fn validate(&mut self, kind: DocKind, form: Option<&Form>) -> Result<CheckedDocument> {
        self.validate_against(kind, Against::Form(form))
    }

    /// Validates the merged document as a tally document of a site with `metrics`.
    pub fn validate_tally(&mut self, metrics: &[String]) -> Result<CheckedDocument> {
        self.validate_against(DocKind::Tally, Against::Site(Some(metrics)))
    }

    fn validate_against(&mut self, kind: DocKind, against: Against<'_>) -> Result<CheckedDocument> {
        let checked = check_content(&self.doc, against.form())?;
        if checked.kind() != kind {
            return Err(Error::WrongKind {
                claimed: kind.as_str(),
                actual: checked.kind().as_str(),
            });
        }
        check_changes(
            &mut self.doc,
            &self.new_changes,
            kind,
            against,
            self.created,
            true,
        )?;
        Ok(checked)
    }

    /// Adds `deltas` to a site document's tallies as a change of the server's own: how counts
    /// kept elsewhere (devices' tally documents) reach phones that read only the site. Like a
    /// form, the server's change is not held to a device's rules: a total two devices corrected
    /// offline may be below zero, and the site then shows it so.
    pub fn add_to_tallies(&mut self, deltas: &std::collections::BTreeMap<String, i64>) -> Result<()> {
        let before = self.heads();
        add_to_tallies(&mut self.doc, deltas)?;
        self.heads = None;
        if self.heads() == before {
            return Ok(());
        }
        let change = self
            .doc
            .get_last_local_change()
            .ok_or_else(|| Error::Automerge("the server's change was not kept".into()))?;
        let actor = change.actor_id().clone();
        self.history_bytes = self
            .history_bytes
            .map(|bytes| bytes + least_size(change.deps().len(), &actor));
        if let Err(at) = self.incoming_actors.binary_search(&actor) {
            self.incoming_actors.insert(at, actor);
        }
        self.changed = true;
        Ok(())
    }

    pub fn conflicts(&self) -> Vec<Conflict> {
        conflicts(&self.doc)
    }

    /// Sorted, as Automerge returns them.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.heads.get_or_insert_with(|| self.doc.get_heads()).clone()
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes a device that has `device_heads` lacks of the state with heads `upto` (this
    /// document's heads, or an earlier state's: what a server knows is stored), if they add up
    /// to at most `max_bytes`; `None` when the document saved whole (protocol v2's `state`,
    /// `max_bytes` long) costs less to send.
    pub fn changes_within(
        &mut self,
        device_heads: &[ChangeHash],
        upto: &[ChangeHash],
        max_bytes: usize,
    ) -> Option<Vec<Vec<u8>>> {
        let known = self.known_heads(device_heads);
        let after = if sorted(upto.to_vec()) == self.heads() {
            Vec::new()
        } else {
            let upto = self.known_heads(upto);
            self.doc
                .get_changes_meta(&upto)
                .iter()
                .map(|m| (m.hash, least_encoded_size(m)))
                .collect()
        };
        let after_bytes: usize = after.iter().map(|(_, bytes)| bytes).sum();
        let after: HashSet<ChangeHash> = after.into_iter().map(|(hash, _)| hash).collect();
        // Without a limit (protocol v1) there is nothing to rule out.
        if max_bytes < usize::MAX && self.least_missing_bytes(&known, &after, after_bytes) > max_bytes {
            return None;
        }
        let mut size = 0usize;
        let mut out = Vec::new();
        for mut change in self.doc.get_changes(&known) {
            if after.contains(&change.hash()) {
                continue;
            }
            let bytes = change.bytes();
            size += bytes.len();
            if size > max_bytes {
                return None;
            }
            out.push(bytes.into_owned());
        }
        Some(out)
    }

    /// A lower bound of the encoded size of the changes a device with `known` heads lacks,
    /// `after` (`after_bytes` in all) left out. Automerge 0.12 builds each change it hands out
    /// anew from the op set, at a cost that grows with the document's actors: for phones a
    /// thousand bumps behind on a busy site that was 40 % of the server's time. What the
    /// metadata alone says rules out first what cannot fit: the whole history less what the
    /// device has, when the document keeps that sum and the device has few changes, else the
    /// metadata of every change the device lacks.
    fn least_missing_bytes(
        &mut self,
        known: &[ChangeHash],
        after: &HashSet<ChangeHash>,
        after_bytes: usize,
    ) -> usize {
        let total = self.history_bytes;
        match total.and_then(|total| Some((total, self.history_bytes_of(known)?))) {
            Some((total, had)) => total.saturating_sub(had).saturating_sub(after_bytes),
            None => self
                .doc
                .get_changes_meta(known)
                .iter()
                .filter(|m| !after.contains(&m.hash))
                .map(least_encoded_size)
                .sum(),
        }
    }

    /// The changes a device that has `device_heads` lacks. Heads the server does not know are
    /// ignored: they can only name changes the device has and has not sent yet.
    pub fn changes_missing_from(&mut self, device_heads: &[ChangeHash]) -> Vec<Vec<u8>> {
        let known = self.known_heads(device_heads);
        self.doc
            .get_changes(&known)
            .into_iter()
            .map(|mut c| c.bytes().into_owned())
            .collect()
    }

    /// The least encoded sizes of `heads` and all their ancestors, added up; `None` once the
    /// walk has met [`HISTORY_WALK_LIMIT`] changes, where listing what the device lacks is the
    /// cheaper way (each step asks Automerge for one change's metadata, which costs a search
    /// of its change columns).
    fn history_bytes_of(&mut self, heads: &[ChangeHash]) -> Option<usize> {
        let mut seen = HashSet::new();
        let mut stack = heads.to_vec();
        let mut bytes = 0;
        while let Some(hash) = stack.pop() {
            if !seen.insert(hash) {
                continue;
            }
            let meta = self.doc.get_change_meta_by_hash(&hash)?;
            bytes += least_encoded_size(&meta);
            stack.extend(meta.deps.iter().copied());
            if seen.len() + stack.len() > HISTORY_WALK_LIMIT {
                return None;
            }
        }
        Some(bytes)
    }

    fn known_heads(&mut self, device_heads: &[ChangeHash]) -> Vec<ChangeHash> {
        // A hash lookup each, where asking for each head's metadata cost a search of the
        // change columns.
        let unknown = self.doc.get_missing_deps(device_heads);
        device_heads
            .iter()
            .copied()
            .filter(|h| !unknown.contains(h))
            .collect()
    }

    pub fn into_document(self) -> AutoCommit {
        self.doc
    }

    /// The merged document to keep loaded for the next merge.
    pub fn into_loaded(self) -> LoadedDocument {
        match self.history_bytes {
            Some(history_bytes) => LoadedDocument {
                doc: self.doc,
                history_bytes,
            },
            None => LoadedDocument::new(self.doc),
        }
    }
}

/// A lower bound of a change's encoded size: a change chunk holds a magic number (4 bytes), a
/// checksum (4), its type (1) and length (at least 1), then its dependencies (a count and 32
/// bytes each), its actor (a length and the bytes), at least a byte each for the sequence
/// number, start op, time, message, other actors and op columns, and its ops; compression, for
/// large changes, shrinks the ops only.
fn least_encoded_size(meta: &automerge::ChangeMetadata<'_>) -> usize {
    least_size(meta.deps.len(), &meta.actor)
}

fn least_size(deps: usize, actor: &ActorId) -> usize {
    let chunk_header = 4 + 4 + 1 + 1;
    chunk_header + (1 + 32 * deps) + (1 + actor.to_bytes().len()) + 6
}

/// Changes met walking back from a device's heads before giving up on [`LoadedDocument`]'s
/// sum. A phone new to a busy site (enrolled before the others bumped it, or joining late) has
/// a handful; a phone that synced with the site since has its whole history, and on a busy site
/// its own latest change already names many heads, so the walk stops at its first step.
const HISTORY_WALK_LIMIT: usize = 16;

/// Runs Automerge on untrusted bytes. Automerge 0.12 can panic on some crafted changes (an
/// `unwrap` on an actor lookup while applying them); a device must not be able to take down a
/// server task that way, so a panic becomes a `malformed` error and the half-applied document is
/// dropped.
/// A document's saved form keeps operations, not change bytes: loading it encodes every change
/// again from its operations and checks the heads. So a change whose bytes differ from the
/// encoding Automerge makes of its own operations (a bit changed where decoding does not look)
/// would be stored under a hash its document cannot reproduce, and the saved document would
/// not load again ("mismatching heads"). Automerge's own encoders, in Rust and in JavaScript,
/// write only that encoding.
fn check_encoding(change: &Change) -> Result<()> {
    let again = contain_panics(|| Ok(Change::from(change.decode())))?;
    if again.hash() == change.hash() {
        Ok(())
    } else {
        Err(Error::Automerge(
            "a change is not encoded the way Automerge encodes its operations".into(),
        ))
    }
}

pub(crate) fn contain_panics<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(Error::Automerge("the changes could not be applied".into())))
}

pub(crate) fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_document, site};

    /// The running sum equals the sum over the history however the history arrived: in
    /// pieces, with replays and with a change twice in one request.
    #[test]
    fn a_loaded_document_sums_its_history_as_it_grows() {
        let mut origin =
            site::create(uuid::Uuid::new_v4(), "pier", "Pier", site::DEFAULT_METRICS).expect("site");
        let saved = origin.save();
        let mut phones: Vec<AutoCommit> = (0..3).map(|_| load_document(&saved).expect("load")).collect();
        let mut loaded = LoadedDocument::new(load_document(&saved).expect("load"));
        for round in 0..3 {
            let mut incoming = Vec::new();
            for phone in &mut phones {
                site::increment(phone, "kits", round + 1).expect("bump");
                let mut change = phone.get_last_local_change().expect("a change");
                incoming.push(change.bytes().into_owned());
            }
            incoming.push(incoming[0].clone());
            let MergeOutcome::Merged(merged) = merge_into(loaded, &incoming).expect("merge") else {
                panic!("complete")
            };
            loaded = merged.into_loaded();
            let replayed = merge_into(loaded, &incoming).expect("merge");
            let MergeOutcome::Merged(replayed) = replayed else {
                panic!("complete")
            };
            loaded = replayed.into_loaded();
            let recounted = LoadedDocument::new(loaded.doc.fork()).history_bytes;
            assert_eq!(loaded.history_bytes, recounted, "round {round}");
        }
    }
}
