//! What storage takes and returns: the records of each use case, as the rest of the server
//! sees them, and how stored columns (heads, version tokens, kinds, days) read back.

use std::collections::BTreeMap;

use serde::Serialize;
use sync_core::{ChangeHash, Day, DocKind};
use uuid::Uuid;

use super::{Error, Result};
use crate::secret::SecretHash;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
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

    pub(super) fn parse(text: &str) -> Result<Mode> {
        match text {
            "live" => Ok(Mode::Live),
            "demo" => Ok(Mode::Demo),
            other => Err(Error::Corrupt(format!(
                "unknown dataset mode {other:?} in the database"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
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

    pub(super) fn parse(text: &str) -> Result<Role> {
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// The record key (`storage::record_key`) a response gets if this write stores it for
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueryLogRecord {
    pub token_name: String,
    pub role: String,
    pub route: String,
    pub query: String,
    /// Unix seconds.
    pub at: i64,
}

/// Lowercase hex, for hashes shown to admins.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn parse_kind(text: &str) -> Result<DocKind> {
    DocKind::parse(text)
        .ok_or_else(|| Error::Corrupt(format!("unknown document kind {text:?} in the database")))
}

/// A site and what each of its tallies counts, as [`crate::site_totals::site_totals`] adds it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteTotal {
    /// The site document.
    pub document: Uuid,
    /// The site's code.
    pub site: String,
    /// Each tally's total, by metric.
    pub tallies: BTreeMap<String, i64>,
}
