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
mod models;
mod postgres;
pub mod record_key;
mod review;
mod sql;
mod sqlite;
mod tally_growth;
mod write;

use async_trait::async_trait;
use sync_core::Day;
use uuid::Uuid;

pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

pub use error::{Error, Result};
pub use models::*;
use models::{hex, parse_kind};

use crate::secret::SecretHash;

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
    async fn site_totals(&self, dataset: Uuid) -> Result<Vec<crate::storage::SiteTotal>>;
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
