//! The device side of sync: a pure state machine that owns a device's documents of one
//! dataset and the heads the server last confirmed for each. The WASM and CLI clients wrap it,
//! move its requests over HTTP and persist its state with [`ClientEngine::save`].

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, AutoCommit};
use serde::{Deserialize, Serialize};
use serde_bytes::{ByteArray, ByteBuf};
use uuid::Uuid;

use crate::document::{ResponseStatus, check_changes, form_doc, load_document, response, site};
use crate::merge::{contain_panics, parse_changes, sorted};
use crate::{
    ChangeHash, DocEntry, DocKind, Error, Form, PROTOCOL_VERSION, ResponseEdit, ResponseView, Result,
    SiteView, SyncRequest, SyncResponse,
};

const STATE_VERSION: u32 = 1;

pub struct ClientEngine {
    dataset: Uuid,
    epoch: u64,
    /// The protocol version requests are built for: [`PROTOCOL_VERSION`] unless the server
    /// turned out to be older.
    protocol: u64,
    /// The last response said `more`, or a request left changes behind: sync again.
    more: bool,
    docs: BTreeMap<Uuid, LocalDoc>,
    rejections: Vec<LocalRejection>,
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
    doc: AutoCommit,
    /// Sorted heads the server confirmed holding; changes after them are still to be sent.
    confirmed: Vec<ChangeHash>,
    /// The server refused the document's current state: wait for a new edit before resending.
    rejected: bool,
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
    fn pending(&mut self) -> bool {
        !self.rejected && sorted(self.doc.get_heads()) != self.confirmed
    }
}

impl ClientEngine {
    pub fn new(dataset: Uuid, epoch: u64) -> ClientEngine {
        ClientEngine {
            dataset,
            epoch,
            protocol: PROTOCOL_VERSION,
            more: true,
            docs: BTreeMap::new(),
            rejections: Vec::new(),
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
    /// the newer route with 404). Not saved: the next session tries the newest again.
    pub fn set_protocol(&mut self, version: u64) -> Result<()> {
        if !crate::SUPPORTED_VERSIONS.contains(&version) {
            return Err(Error::UnsupportedVersion(version));
        }
        self.protocol = version;
        Ok(())
    }

    pub fn rejections(&self) -> &[LocalRejection] {
        &self.rejections
    }

    /// Documents with edits the server has not confirmed.
    pub fn pending_count(&mut self) -> usize {
        self.docs
            .values_mut()
            .map(LocalDoc::pending)
            .filter(|p| *p)
            .count()
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
        Ok(&mut self.local(id)?.doc)
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
            .filter_map(|d| form_doc::read(&d.doc).ok())
            .map(|f| f.form)
    }

    // --- responses ---------------------------------------------------------------------------

    /// Starts a response on the latest version of form `form_id`.
    pub fn create_response(&mut self, form_id: &str, edit: &ResponseEdit) -> Result<Uuid> {
        let form = self.form(form_id, None)?;
        let doc = response::create(self.dataset, &form, edit)?;
        self.insert_new(DocKind::Response, doc, Some(&form))
    }

    pub fn edit_response(&mut self, id: Uuid, edit: &ResponseEdit) -> Result<()> {
        let form = self.response_form(id)?;
        self.write(id, Some(&form), |doc| response::apply_edit(doc, &form, edit))
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
                    && response::status(&local.doc).ok() == Some(ResponseStatus::Submitted);
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
        response::read(&self.local(id)?.doc, &form)
    }

    fn response_form(&mut self, id: Uuid) -> Result<Form> {
        let local = self.local(id)?;
        if local.kind != DocKind::Response {
            return Err(Error::WrongKind {
                claimed: "response",
                actual: local.kind.as_str(),
            });
        }
        let (form_id, version) = response::form_ref(&local.doc)?;
        self.form(&form_id, Some(version))
    }

    // --- sites -------------------------------------------------------------------------------

    pub fn create_site(&mut self, code: &str, name: &str) -> Result<Uuid> {
        let doc = site::create(self.dataset, code, name, site::DEFAULT_METRICS)?;
        self.insert_new(DocKind::Site, doc, None)
    }

    pub fn bump_tally(&mut self, site_id: Uuid, metric: &str, by: i64) -> Result<()> {
        self.write(site_id, None, |doc| site::increment(doc, metric, by))
    }

    pub fn sites(&self) -> Vec<(Uuid, SiteView)> {
        self.docs
            .iter()
            .filter(|(_, d)| d.kind == DocKind::Site)
            .filter_map(|(id, d)| site::read(&d.doc).ok().map(|v| (*id, v)))
            .collect()
    }

    /// Keeps a new document, once its history passes the server's checks of every change.
    fn insert_new(&mut self, kind: DocKind, mut doc: AutoCommit, form: Option<&Form>) -> Result<Uuid> {
        let changes = doc.get_changes(&[]);
        check_changes(&mut doc, &changes, kind, form, true, true)?;
        let id = Uuid::new_v4();
        self.docs.insert(
            id,
            LocalDoc {
                kind,
                doc,
                confirmed: Vec::new(),
                rejected: false,
            },
        );
        Ok(id)
    }

    /// Makes one edit (one change) to a document, kept only if the change passes the checks
    /// the server applies to every change: the engine never writes a history the server would
    /// refuse, nor one that would keep something the document's state no longer shows.
    fn write(
        &mut self,
        id: Uuid,
        form: Option<&Form>,
        edit: impl FnOnce(&mut AutoCommit) -> Result<()>,
    ) -> Result<()> {
        let local = self.local(id)?;
        let before = local.doc.get_heads();
        edit(&mut local.doc)?;
        let written: Vec<_> = local.doc.get_last_local_change().into_iter().collect();
        if let Err(err) = check_changes(&mut local.doc, &written, local.kind, form, false, true) {
            let actor = local.doc.get_actor().clone();
            local.doc = local.doc.fork_at(&before)?.with_actor(actor);
            return Err(err);
        }
        local.rejected = false;
        Ok(())
    }

    fn local(&mut self, id: Uuid) -> Result<&mut LocalDoc> {
        self.docs.get_mut(&id).ok_or(Error::UnknownDocument(id))
    }

    // --- sync --------------------------------------------------------------------------------

    /// The next request: every known document with its heads, plus the changes made since the
    /// server last confirmed it, until about `max_change_bytes` of changes are included (always
    /// at least one document's worth, so every round makes progress). A document left out for
    /// size is sent with its confirmed heads, as a read, and goes in a later round.
    pub fn build_request(&mut self, max_change_bytes: usize) -> SyncRequest {
        let mut used = 0usize;
        let mut entries = Vec::with_capacity(self.docs.len());
        let mut deferred = false;
        for (id, local) in &mut self.docs {
            let pending = local.pending();
            let changes: Vec<Vec<u8>> = if pending {
                local
                    .doc
                    .get_changes(&local.confirmed)
                    .into_iter()
                    .map(|mut c| c.bytes().into_owned())
                    .collect()
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
            let heads = if pending {
                sorted(local.doc.get_heads())
            } else {
                local.confirmed.clone()
            };
            entries.push(DocEntry::new(*id, local.kind, &heads, changes));
        }
        self.more = deferred;
        SyncRequest {
            v: self.protocol,
            dataset: self.dataset,
            epoch: self.epoch,
            docs: entries,
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
            self.withdrawals.clear();
            self.sent.clear();
            self.epoch = answer.epoch;
            self.more = true;
            return Ok(());
        }
        // Parse everything before touching state, so a bad answer changes nothing.
        let parsed = answer
            .docs
            .iter()
            .map(|entry| {
                let incoming = match &entry.state {
                    Some(state) => Incoming::State(Box::new(contain_panics(|| load_document(state))?)),
                    None => Incoming::Changes(parse_changes(&entry.changes)?),
                };
                Ok((entry, incoming))
            })
            .collect::<Result<Vec<_>>>()?;
        self.epoch = answer.epoch;
        for (entry, incoming) in parsed {
            if self.sent.contains(&entry.id) {
                // Deleted after send: a copy coming back (from a file) stays deleted.
                continue;
            }
            let local = self.docs.entry(entry.id).or_insert_with(|| LocalDoc {
                kind: entry.kind,
                doc: AutoCommit::new().with_actor(ActorId::random()),
                confirmed: Vec::new(),
                rejected: false,
            });
            match incoming {
                Incoming::Changes(changes) => {
                    let doc = &mut local.doc;
                    contain_panics(|| Ok(doc.apply_changes(changes)?))?;
                }
                Incoming::State(state) => take_state(&mut local.doc, *state)?,
            }
            let heads = sorted(entry.head_hashes());
            let have_all = heads
                .iter()
                .all(|h| local.doc.get_change_meta_by_hash(h).is_some());
            if have_all {
                local.confirmed = heads;
            }
        }
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
        self.more |= answer.more || !answer.need_all.is_empty();
        if self.delete_after_send == Some(true) {
            self.delete_sent();
        }
        Ok(())
    }

    // --- persistence -------------------------------------------------------------------------

    /// The whole engine state as bytes: documents, confirmed heads, rejections.
    pub fn save(&mut self) -> Vec<u8> {
        let state = SavedEngine {
            v: STATE_VERSION,
            dataset: self.dataset,
            epoch: self.epoch,
            more: self.more,
            docs: self
                .docs
                .iter_mut()
                .map(|(id, local)| SavedDoc {
                    id: *id,
                    kind: local.kind,
                    actor: ByteBuf::from(local.doc.get_actor().to_bytes().to_vec()),
                    bytes: ByteBuf::from(local.doc.save()),
                    confirmed: local.confirmed.iter().map(|h| ByteArray::new(h.0)).collect(),
                    rejected: local.rejected,
                })
                .collect(),
            rejections: self.rejections.clone(),
            withdrawals: self.withdrawals.clone(),
            delete_after_send: self.delete_after_send,
            sent: self.sent.iter().copied().collect(),
        };
        let mut out = Vec::new();
        ciborium::ser::into_writer(&state, &mut out).expect("writing CBOR to a Vec cannot fail");
        out
    }

    pub fn load(bytes: &[u8]) -> Result<ClientEngine> {
        let state: SavedEngine =
            ciborium::de::from_reader(bytes).map_err(|e| Error::EngineState(e.to_string()))?;
        if state.v != STATE_VERSION {
            return Err(Error::EngineState(format!(
                "state version {} is not supported",
                state.v
            )));
        }
        let mut docs = BTreeMap::new();
        for saved in state.docs {
            let doc = AutoCommit::load(&saved.bytes)
                .map_err(|e| Error::EngineState(e.to_string()))?
                .with_actor(ActorId::from(saved.actor.as_slice()));
            let confirmed = saved
                .confirmed
                .iter()
                .map(|h| ChangeHash(h.into_array()))
                .collect();
            docs.insert(
                saved.id,
                LocalDoc {
                    kind: saved.kind,
                    doc,
                    confirmed,
                    rejected: saved.rejected,
                },
            );
        }
        Ok(ClientEngine {
            dataset: state.dataset,
            epoch: state.epoch,
            protocol: PROTOCOL_VERSION,
            more: state.more,
            docs,
            rejections: state.rejections,
            withdrawals: state.withdrawals,
            delete_after_send: state.delete_after_send,
            sent: state.sent.into_iter().collect(),
        })
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
    more: bool,
    docs: Vec<SavedDoc>,
    rejections: Vec<LocalRejection>,
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
}
