//! Typed access to the four kinds of Automerge documents (`docs/protocol.md`). Every writer goes
//! through these modules, so every change is committed the same private way.

mod check;
mod conflicts;
mod counters;
mod first_change;
pub mod form_doc;
mod history;
mod read;
pub mod response;
pub mod review;
pub mod site;
pub mod tally;

use automerge::{ActorId, AutoCommit};
use serde::{Deserialize, Serialize};

use crate::{Error, Form, Result};

pub use check::{CheckedDocument, check_document};
pub(crate) use check::{check_change_metadata, check_content};
pub use conflicts::{Conflict, conflicts};
pub(crate) use counters::{add_all as add_to_tallies, read_at as counts_at};
pub use form_doc::FormDoc;
pub(crate) use history::check_changes;
pub use response::{ResponseEdit, ResponseStatus, ResponseView, Review, ReviewState};
pub use review::{ReviewRecord, ReviewStanding};
pub use site::SiteView;
pub use tally::TallyView;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Response,
    Site,
    Form,
    /// A device's own counts at one site (protocol 3).
    Tally,
}

impl DocKind {
    pub const ALL: [DocKind; 4] = [DocKind::Response, DocKind::Site, DocKind::Form, DocKind::Tally];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Response => "response",
            DocKind::Site => "site",
            DocKind::Form => "form",
            DocKind::Tally => "tally",
        }
    }

    pub fn parse(text: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether one device alone writes and reads documents of this kind (the device that
    /// wrote their first change); the others are shared by every device of a dataset.
    pub fn is_owned(self) -> bool {
        matches!(self, DocKind::Response | DocKind::Tally)
    }

    fn schema(self) -> &'static str {
        match self {
            DocKind::Response => response::SCHEMA,
            DocKind::Site => site::SCHEMA,
            DocKind::Form => form_doc::SCHEMA,
            DocKind::Tally => tally::SCHEMA,
        }
    }
}

/// What a document is checked against beyond its own schema.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Against<'a> {
    /// Responses: the form version they claim. `None` leaves answers unknown.
    Form(Option<&'a Form>),
    /// Tally documents: the metrics of their site, the only counters they may hold. `None`
    /// takes any identifier (a check without the site at hand).
    Site(Option<&'a [String]>),
}

impl<'a> Against<'a> {
    pub(crate) fn form(self) -> Option<&'a Form> {
        match self {
            Against::Form(form) => form,
            Against::Site(_) => None,
        }
    }

    fn metrics(self) -> Option<&'a [String]> {
        match self {
            Against::Site(metrics) => metrics,
            Against::Form(_) => None,
        }
    }
}

/// A fresh document with its own random actor: two documents written on one phone share
/// nothing that links them.
pub(crate) fn new_document() -> AutoCommit {
    AutoCommit::new().with_actor(ActorId::random())
}

/// A fresh document with a given actor, for generators that must be deterministic (demo
/// data). The actor must still be used for this document only.
pub(crate) fn new_document_as(actor: ActorId) -> AutoCommit {
    AutoCommit::new().with_actor(actor)
}

/// Commits pending edits as one change with timestamp 0, no message and no author.
pub(crate) fn commit_private(doc: &mut AutoCommit) {
    doc.commit();
}

/// Loads saved document bytes (from storage or an engine state), giving the loaded copy a new
/// random actor so that edits made from it are not linked to earlier ones.
pub fn load_document(bytes: &[u8]) -> Result<AutoCommit> {
    let doc = AutoCommit::load(bytes).map_err(|e| Error::Automerge(e.to_string()))?;
    Ok(doc.with_actor(ActorId::random()))
}
