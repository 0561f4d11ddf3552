//! Persistence. One [`Storage`] trait with a method per use case, and two implementations
//! (SQLite, PostgreSQL) chosen from the database URL at start-up. Both run the same SQL (see
//! `sql.rs`); only connection set-up, migrations and the column types in them differ.
//!
//! Every method that writes does it in one transaction, so a crash leaves each use case
//! either done or not done, never half done.

mod access;
mod batch;
mod deletion;
mod error;
pub mod group_commit;
mod postgres;
mod review;
mod sql;
mod sqlite;
mod tally_growth;
mod write;

use async_trait::async_trait;
use serde::Serialize;
use sync_core::{ChangeHash, Day, DocKind};
use uuid::Uuid;

pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

use crate::secret::SecretHash;
pub use error::{Error, Result};

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and brings its schema up
/// to date.
pub async fn connect(url: &str) -> Result<std::sync::Arc<dyn Storage>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PostgresStorage::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(SqliteStorage::connect(url).await?))
    } else {
        Err(Error::Unavailable(
            "the database URL must start with sqlite:// or postgres://".into(),
        ))
    }
}

#[async_trait]
pub trait Storage: Send + Sync {
    // --- datasets ------------------------------------------------------------------------
    async fn create_dataset(&self, dataset: &Dataset, audit: &AuditEntry) -> Result<()>;
    async fn datasets(&self) -> Result<Vec<Dataset>>;
    async fn dataset(&self, id: Uuid) -> Result<Option<Dataset>>;
    /// The dataset, or `not_found`.
    async fn existing_dataset(&self, id: Uuid) -> Result<Dataset> {
        self.dataset(id).await?.ok_or(Error::NotFound("dataset"))
    }
    async fn dataset_by_name(&self, name: &str, mode: Mode) -> Result<Option<Dataset>>;
    /// Sets how long the dataset's submitted responses are kept (`None`: until withdrawn) and
    /// logs `audit`; `None` when there is no such dataset.
    async fn set_retention(
        &self,
        dataset: Uuid,
        days: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<Option<Dataset>>;

    // --- forms ---------------------------------------------------------------------------
    /// Stores a new form version and its form document. `Conflict` when the version is not
    /// above every published version of that form.
    async fn publish_form(&self, form: &PublishedForm, audit: &AuditEntry) -> Result<()>;
    /// The definition (JSON as published) of the latest version of each form, by form id.
    async fn latest_forms(&self, dataset: Uuid) -> Result<Vec<String>>;
    /// Every published version of every form of the dataset, by form id and version.
    async fn form_versions(&self, dataset: Uuid) -> Result<Vec<FormVersion>>;
    /// The definition of one form version, to validate responses that claim it.
    async fn form_definition(&self, dataset: Uuid, form: &str, version: i64) -> Result<Option<String>>;

    // --- tokens, devices and the audit log ------------------------------------------------
    async fn create_token(&self, token: &NewToken, audit: &AuditEntry) -> Result<()>;
    /// The token with this hash, with its device's standing (revoked, to be wiped).
    async fn token(&self, hash: &SecretHash) -> Result<Option<TokenRecord>>;
    /// Every token, or those limited to `dataset`; newest first.
    async fn tokens(&self, dataset: Option<Uuid>) -> Result<Vec<TokenSummary>>;
    async fn token_by_id(&self, id: Uuid) -> Result<Option<TokenSummary>>;
    /// Revokes a token from `day` on (a token revoked before keeps its day) and logs `audit`.
    async fn revoke_token(&self, id: Uuid, day: Day, audit: &AuditEntry) -> Result<()>;
    /// Dates the last use of `tokens` and the last sync of `devices` to `day`, in one
    /// transaction.
    async fn record_usage(&self, tokens: &[Uuid], devices: &[Uuid], day: Day) -> Result<()>;
    async fn create_enrollment(&self, enrollment: &NewEnrollment, audit: &AuditEntry) -> Result<()>;
    /// The dataset a live code enrolls into, read without taking a write lock: a wrong code
    /// must cost the one SQLite writer nothing.
    async fn enrollment_dataset(&self, code: &SecretHash, now: i64) -> Result<Option<Uuid>>;
    /// Uses one use of a live code to enroll a device, or to give an enrolled one a new token
    /// (`renewal`: 409 `device_revoked` if it was withdrawn meanwhile). `None` when the code is
    /// unknown, used up or expired.
    async fn enroll_device(
        &self,
        code: &SecretHash,
        now: i64,
        enrollment: &DeviceEnrollment,
    ) -> Result<Option<Enrolled>>;
    async fn devices(&self, dataset: Uuid) -> Result<Vec<DeviceSummary>>;
    async fn device_dataset(&self, id: Uuid) -> Result<Option<Uuid>>;
    /// Withdraws a device (all its tokens stop) from `day` on, asking it to wipe its
    /// documents if `wipe`; logs `audit`.
    async fn revoke_device(&self, id: Uuid, wipe: bool, day: Day, audit: &AuditEntry) -> Result<()>;
    /// The latest `limit` audit records, of `dataset` only when given; newest first.
    async fn audit_log(&self, dataset: Option<Uuid>, limit: i64) -> Result<Vec<AuditRecord>>;

    // --- sync ----------------------------------------------------------------------------
    async fn document(&self, id: Uuid) -> Result<Option<StoredDocument>> {
        Ok(self.documents(&[id]).await?.remove(&id))
    }
    /// The stored documents among `ids`, in one round trip for a whole request.
    async fn documents(&self, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, StoredDocument>>;
    /// The stored versions of the documents among `ids`, without their bytes.
    async fn document_versions(&self, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, i64>>;
    /// Writes merged documents, their actors and their materialized rows in one transaction
    /// (one commit, one fsync), each guarded by the version its merge started from, all by the
    /// dataset `epoch` the request was checked against (a reset in between must win: its
    /// documents are gone for good).
    async fn save_documents(&self, writes: &[DocumentWrite], epoch: i64) -> Result<BatchOutcome> {
        let mut outcomes = self.save_batches(&[WriteBatch { writes, epoch }]).await?;
        outcomes
            .pop()
            .ok_or_else(|| Error::Corrupt("a batch was saved without an outcome".into()))
    }
    /// [`save_documents`](Storage::save_documents) for several requests in one transaction:
    /// a batch refused (`LinkedActor`, `EpochMoved`) is refused before it writes anything, and
    /// the others still commit. One outcome per batch, in order.
    async fn save_batches(&self, batches: &[WriteBatch<'_>]) -> Result<Vec<BatchOutcome>>;
    /// Form and site documents of a dataset (what every device of it may read), by id.
    async fn shared_documents(&self, dataset: Uuid) -> Result<Vec<DocumentSummary>>;
    /// The dataset and the metrics of each site document among `ids`: what a tally document
    /// for the site may count.
    async fn site_metrics(&self, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, SiteMetrics>>;

    // --- tallies -------------------------------------------------------------------------
    /// Every site document of `dataset` with each tally's total: the document's own count, less
    /// what the server added to it for older phones, plus every device's tally documents. Read
    /// through [`crate::site_totals::site_totals`].
    async fn site_totals(&self, dataset: Uuid) -> Result<Vec<crate::site_totals::SiteTotal>>;
    /// What `device`'s own tally documents count, by site document and metric.
    async fn device_tallies(&self, device: Uuid) -> Result<Vec<(Uuid, String, i64)>>;
    /// The site documents of `dataset` whose device tallies are not all added to the site.
    async fn sites_to_fold(&self, dataset: Uuid) -> Result<Vec<Uuid>>;
    /// Per metric of `site`, what its device tallies count and what the server has added of
    /// them to the site document.
    async fn fold_state(&self, site: Uuid) -> Result<Vec<FoldState>>;
    async fn quarantine(&self, entry: &QuarantineEntry) -> Result<()>;
    async fn quarantined(&self, dataset: Uuid) -> Result<Vec<QuarantineSummary>>;
    /// Deletes the quarantine records of every dataset received before `day` and logs `audit`
    /// once for each dataset that had some (`audit.dataset` is set to it); returns how many.
    async fn purge_quarantine_before(&self, day: Day, audit: &AuditEntry) -> Result<u64>;
    /// Deletes every quarantine record of `dataset` and logs `audit`, in one transaction;
    /// returns how many.
    async fn purge_quarantine(&self, dataset: Uuid, audit: &AuditEntry) -> Result<u64>;

    // --- deletion --------------------------------------------------------------------------
    /// Withdraws a response: deletes its document, actors, materialized rows, conflicts and
    /// quarantine records, leaves a tombstone and logs `audit`, in one transaction. `Ok(false)`
    /// when it was withdrawn already; 404 when `dataset` holds no such response (or, for a
    /// device, none it wrote).
    async fn withdraw_response(&self, withdrawal: &Withdrawal, audit: &AuditEntry) -> Result<bool>;
    /// Deletes a dataset and every row of it (documents, materialized rows, quarantine, forms,
    /// codes, devices, tokens), keeping its device tokens' hashes so those phones are told to
    /// wipe; logs `audit`; returns how many responses went.
    async fn purge_dataset(&self, dataset: Uuid, day: Day, audit: &AuditEntry) -> Result<u64>;
    /// How many submitted responses of `dataset` were received submitted before `day`.
    async fn count_submitted_before(&self, dataset: Uuid, day: Day) -> Result<u64>;
    /// Purges at most `limit` of the responses [`count_submitted_before`] counts, as a
    /// withdrawal does (a tombstone dated `today` stays for each), and logs `audit`, in one
    /// transaction; returns their ids.
    ///
    /// [`count_submitted_before`]: Storage::count_submitted_before
    async fn purge_submitted_before(
        &self,
        dataset: Uuid,
        day: Day,
        limit: i64,
        today: Day,
        audit: &AuditEntry,
    ) -> Result<Vec<Uuid>>;
    /// Whether this unknown token was a device's of a purged dataset.
    async fn token_wiped(&self, hash: &SecretHash) -> Result<bool>;
    /// The documents among `ids` that were withdrawn.
    async fn withdrawn(&self, ids: &[Uuid]) -> Result<std::collections::HashSet<Uuid>>;

    // --- reviews ---------------------------------------------------------------------------
    /// The review document of a response, if it was ever reviewed.
    async fn review_document(&self, response: Uuid) -> Result<Option<StoredReview>>;
    /// Stores a review document guarded by the version it was read at, sets the response's
    /// review standing (`pending` if the response was written since `write.response_version`)
    /// and logs `audit`, in one transaction. `Ok(false)`: another review was stored meanwhile,
    /// nothing was written. 404 when the response is gone (withdrawn, reset).
    async fn save_review(&self, write: &ReviewWrite, audit: &AuditEntry) -> Result<bool>;
    /// Submitted responses of `dataset` in review standing `state`, of `form` when given:
    /// what a supervisor sees of each (no answer), oldest first by id, at most `limit`.
    async fn reviews(&self, dataset: Uuid, filter: &ReviewFilter) -> Result<Vec<ReviewSummary>>;
    /// One response of `dataset` as [`reviews`](Storage::reviews) lists it, drafts included.
    async fn review_summary(&self, dataset: Uuid, response: Uuid) -> Result<Option<ReviewSummary>>;

    // --- aggregates ------------------------------------------------------------------------
    /// Every response of a form (all versions) with the fields every aggregate needs.
    async fn response_facts(&self, dataset: Uuid, form: &str) -> Result<Vec<ResponseFact>>;
    /// The materialized answers to one question of a form (all versions).
    async fn answer_facts(&self, dataset: Uuid, form: &str, question: &str) -> Result<Vec<AnswerFact>>;
    /// The responses of a form among `documents`, with all their answers: what a loaded column
    /// store reads to catch up with documents written since it was loaded.
    async fn document_facts(&self, dataset: Uuid, form: &str, documents: &[Uuid]) -> Result<DocumentFacts>;
    /// What every site's tallies grew by, per metric and day stored (see `tallies::source`).
    async fn tally_facts(&self, dataset: Uuid) -> Result<Vec<TallyFact>>;

    // --- query log -------------------------------------------------------------------------
    /// Logs an answered aggregate query, unless its token has already been answered `budget`
    /// queries on the entry's day: then nothing is logged and the answer is `false`. Counted
    /// and logged in one transaction, so replicas share one budget.
    async fn log_query(&self, entry: &QueryLogEntry, budget: i64) -> Result<bool>;
    /// The dataset's query log, newest first, at most `limit` entries.
    async fn query_log(&self, dataset: Uuid, limit: i64) -> Result<Vec<QueryLogRecord>>;

    // --- demo ----------------------------------------------------------------------------
    /// Drops every response and site document of a demo dataset, bumps its epoch and writes the
    /// documents `seeds` yields, all in one transaction: a crash leaves the old data or the new,
    /// never a mix. Form documents stay. Returns the new epoch and the responses written.
    async fn reset_dataset(
        &self,
        dataset: Uuid,
        audit: &AuditEntry,
        seeds: &mut tokio::sync::mpsc::Receiver<sync_core::Result<DocumentWrite>>,
    ) -> Result<(i64, u64)>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Live,
    Demo,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Demo => "demo",
        }
    }

    fn parse(text: &str) -> Result<Mode> {
        match text {
            "live" => Ok(Mode::Live),
            "demo" => Ok(Mode::Demo),
            other => Err(Error::Corrupt(format!(
                "unknown dataset mode {other:?} in the database"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    pub id: Uuid,
    pub name: String,
    pub mode: Mode,
    pub k: i64,
    pub epoch: i64,
    /// Whole days a submitted response is kept after the day it was received submitted;
    /// `None` keeps them (`crate::retention`).
    pub retention_days: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Analyst,
    Trainer,
    /// Reviews responses (approves or flags them) and sees no answer.
    Supervisor,
    Device,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Trainer => "trainer",
            Role::Supervisor => "supervisor",
            Role::Device => "device",
        }
    }

    fn parse(text: &str) -> Result<Role> {
        [
            Role::Admin,
            Role::Analyst,
            Role::Trainer,
            Role::Supervisor,
            Role::Device,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
        .ok_or_else(|| Error::Corrupt(format!("unknown role {text:?} in the database")))
    }
}

/// Who did an admin or trainer action, for the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_name: String,
    pub actor_role: String,
    pub action: String,
    pub dataset: Option<Uuid>,
}

/// A response to withdraw, and who asks: a device may withdraw only what it wrote.
#[derive(Debug, Clone)]
pub struct Withdrawal {
    pub dataset: Uuid,
    pub document: Uuid,
    pub device: Option<Uuid>,
    pub day: Day,
}

/// One published version of a form, as the admin page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FormVersion {
    pub form: String,
    pub version: i64,
    pub title: String,
    pub questions: usize,
}

#[derive(Debug, Clone)]
pub struct StoredReview {
    pub bytes: Vec<u8>,
    pub version: i64,
}

/// A review document to store, and the response standing it gives.
#[derive(Debug, Clone)]
pub struct ReviewWrite {
    pub dataset: Uuid,
    pub response: Uuid,
    /// The version read; `None` when the response had no review document.
    pub base_version: Option<i64>,
    pub version: i64,
    pub bytes: Vec<u8>,
    /// The response's document version the review looked at.
    pub response_version: i64,
    /// `approved` or `flagged`.
    pub state: &'static str,
}

#[derive(Debug, Clone)]
pub struct ReviewFilter {
    pub state: &'static str,
    pub form: Option<String>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// A response as a supervisor sees it: where it was collected (area and ISO week, not the
/// day), which phone sent it, and its review standing; never an answer.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewSummary {
    pub id: Uuid,
    pub form: String,
    pub form_version: i64,
    pub status: String,
    pub area: String,
    pub week: String,
    pub device: Uuid,
    pub review: String,
}

#[derive(Debug, Clone)]
pub struct PublishedForm {
    pub dataset: Uuid,
    pub form: String,
    pub version: i64,
    pub definition: String,
    pub document: NewDocument,
}

/// A document the server writes itself (form documents).
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: Uuid,
    pub heads: Vec<u8>,
    pub bytes: Vec<u8>,
    pub actors: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub hash: SecretHash,
    pub role: Role,
    pub dataset: Option<Uuid>,
    pub name: String,
    pub created_on: Day,
    /// Unix seconds, midnight UTC (see `crate::tokens::expiry`).
    pub expires_at: i64,
}

/// A token as presented, with everything that decides whether it still opens the door.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: Uuid,
    pub role: Role,
    pub dataset: Option<Uuid>,
    pub name: String,
    pub expires_at: i64,
    /// The token itself was revoked (its device's revocation is in `device`).
    pub revoked: bool,
    pub last_used_on: Option<String>,
    /// Set for device tokens.
    pub device: Option<DeviceStatus>,
}

#[derive(Debug, Clone)]
pub struct DeviceStatus {
    pub id: Uuid,
    pub revoked: bool,
    pub wipe: bool,
    pub last_sync_on: Option<String>,
}

/// A token as an admin sees it: never its secret or its hash. Days are UTC `YYYY-MM-DD`;
/// `expires_on` is the first day it no longer works; `revoked_on` is its own revocation's or
/// its device's.
#[derive(Debug, Clone, Serialize)]
pub struct TokenSummary {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub dataset: Option<Uuid>,
    pub device: Option<Uuid>,
    pub created_on: String,
    pub expires_on: String,
    pub revoked_on: Option<String>,
    pub last_used_on: Option<String>,
}

/// A device as an admin sees it: never an address. `documents` counts the responses it sent
/// (wrote first); `enrolled_on` is unknown (null) for devices enrolled before it was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceSummary {
    pub id: Uuid,
    pub label: String,
    pub enrolled_on: Option<String>,
    pub last_sync_on: Option<String>,
    pub documents: i64,
    pub revoked_on: Option<String>,
    pub wipe: bool,
}

/// A device enrolling with a code: a new one, or (`renewal`) an enrolled one whose token
/// expired. `token.dataset` and `token.name` are taken from the code and the device.
#[derive(Debug, Clone)]
pub struct DeviceEnrollment {
    pub device: Uuid,
    pub renewal: bool,
    pub token: NewToken,
}

/// One audit record as an admin reads it: who, what, on which dataset, which day (UTC).
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub actor: String,
    pub role: String,
    pub action: String,
    pub dataset: Option<Uuid>,
    pub day: String,
}

/// The UTC day (`YYYY-MM-DD`) of a unix time.
pub fn day_of(seconds: i64) -> String {
    Day::from_days(seconds.div_euclid(86_400)).to_string()
}

#[derive(Debug, Clone)]
pub struct NewEnrollment {
    pub code: SecretHash,
    pub dataset: Uuid,
    pub label: String,
    pub uses: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    pub device_id: Uuid,
    pub dataset: Uuid,
    pub epoch: i64,
}

#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub dataset: Uuid,
    pub kind: DocKind,
    pub owner: Option<Uuid>,
    /// Sorted and concatenated, as [`heads_bytes`] writes them.
    pub heads: Vec<u8>,
    pub bytes: Vec<u8>,
    pub version: i64,
}

impl StoredDocument {
    pub fn head_hashes(&self) -> Vec<ChangeHash> {
        head_hashes(&self.heads)
    }
}

/// Heads as stored: sorted, 32 bytes each, concatenated.
pub fn heads_bytes(mut heads: Vec<ChangeHash>) -> Vec<u8> {
    heads.sort();
    heads.iter().flat_map(|h| h.0).collect()
}

/// The heads [`heads_bytes`] wrote.
pub fn head_hashes(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|hash| hash.try_into().ok().map(ChangeHash))
        .collect()
}

#[derive(Debug, Clone)]
pub struct DocumentSummary {
    pub id: Uuid,
    pub kind: DocKind,
    pub size: i64,
}

/// One request's writes and the dataset epoch it was served under.
#[derive(Debug, Clone, Copy)]
pub struct WriteBatch<'a> {
    pub writes: &'a [DocumentWrite],
    pub epoch: i64,
}

/// A merged, validated document ready to be stored.
#[derive(Debug, Clone)]
pub struct DocumentWrite {
    pub id: Uuid,
    pub dataset: Uuid,
    pub kind: DocKind,
    pub owner: Option<Uuid>,
    /// The version the merge started from; `None` for a document new to the server.
    pub base_version: Option<i64>,
    /// The version this write stores. Versions are tokens, not counters ([`new_version`]).
    pub version: i64,
    pub heads: Vec<u8>,
    pub bytes: Vec<u8>,
    /// Actors of the incoming changes, each of which may write this document only.
    pub actors: Vec<Vec<u8>>,
    /// The record key (`disclosure::record_key`) a response gets if this write stores it for
    /// the first time; `None` for other documents. A stored response keeps the key it was
    /// first stored with.
    pub record_key: Option<i64>,
    pub rows: Materialized,
    pub conflicts: Vec<ConflictRow>,
}

#[derive(Debug, Clone)]
pub enum Materialized {
    Response(ResponseRow),
    Site(SiteRow),
    Tally(TallyRow),
}

#[derive(Debug, Clone)]
pub struct ResponseRow {
    pub device: Uuid,
    pub form: String,
    pub form_version: i64,
    pub status: &'static str,
    pub collected_on: String,
    pub area: String,
    pub week: String,
    pub month: String,
    /// The day the server stores this write: the response's `submitted_on` if it is the
    /// first write that stores it submitted.
    pub stored_on: Day,
    pub answers: Vec<AnswerRow>,
}

#[derive(Debug, Clone)]
pub struct ResponseFact {
    pub document: Uuid,
    pub submitted: bool,
    /// Its review standing is `approved`.
    pub approved: bool,
    pub area: String,
    pub collected_on: String,
    pub record_key: u8,
}

/// What one site's tally grew by on one day, with the row's record key.
#[derive(Debug, Clone, PartialEq)]
pub struct TallyFact {
    pub site: String,
    pub metric: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub amount: i64,
    pub record_key: u8,
}

#[derive(Debug, Clone)]
pub struct AnswerFact {
    pub document: Uuid,
    pub value: Option<String>,
    pub num: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct DocumentFacts {
    pub responses: Vec<ResponseFact>,
    /// `(question, answer)`.
    pub answers: Vec<(String, AnswerFact)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    pub question: String,
    pub value: Option<String>,
    pub num: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct SiteRow {
    pub site: String,
    pub tallies: Vec<(String, i64)>,
    /// Set by a write that adds device tallies to the site: how much of them the document
    /// now carries, by metric.
    pub folded: Option<Vec<(String, i64)>>,
    pub counted: TallyDays,
}

/// A tally document's counts and whose they are.
#[derive(Debug, Clone)]
pub struct TallyRow {
    pub device: Uuid,
    /// The site document counted for.
    pub site: Uuid,
    pub tallies: Vec<(String, i64)>,
    /// The day the server stores the write, which the counts' growth counts on.
    pub stored_on: Day,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteMetrics {
    pub dataset: Uuid,
    pub metrics: Vec<String>,
}

/// One metric of a site, for adding device tallies to the site document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldState {
    pub metric: String,
    /// What every device's tally documents count.
    pub devices: i64,
    /// What of that the site document carries.
    pub folded: i64,
}

/// Which day a site write's tallies count on, for tallies by week and month.
#[derive(Debug, Clone)]
pub enum TallyDays {
    /// What each tally grew by since the stored version counts on this day: changes carry no
    /// time, so it is the day the server stores them.
    GrowthOn(Day),
    /// Seeded demo data, written as given: it was never bumped on any day.
    Seeded(Vec<SeededTally>),
}

#[derive(Debug, Clone)]
pub struct SeededTally {
    pub day: Day,
    pub metric: String,
    pub amount: i64,
    pub record_key: i64,
}

#[derive(Debug, Clone)]
pub struct ConflictRow {
    pub path: String,
    pub candidates: String,
}

/// A fresh version token for a document write. Random rather than counted: a server that
/// merges on a document state it has not stored yet (its own write still in flight) names that
/// write's version as its base, and if that write never lands, no other writer can have stored
/// the same number, so the guard catches it.
pub fn new_version() -> i64 {
    (Uuid::new_v4().as_u64_pair().0 >> 1) as i64
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Committed. `stale[i]`: another writer changed (or created) document `i` since it was
    /// read, so nothing of it was written: merge it again.
    Saved { stale: Vec<bool> },
    /// Nothing was written: an incoming actor of write `i` already wrote another document.
    LinkedActor(usize),
    /// Nothing was written: the dataset was reset since the request's epoch was checked.
    EpochMoved,
}

/// What is kept of a refused entry (see `sync::quarantine` for what goes in).
#[derive(Debug, Clone)]
pub struct QuarantineEntry {
    pub id: Uuid,
    pub dataset: Uuid,
    pub device: Uuid,
    pub document: Uuid,
    pub code: String,
    /// Bytes of the entry's changes.
    pub size: i64,
    /// SHA-256 of the entry as received (CBOR), to tell repeats of one entry apart.
    pub sha256: [u8; 32],
    /// `None` for refusals about what the document says.
    pub payload: Option<QuarantinePayload>,
    /// The day (UTC) it came in: no finer time is kept.
    pub received_on: Day,
}

/// The refused entry itself, kept only when the refusal is not about its content.
#[derive(Debug, Clone)]
pub struct QuarantinePayload {
    pub message: String,
    /// The entry's CBOR (id, kind, heads, changes).
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuarantineSummary {
    pub id: Uuid,
    pub device: Uuid,
    pub document: Uuid,
    pub code: String,
    pub size: i64,
    /// Lowercase hex.
    pub sha256: String,
    /// Whether the entry's bytes and the refusal message were kept.
    pub payload_kept: bool,
    /// The refusal message, when kept.
    pub message: Option<String>,
    /// `YYYY-MM-DD`, UTC.
    pub received_on: String,
}

/// An answered aggregate or tally query, as the query log keeps it.
#[derive(Debug, Clone)]
pub struct QueryLogEntry {
    pub dataset: Uuid,
    pub token: SecretHash,
    pub token_name: String,
    pub role: Role,
    /// `aggregates` or `tallies`.
    pub route: &'static str,
    /// The query string as sent (at most 2,000 characters).
    pub query: String,
    pub day: Day,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueryLogRecord {
    pub token_name: String,
    pub role: String,
    pub route: String,
    pub query: String,
    /// Unix seconds.
    pub at: i64,
}

/// Lowercase hex, for hashes shown to admins.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_kind(text: &str) -> Result<DocKind> {
    DocKind::parse(text)
        .ok_or_else(|| Error::Corrupt(format!("unknown document kind {text:?} in the database")))
}
