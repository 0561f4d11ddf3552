//! The shared core of the survey platform: what a form may ask, how an answer is checked, how a
//! response or a site tally lives as an Automerge document, and how documents move between a
//! device and the server (sync protocols v1, v2 and v3).
//!
//! The same code runs on the server, in the native CLI and, compiled to wasm32, in the browser,
//! so a device and the server can never disagree about what is valid. It does no I/O: callers
//! bring bytes and take bytes.
//!
//! Privacy is built into the types rather than left to callers:
//! - a form that asks for a name, phone number, e-mail, location or date of birth does not parse
//!   ([`Form::from_json`]);
//! - free text is scrubbed of contact details before it is stored ([`scrub_free_text`]);
//! - every document gets its own random actor and every change is committed with timestamp 0 and
//!   no message, so documents from one phone cannot be linked or timed; the server re-checks all
//!   of it with [`check_document`].
#![forbid(unsafe_code)]

mod answer;
mod chunk;
mod client_limits;
mod day;
mod document;
mod engine;
mod error;
mod form;
mod identifier;
mod merge;
mod protocol;
mod scrub;

pub use answer::Answer;
pub use automerge::{ActorId, AutoCommit, Change, ChangeHash};
pub use client_limits::{MAX_SYNC_ROUNDS, REPLY_LIMITS, REQUEST_CHANGE_BYTES};
pub use day::Day;
pub use document::{
    CheckedDocument, Conflict, DocKind, FormDoc, ResponseEdit, ResponseStatus, ResponseView, Review,
    ReviewRecord, ReviewStanding, ReviewState, SiteView, TallyView, check_document, conflicts, form_doc,
    load_document, response, review, site, tally,
};
pub use engine::{ClientEngine, LocalRejection, WITHDRAWN};
pub use error::{Error, QUOTED_CHARS, Result, quoted};
pub use form::{
    Choice, Compare, Expr, Form, Question, QuestionKind, Score, ScoreMethod, Section, Translation,
    identifying_request,
};
pub use identifier::check_identifier;
pub use merge::{LoadedDocument, MergeOutcome, MergedDocument, merge_incoming, merge_into};
pub use protocol::{
    DocEntry, Limits, PROTOCOL_VERSION, Rejection, SUPPORTED_VERSIONS, SiteTotals, SyncRequest, SyncResponse,
    TALLY_DOCUMENTS_SINCE, Totals, decode_request, decode_response, encode_request, encode_response,
};
pub use scrub::{is_scrubbed, scrub_free_text};
