//! The device side of sync: a pure state machine that owns a device's documents of one
//! dataset and the heads the server last confirmed for each. The WASM and CLI clients wrap it,
//! move its requests over HTTP and persist its state with [`ClientEngine::save`].

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, AutoCommit};
use serde::{Deserialize, Serialize};
use serde_bytes::{ByteArray, ByteBuf};
use uuid::Uuid;

use crate::document::{
    Against, ResponseStatus, check_changes, counts_at, form_doc, load_document, response, site, tally,
};
use crate::merge::{contain_panics, parse_changes, sorted};
use crate::{
    ChangeHash, DocEntry, DocKind, Error, Form, PROTOCOL_VERSION, ResponseEdit, ResponseView, Result,
    SiteView, SyncRequest, SyncResponse, TALLY_DOCUMENTS_SINCE,
};

const STATE_VERSION: u32 = 1;

/// Counts by metric.
type Counts = BTreeMap<String, i64>;

pub struct ClientEngine {
    dataset: Uuid,
    epoch: u64,
    /// The protocol version requests are built for: [`PROTOCOL_VERSION`] unless the server
    /// turned out to be older.
    protocol: u64,
    /// The protocol of the last reply taken in (0 before the first): where a bump goes.
    synced: u64,
    /// The last response said `more`, or a request left changes behind: sync again.
    more: bool,
    docs: BTreeMap<Uuid, LocalDoc>,
    rejections: Vec<LocalRejection>,
    /// The last totals a v3 reply carried: what each site counts, less this device's tally
    /// documents.
    totals: BTreeMap<Uuid, Counts>,
    /// The server's digest of `totals`, echoed so that it sends them again only once they moved;
    /// `None` while the totals held come from no v3 reply.
    totals_digest: Option<[u8; 16]>,
    /// Responses withdrawn here whose withdrawal the server has not confirmed yet.
    withdrawals: Vec<Uuid>,
    /// Whether a submitted response is deleted once the server confirmed holding all of it;
    /// `None` in a state saved before the setting existed, for the client to choose.
    delete_after_send: Option<bool>,
    /// Responses deleted after the server confirmed them: their ids only, so the worker sees a
    /// count, a file saved before cannot bring their content back, and a withdrawal by id still
    /// reaches the server.
    sent: BTreeSet<Uuid>,
}

struct LocalDoc {
    kind: DocKind,
    /// Parsed on first use. A phone months into a campaign holds hundreds of responses the
    /// server confirmed long ago; parsing them all whenever the engine is loaded would make
    /// every sync cost more the older the campaign.
    loaded: OnceCell<AutoCommit>,
    /// The document as loaded from a saved engine, reused when saving again unchanged.
    saved: Option<Saved>,
    /// Sorted heads the server confirmed holding; changes after them are still to be sent.
    confirmed: Vec<ChangeHash>,
    /// The server refused the document's current state: wait for a new edit before resending.
    rejected: bool,
}

struct Saved {
    bytes: Vec<u8>,
    actor: ActorId,
    /// Sorted; empty when the saved engine predates them.
    heads: Vec<ChangeHash>,
}

/// The rejection code of a response withdrawn on the server (by its phone or an admin): the
/// phone deletes it, since keeping a copy would keep what the respondent took back.
pub const WITHDRAWN: &str = "withdrawn";

/// A document the server refused, kept for the user to see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRejection {
    pub id: Uuid,
    pub code: String,
    pub message: String,
}

impl LocalDoc {
    fn new(kind: DocKind, doc: AutoCommit) -> LocalDoc {
        LocalDoc {
            kind,
            loaded: OnceCell::from(doc),
            saved: None,
            confirmed: Vec::new(),
            rejected: false,
        }
    }

    fn doc(&self) -> Result<&AutoCommit> {
        if let Some(doc) = self.loaded.get() {
            return Ok(doc);
        }
        let saved = self
            .saved
            .as_ref()
            .ok_or_else(|| Error::EngineState("a document has neither bytes nor a copy".into()))?;
        let doc = AutoCommit::load(&saved.bytes)
            .map_err(|e| Error::EngineState(e.to_string()))?
            .with_actor(saved.actor.clone());
        Ok(self.loaded.get_or_init(|| doc))
    }

    fn doc_mut(&mut self) -> Result<&mut AutoCommit> {
        self.doc()?;
        self.loaded
            .get_mut()
            .ok_or_else(|| Error::EngineState("a document failed to load".into()))
    }

    /// Sorted, without parsing a document saved with its heads.
    fn heads(&mut self) -> Result<Vec<ChangeHash>> {
        match (&self.saved, self.loaded.get()) {
            (Some(saved), None) if !saved.heads.is_empty() => Ok(saved.heads.clone()),
            _ => Ok(sorted(self.doc_mut()?.get_heads())),
        }
    }

    /// A document that cannot be read cannot be sent either.
    fn pending(&mut self) -> bool {
        !self.rejected && self.heads().is_ok_and(|heads| heads != self.confirmed)
    }

    /// The counts of the state the server confirmed holding (none, for a document it has not
    /// confirmed).
    fn confirmed_counts(&self) -> Result<Counts> {
        if self.confirmed.is_empty() {
            return Ok(Counts::new());
        }
        counts_at(self.doc()?, &self.confirmed)
    }
}

impl ClientEngine {
    pub fn new(dataset: Uuid, epoch: u64) -> ClientEngine {
        ClientEngine {
            dataset,
            epoch,
            protocol: PROTOCOL_VERSION,
            synced: 0,
            more: true,
            docs: BTreeMap::new(),
            rejections: Vec::new(),
            totals: BTreeMap::new(),
            totals_digest: None,
            withdrawals: Vec::new(),
            delete_after_send: None,
            sent: BTreeSet::new(),
        }
    }

    pub fn dataset(&self) -> Uuid {
        self.dataset
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The protocol version of the requests [`ClientEngine::build_request`] builds; a client
    /// posts them to `/v{protocol}/sync`.
    pub fn protocol(&self) -> u64 {
        self.protocol
    }

    /// Speak an older protocol, for a server that does not know the newer one (it answered
    /// the newer route with 404). Not saved: the next session tries the newest again. Below
    /// protocol 3 tally documents are not sent; they wait for a server of protocol 3.
    pub fn set_protocol(&mut self, version: u64) -> Result<()> {
        if !crate::SUPPORTED_VERSIONS.contains(&version) {
            return Err(Error::UnsupportedVersion(version));
        }
        self.protocol = version;
        Ok(())
    }

    /// Steps down one protocol version, for a server that answered this one's route with 404;
    /// false when there is no older one left to try.
    pub fn use_older_protocol(&mut self) -> bool {
        self.set_protocol(self.protocol - 1).is_ok()
    }

    pub fn rejections(&self) -> &[LocalRejection] {
        &self.rejections
    }

    /// Documents with edits the server has not confirmed (and that this protocol can send).
    pub fn pending_count(&mut self) -> usize {
        self.pending_documents().len()
    }

    /// The ids of the documents [`ClientEngine::pending_count`] counts, in id order: what the
    /// next requests will carry. Listing them changes nothing.
    pub fn pending_documents(&mut self) -> Vec<Uuid> {
        let protocol = self.protocol;
        self.docs
            .iter_mut()
            .filter(|(_, d)| sendable(d.kind, protocol))
            .filter_map(|(id, d)| d.pending().then_some(*id))
            .collect()
    }

    /// Whether another sync round is needed to be up to date in both directions.
    pub fn needs_sync(&mut self) -> bool {
        self.more || self.pending_count() > 0
    }

    pub fn document_ids(&self, kind: DocKind) -> Vec<Uuid> {
        self.docs
            .iter()
            .filter(|(_, d)| d.kind == kind)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Raw access for tests and tools that need the Automerge document itself.
    pub fn document_mut(&mut self, id: Uuid) -> Result<&mut AutoCommit> {
        self.local(id)?.doc_mut()
    }

    // --- forms -------------------------------------------------------------------------------

    /// The latest version of every form the server has sent.
    pub fn forms(&self) -> Vec<Form> {
        let mut latest: BTreeMap<String, Form> = BTreeMap::new();
        for form in self.all_forms() {
            if latest.get(&form.id).is_none_or(|f| f.version < form.version) {
                latest.insert(form.id.clone(), form);
            }
        }
        latest.into_values().collect()
    }

    pub fn form(&self, id: &str, version: Option<i64>) -> Result<Form> {
        self.all_forms()
            .filter(|f| f.id == id && version.is_none_or(|v| v == f.version))
            .max_by_key(|f| f.version)
            .ok_or_else(|| Error::UnknownForm {
                form: crate::quoted(id),
                version: version.unwrap_or(0),
            })
    }

    fn all_forms(&self) -> impl Iterator<Item = Form> + '_ {
        self.docs
            .values()
            .filter(|d| d.kind == DocKind::Form)
            .filter_map(|d| form_doc::read(d.doc().ok()?).ok())
            .map(|f| f.form)
    }

    // --- responses ---------------------------------------------------------------------------

    /// Starts a response on the latest version of form `form_id`.
    pub fn create_response(&mut self, form_id: &str, edit: &ResponseEdit) -> Result<Uuid> {
        let form = self.form(form_id, None)?;
        let doc = response::create(self.dataset, &form, edit)?;
        self.insert_new(DocKind::Response, doc, Against::Form(Some(&form)))
    }

    pub fn edit_response(&mut self, id: Uuid, edit: &ResponseEdit) -> Result<()> {
        let form = self.response_form(id)?;
        self.write(id, Against::Form(Some(&form)), |doc| {
            response::apply_edit(doc, &form, edit)
        })
    }

    /// Withdraws a response: deletes it here at once (or, deleted after send already, takes
    /// it off the sent ones) and keeps its id until the client has told the server
    /// (`DELETE /v1/datasets/{dataset}/responses/{id}`, docs/protocol.md) and calls
    /// [`ClientEngine::withdrawal_sent`]. Every response is told, sent or not: a request whose
    /// answer was lost may have stored it.
    pub fn withdraw(&mut self, id: Uuid) -> Result<()> {
        if self.sent.remove(&id) {
            self.withdrawals.push(id);
            return Ok(());
        }
        let actual = self.local(id)?.kind;
        if actual != DocKind::Response {
            return Err(Error::WrongKind {
                claimed: DocKind::Response.as_str(),
                actual: actual.as_str(),
            });
        }
        self.docs.remove(&id);
        self.rejections.retain(|r| r.id != id);
        self.withdrawals.push(id);
        Ok(())
    }

    /// Withdrawn responses the server has yet to be told of.
    pub fn withdrawals(&self) -> &[Uuid] {
        &self.withdrawals
    }

    /// The server confirmed a withdrawal (200), or holds nothing of it from this device (404).
    pub fn withdrawal_sent(&mut self, id: Uuid) {
        self.withdrawals.retain(|w| *w != id);
    }

    // --- delete after send -------------------------------------------------------------------

    /// Whether submitted responses are deleted once the server confirmed them; `None` until a
    /// client chose (the web app and the CLI choose from the dataset's mode at enrollment).
    pub fn delete_after_send(&self) -> Option<bool> {
        self.delete_after_send
    }

    /// Turns deleting after send on (which at once deletes every response already confirmed)
    /// or off (from then on sent responses stay; the deleted ones do not come back).
    pub fn set_delete_after_send(&mut self, on: bool) {
        self.delete_after_send = Some(on);
        if on {
            self.delete_sent();
        }
    }

    /// How many responses were deleted after the server confirmed them (since the last reset).
    pub fn sent_count(&self) -> usize {
        self.sent.len()
    }

    /// Whether this response was deleted after the server confirmed it.
    pub fn was_sent(&self, id: Uuid) -> bool {
        self.sent.contains(&id)
    }

    /// Deletes every submitted response whose whole current history the server confirmed: the
    /// device keeps nothing a later edit would need, since a submitted response is finished
    /// (the server holds it, and withdrawal needs only the id). Drafts, refused responses and
    /// responses with edits still unsent stay.
    fn delete_sent(&mut self) {
        let confirmed: Vec<Uuid> = self
            .docs
            .iter_mut()
            .filter_map(|(id, local)| {
                let done = local.kind == DocKind::Response
                    && !local.confirmed.is_empty()
                    && !local.rejected
                    && !local.pending()
                    && local.doc().ok().and_then(|doc| response::status(doc).ok())
                        == Some(ResponseStatus::Submitted);
                done.then_some(*id)
            })
            .collect();
        for id in confirmed {
            self.docs.remove(&id);
            self.sent.insert(id);
        }
    }

    pub fn response(&mut self, id: Uuid) -> Result<ResponseView> {
        let form = self.response_form(id)?;
        response::read(self.local(id)?.doc()?, &form)
    }

    fn response_form(&mut self, id: Uuid) -> Result<Form> {
        let local = self.local(id)?;
        if local.kind != DocKind::Response {
            return Err(Error::WrongKind {
                claimed: "response",
                actual: local.kind.as_str(),
            });
        }
        let (form_id, version) = response::form_ref(local.doc()?)?;
        self.form(&form_id, Some(version))
    }

    // --- sites -------------------------------------------------------------------------------

    pub fn create_site(&mut self, code: &str, name: &str) -> Result<Uuid> {
        let doc = site::create(self.dataset, code, name, site::DEFAULT_METRICS)?;
        self.insert_new(DocKind::Site, doc, Against::Form(None))
    }

    /// Adds `by` to one of a site's tallies. When the last sync spoke protocol 3 the count
    /// goes into this device's tally document for the site (made by the first bump), once the
    /// server holds the site; otherwise the site document is bumped itself, as under the older
    /// protocols: a site this device created and has not sent yet, or any site when the server
    /// last answered in an older protocol. Where a bump goes follows the last answer rather than
    /// the protocol of the next request, so bumps made before a server turns out to be older
    /// are not stranded in tally documents it cannot take, and no bump is ever moved from one
    /// document to another (a lost answer would leave the server counting it twice). Either way
    /// a tally never falls below zero on the copy the bump is made on: in a tally document a
    /// device takes away only what it counted.
    pub fn bump_tally(&mut self, site_id: Uuid, metric: &str, by: i64) -> Result<()> {
        let synced = self.synced;
        let site = self.docs.get(&site_id).ok_or(Error::UnknownDocument(site_id))?;
        if site.kind != DocKind::Site {
            return Err(Error::WrongKind {
                claimed: "site",
                actual: site.kind.as_str(),
            });
        }
        if synced < TALLY_DOCUMENTS_SINCE || site.confirmed.is_empty() {
            return self.write(site_id, Against::Form(None), |doc| {
                site::increment(doc, metric, by)
            });
        }
        let metrics: Vec<String> = site::read(site.doc()?)?.tallies.into_keys().collect();
        let against = Against::Site(Some(&metrics));
        match self.tally_documents(site_id).first() {
            Some(&tally_id) => self.write(tally_id, against, |doc| tally::increment(doc, metric, by)),
            None => {
                let doc = tally::create(self.dataset, site_id, &metrics, (metric, by))?;
                self.insert_new(DocKind::Tally, doc, against).map(drop)
            }
        }
    }

    /// Every site with the tallies this device shows. After a sync over protocol 3: what the
    /// server said the others counted, plus this device's tally documents, plus what this copy
    /// of the site counts that the server has not confirmed. Otherwise: the site document's
    /// counts, plus what tally documents count that no server has confirmed (they wait for a
    /// server of protocol 3; what one confirmed, the server counts, and a server of protocol 3
    /// adds to the site document for older phones).
    pub fn sites(&self) -> Vec<(Uuid, SiteView)> {
        let own = self.own_counts(self.synced < TALLY_DOCUMENTS_SINCE);
        self.docs
            .iter()
            .filter(|(_, d)| d.kind == DocKind::Site)
            .filter_map(|(id, local)| {
                let mut view = site::read(local.doc().ok()?).ok()?;
                let totals = self.totals.get(id).filter(|_| !local.confirmed.is_empty());
                if let Some(totals) = totals {
                    let confirmed = local.confirmed_counts().ok()?;
                    for (metric, count) in &mut view.tallies {
                        *count += totals.get(metric).copied().unwrap_or(0)
                            - confirmed.get(metric).copied().unwrap_or(0);
                    }
                }
                let mine = own.get(id);
                for (metric, count) in &mut view.tallies {
                    *count += mine.and_then(|counts| counts.get(metric)).copied().unwrap_or(0);
                }
                Some((*id, view))
            })
            .collect()
    }

    /// What this device's tally documents count, by site: all of it, or only what no server
    /// has confirmed.
    fn own_counts(&self, unconfirmed_only: bool) -> BTreeMap<Uuid, Counts> {
        let mut own: BTreeMap<Uuid, Counts> = BTreeMap::new();
        for local in self.docs.values().filter(|d| d.kind == DocKind::Tally) {
            let Some(view) = local.doc().ok().and_then(|doc| tally::read(doc).ok()) else {
                continue;
            };
            let confirmed = match unconfirmed_only {
                true => local.confirmed_counts().unwrap_or_default(),
                false => Counts::new(),
            };
            let counts = own.entry(view.site).or_default();
            for (metric, count) in view.tallies {
                let sent = confirmed.get(&metric).copied().unwrap_or(0);
                *counts.entry(metric).or_insert(0) += count - sent;
            }
        }
        own
    }

    /// This device's tally documents for `site`, in id order.
    fn tally_documents(&self, site: Uuid) -> Vec<Uuid> {
        self.docs
            .iter()
            .filter(|(_, d)| d.kind == DocKind::Tally)
            .filter(|(_, d)| d.doc().ok().and_then(|doc| tally::site_of(doc).ok()) == Some(site))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Keeps a new document, once its history passes the server's checks of every change.
    fn insert_new(&mut self, kind: DocKind, mut doc: AutoCommit, against: Against<'_>) -> Result<Uuid> {
        let changes = doc.get_changes(&[]);
        check_changes(&mut doc, &changes, kind, against, true, true)?;
        let id = Uuid::new_v4();
        self.docs.insert(id, LocalDoc::new(kind, doc));
        Ok(id)
    }

    /// Makes one edit (one change) to a document, kept only if the change passes the checks
    /// the server applies to every change: the engine never writes a history the server would
    /// refuse, nor one that would keep something the document's state no longer shows.
    fn write(
        &mut self,
        id: Uuid,
        against: Against<'_>,
        edit: impl FnOnce(&mut AutoCommit) -> Result<()>,
    ) -> Result<()> {
        let local = self.local(id)?;
        let kind = local.kind;
        let doc = local.doc_mut()?;
        let before = doc.get_heads();
        edit(doc)?;
        let written: Vec<_> = doc.get_last_local_change().into_iter().collect();
        if let Err(err) = check_changes(doc, &written, kind, against, false, true) {
            let actor = doc.get_actor().clone();
            *doc = doc.fork_at(&before)?.with_actor(actor);
            return Err(err);
        }
        local.rejected = false;
        Ok(())
    }

    fn local(&mut self, id: Uuid) -> Result<&mut LocalDoc> {
        self.docs.get_mut(&id).ok_or(Error::UnknownDocument(id))
    }

    // --- sync --------------------------------------------------------------------------------

    /// The next request: the changes made since the server last confirmed each document,
    /// until about `max_change_bytes` of changes are included (always at least one document's
    /// worth, so every round makes progress), and every form and site held, with its heads,
    /// as a read. Responses are named as reads too, so that the server can answer one it no
    /// longer holds (`need_all`) or that was withdrawn ([`WITHDRAWN`]). Below protocol 3 so are
    /// tally documents; over protocol 3 a tally document the server has confirmed is left out:
    /// nothing can happen to it on the server but a reset, and a phone's tally documents grow in
    /// number with the sites it counts at. A document left out for size is sent with its
    /// confirmed heads, as a read, and goes in a later round. Over protocol 3 it names the
    /// totals it holds by their digest, so the server sends them only once they moved.
    pub fn build_request(&mut self, max_change_bytes: usize) -> SyncRequest {
        let protocol = self.protocol;
        let mut used = 0usize;
        let mut entries = Vec::with_capacity(self.docs.len());
        let mut deferred = false;
        for (id, local) in &mut self.docs {
            if !sendable(local.kind, protocol) {
                continue;
            }
            let pending = local.pending();
            if !pending && local.kind == DocKind::Tally && protocol >= TALLY_DOCUMENTS_SINCE {
                continue;
            }
            let changes = if pending {
                unsent_changes(local)
            } else {
                Vec::new()
            };
            let size: usize = changes.iter().map(Vec::len).sum();
            if pending && used > 0 && used + size > max_change_bytes {
                deferred = true;
                if !local.confirmed.is_empty() {
                    entries.push(DocEntry::new(*id, local.kind, &local.confirmed, Vec::new()));
                }
                continue;
            }
            used += size;
            let heads = match local.heads() {
                Ok(heads) if pending => heads,
                _ => local.confirmed.clone(),
            };
            entries.push(DocEntry::new(*id, local.kind, &heads, changes));
        }
        self.more = deferred;
        SyncRequest {
            v: self.protocol,
            dataset: self.dataset,
            epoch: self.epoch,
            docs: entries,
            totals_seen: self
                .totals_digest
                .filter(|_| protocol >= TALLY_DOCUMENTS_SINCE)
                .map(ByteArray::new),
        }
    }

    /// Takes in the server's answer to the last request. On `reset` every local document of
    /// the dataset is dropped, so stale training data can never be uploaded again; a document
    /// refused as [`WITHDRAWN`] is dropped too, and with delete after send on, every submitted
    /// response the server now holds whole.
    pub fn apply_response(&mut self, answer: &SyncResponse) -> Result<()> {
        if answer.reset {
            self.docs.clear();
            self.rejections.clear();
            self.totals.clear();
            self.totals_digest = None;
            self.synced = answer.v;
            self.withdrawals.clear();
            self.sent.clear();
            self.epoch = answer.epoch;
            self.more = true;
            return Ok(());
        }
        self.take_documents(&answer.docs)?;
        self.epoch = answer.epoch;
        for id in &answer.need_all {
            if let Some(local) = self.docs.get_mut(id) {
                local.confirmed.clear();
                local.rejected = false;
            }
        }
        for rejection in &answer.rejected {
            if rejection.code == WITHDRAWN {
                self.docs.remove(&rejection.id);
                self.rejections.retain(|r| r.id != rejection.id);
                continue;
            }
            if let Some(local) = self.docs.get_mut(&rejection.id) {
                local.rejected = true;
            }
            self.rejections.retain(|r| r.id != rejection.id);
            self.rejections.push(LocalRejection {
                id: rejection.id,
                code: rejection.code.clone(),
                message: rejection.message.clone(),
            });
        }
        // A v3 reply carries every site's totals, unless they are still the ones this device
        // said it holds; an older reply none, and the site documents' own counts are then what
        // there is.
        self.synced = answer.v;
        match &answer.totals {
            Some(totals) => {
                self.totals = totals.sites.iter().map(|t| (t.site, t.tallies.clone())).collect();
                self.totals_digest = Some(totals.digest);
            }
            None if answer.v >= TALLY_DOCUMENTS_SINCE => {}
            None => {
                self.totals.clear();
                self.totals_digest = None;
            }
        }
        self.more |= answer.more || !answer.need_all.is_empty();
        if self.delete_after_send == Some(true) {
            self.delete_sent();
        }
        Ok(())
    }

    /// Takes in document entries as a reply carries them, and nothing else of a reply: how a
    /// client adds the documents of another saved state of the same dataset (an exported file).
    /// An entry whose heads this engine then holds is confirmed at those heads.
    pub fn take_documents(&mut self, docs: &[DocEntry]) -> Result<()> {
        // Parse everything before touching state, so a bad answer changes nothing.
        let parsed = docs
            .iter()
            .map(|entry| {
                let incoming = match &entry.state {
                    Some(state) => Incoming::State(Box::new(contain_panics(|| load_document(state))?)),
                    None => Incoming::Changes(parse_changes(&entry.changes)?),
                };
                Ok((entry, incoming))
            })
            .collect::<Result<Vec<_>>>()?;
        for (entry, incoming) in parsed {
            if self.sent.contains(&entry.id) {
                // Deleted after send: a copy coming back (from a file) stays deleted.
                continue;
            }
            let local = self.docs.entry(entry.id).or_insert_with(|| {
                LocalDoc::new(entry.kind, AutoCommit::new().with_actor(ActorId::random()))
            });
            let doc = local.doc_mut()?;
            match incoming {
                Incoming::Changes(changes) => {
                    contain_panics(|| Ok(doc.apply_changes(changes)?))?;
                }
                Incoming::State(state) => take_state(doc, *state)?,
            }
            let heads = sorted(entry.head_hashes());
            let have_all = heads.iter().all(|h| doc.get_change_meta_by_hash(h).is_some());
            if have_all {
                local.confirmed = heads;
            }
        }
        Ok(())
    }

    /// Adds every document of `other`, another saved state of this dataset (an exported file),
    /// to this engine, and returns how many were new here. Both must be of the same dataset and
    /// epoch: a copy saved before a demo reset holds practice data the reset removed, and
    /// merged under the new epoch it would go to the server again.
    ///
    /// Nothing made here since is lost: a document known here takes in `other`'s changes and
    /// keeps what the server confirmed of it here. A new document `other` had not sent is
    /// unsent here, all of it (the server ignores changes it holds already); one it had sent
    /// counts as sent, so it is not sent twice. A new document gets an actor of its own, so
    /// that this copy and `other`'s never write changes under one actor. A response deleted
    /// here after it was sent stays deleted. A document of either that cannot be read, or that
    /// the two hold as different kinds, refuses the whole copy before anything changes.
    pub fn merge_engine(&mut self, mut other: ClientEngine) -> Result<usize> {
        if other.dataset != self.dataset {
            return Err(Error::WrongDataset {
                expected: self.dataset,
                found: other.dataset.to_string(),
            });
        }
        if other.epoch != self.epoch {
            return Err(Error::OtherEpoch {
                expected: self.epoch,
                found: other.epoch,
            });
        }
        let mut incoming = Vec::with_capacity(other.docs.len());
        for (id, mut theirs) in std::mem::take(&mut other.docs) {
            if self.sent.contains(&id) {
                continue;
            }
            if let Some(ours) = self.docs.get(&id) {
                if ours.kind != theirs.kind {
                    return Err(Error::WrongKind {
                        claimed: theirs.kind.as_str(),
                        actual: ours.kind.as_str(),
                    });
                }
                ours.doc()?;
            }
            theirs.doc()?;
            let unsent = theirs.pending();
            let heads = theirs.heads()?;
            incoming.push((id, theirs, if unsent { Vec::new() } else { heads }));
        }
        let mut added = 0;
        for (id, mut theirs, confirmed) in incoming {
            let doc = theirs.doc_mut()?;
            match self.docs.get_mut(&id) {
                Some(ours) => {
                    let ours = ours.doc_mut()?;
                    contain_panics(|| Ok(ours.merge(doc).map(drop)?))?;
                }
                None => {
                    let copy = doc.fork().with_actor(ActorId::random());
                    let mut local = LocalDoc::new(theirs.kind, copy);
                    local.confirmed = confirmed;
                    self.docs.insert(id, local);
                    added += 1;
                }
            }
        }
        Ok(added)
    }

    // --- persistence -------------------------------------------------------------------------

    /// The whole engine state as bytes: documents, confirmed heads, rejections, totals.
    pub fn save(&mut self) -> Vec<u8> {
        let docs = self
            .docs
            .iter_mut()
            .filter_map(|(id, local)| {
                let (bytes, actor, heads) = saved_form(local)?;
                Some(SavedDoc {
                    id: *id,
                    kind: local.kind,
                    actor: ByteBuf::from(actor),
                    bytes: ByteBuf::from(bytes),
                    confirmed: local.confirmed.iter().map(|h| ByteArray::new(h.0)).collect(),
                    rejected: local.rejected,
                    heads: heads.iter().map(|h| ByteArray::new(h.0)).collect(),
                })
            })
            .collect();
        let state = SavedEngine {
            v: STATE_VERSION,
            dataset: self.dataset,
            epoch: self.epoch,
            synced: self.synced,
            more: self.more,
            docs,
            rejections: self.rejections.clone(),
            totals: self
                .totals
                .iter()
                .map(|(site, tallies)| crate::SiteTotals {
                    site: *site,
                    tallies: tallies.clone(),
                })
                .collect(),
            totals_digest: self.totals_digest.map(ByteArray::new),
            withdrawals: self.withdrawals.clone(),
            delete_after_send: self.delete_after_send,
            sent: self.sent.iter().copied().collect(),
        };
        let mut out = Vec::new();
        ciborium::ser::into_writer(&state, &mut out).expect("writing CBOR to a Vec cannot fail");
        out
    }

    /// Restores an engine from [`ClientEngine::save`]'s bytes. Documents are parsed when first
    /// used, not here.
    pub fn load(bytes: &[u8]) -> Result<ClientEngine> {
        let state: SavedEngine =
            ciborium::de::from_reader(bytes).map_err(|e| Error::EngineState(e.to_string()))?;
        if state.v != STATE_VERSION {
            return Err(Error::EngineState(format!(
                "state version {} is not supported",
                state.v
            )));
        }
        let hashes = |list: &[ByteArray<32>]| list.iter().map(|h| ChangeHash(h.into_array())).collect();
        let docs = state
            .docs
            .into_iter()
            .map(|saved| {
                let local = LocalDoc {
                    kind: saved.kind,
                    loaded: OnceCell::new(),
                    confirmed: hashes(&saved.confirmed),
                    rejected: saved.rejected,
                    saved: Some(Saved {
                        heads: hashes(&saved.heads),
                        actor: ActorId::from(saved.actor.as_slice()),
                        bytes: saved.bytes.into_vec(),
                    }),
                };
                (saved.id, local)
            })
            .collect();
        Ok(ClientEngine {
            dataset: state.dataset,
            epoch: state.epoch,
            protocol: PROTOCOL_VERSION,
            synced: state.synced,
            more: state.more,
            docs,
            rejections: state.rejections,
            totals: state.totals.into_iter().map(|t| (t.site, t.tallies)).collect(),
            totals_digest: state.totals_digest.map(ByteArray::into_array),
            withdrawals: state.withdrawals,
            delete_after_send: state.delete_after_send,
            sent: state.sent.into_iter().collect(),
        })
    }
}

/// The changes of `local` after the heads the server confirmed.
fn unsent_changes(local: &mut LocalDoc) -> Vec<Vec<u8>> {
    let confirmed = local.confirmed.clone();
    match local.doc_mut() {
        Ok(doc) => doc
            .get_changes(&confirmed)
            .into_iter()
            .map(|mut c| c.bytes().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Tally documents exist only from protocol 3 on.
fn sendable(kind: DocKind, protocol: u64) -> bool {
    kind != DocKind::Tally || protocol >= TALLY_DOCUMENTS_SINCE
}

/// A document's bytes, actor and sorted heads for saving: the bytes it was loaded from while
/// it has not changed, else the document saved anew. `None` for a document that cannot be read.
fn saved_form(local: &mut LocalDoc) -> Option<(Vec<u8>, Vec<u8>, Vec<ChangeHash>)> {
    let Some(doc) = local.loaded.get_mut() else {
        let saved = local.saved.as_ref()?;
        return Some((
            saved.bytes.clone(),
            saved.actor.to_bytes().to_vec(),
            saved.heads.clone(),
        ));
    };
    let heads = sorted(doc.get_heads());
    let actor = doc.get_actor().to_bytes().to_vec();
    match &local.saved {
        Some(saved) if saved.heads == heads => Some((saved.bytes.clone(), actor, heads)),
        _ => Some((doc.save(), actor, heads)),
    }
}

/// A reply entry, parsed.
enum Incoming {
    Changes(Vec<automerge::Change>),
    State(Box<AutoCommit>),
}

/// Takes in a document the server sent saved whole. When it holds everything `doc` has (the
/// usual case: the device's own changes went up in the same round) it replaces `doc`, which
/// loads the history in one pass instead of applying it change by change; otherwise the two
/// are merged. The document keeps its actor either way.
fn take_state(doc: &mut AutoCommit, mut state: AutoCommit) -> Result<()> {
    let covered = doc
        .get_heads()
        .iter()
        .all(|h| state.get_change_meta_by_hash(h).is_some());
    if covered {
        let actor = doc.get_actor().clone();
        *doc = state.with_actor(actor);
        Ok(())
    } else {
        contain_panics(|| Ok(doc.merge(&mut state).map(drop)?))
    }
}

#[derive(Serialize, Deserialize)]
struct SavedEngine {
    v: u32,
    #[serde(with = "uuid::serde::hyphenated")]
    dataset: Uuid,
    epoch: u64,
    /// Absent in states saved before protocol 3: bumps go to site documents until a sync over
    /// protocol 3.
    #[serde(default)]
    synced: u64,
    more: bool,
    docs: Vec<SavedDoc>,
    rejections: Vec<LocalRejection>,
    #[serde(default)]
    totals: Vec<crate::SiteTotals>,
    /// Absent from states saved before totals had digests: the next v3 reply sends them whole.
    #[serde(default)]
    totals_digest: Option<ByteArray<16>>,
    /// Absent from states saved before withdrawals existed.
    #[serde(default)]
    withdrawals: Vec<Uuid>,
    /// Absent from states saved before delete after send existed.
    #[serde(default)]
    delete_after_send: Option<bool>,
    #[serde(default)]
    sent: Vec<Uuid>,
}

#[derive(Serialize, Deserialize)]
struct SavedDoc {
    #[serde(with = "uuid::serde::hyphenated")]
    id: Uuid,
    kind: DocKind,
    actor: ByteBuf,
    bytes: ByteBuf,
    confirmed: Vec<ByteArray<32>>,
    rejected: bool,
    /// The document's heads, so a saved engine tells what waits to be sent without parsing
    /// every document.
    #[serde(default)]
    heads: Vec<ByteArray<32>>,
}
