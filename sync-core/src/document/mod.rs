//! Typed access to the three kinds of Automerge documents (`docs/protocol.md`). Every writer goes
//! through these modules, so every change is committed the same private way.

mod check;
mod conflicts;
mod first_change;
pub mod form_doc;
mod history;
mod read;
pub mod response;
pub mod review;
pub mod site;

use automerge::{ActorId, AutoCommit};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub use check::{CheckedDocument, check_document};
pub(crate) use check::{check_change_metadata, check_content};
pub use conflicts::{Conflict, conflicts};
pub use form_doc::FormDoc;
pub(crate) use history::check_changes;
pub use response::{ResponseEdit, ResponseStatus, ResponseView, Review, ReviewState};
pub use review::{ReviewRecord, ReviewStanding};
pub use site::SiteView;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Response,
    Site,
    Form,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Response => "response",
            DocKind::Site => "site",
            DocKind::Form => "form",
        }
    }

    pub fn parse(text: &str) -> Option<DocKind> {
        [DocKind::Response, DocKind::Site, DocKind::Form]
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    fn schema(self) -> &'static str {
        match self {
            DocKind::Response => response::SCHEMA,
            DocKind::Site => site::SCHEMA,
            DocKind::Form => form_doc::SCHEMA,
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
