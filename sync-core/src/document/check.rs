use automerge::{AutoCommit, Change};
use uuid::Uuid;

use super::{DocKind, FormDoc, ResponseView, SiteView, form_doc, read, response, site};
use crate::{Error, Form, Result};

/// A document that passed every check, with its typed content.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckedDocument {
    Response(ResponseView),
    Site(SiteView),
    Form(FormDoc),
}

impl CheckedDocument {
    pub fn kind(&self) -> DocKind {
        match self {
            CheckedDocument::Response(_) => DocKind::Response,
            CheckedDocument::Site(_) => DocKind::Site,
            CheckedDocument::Form(_) => DocKind::Form,
        }
    }

    pub fn dataset(&self) -> Uuid {
        match self {
            CheckedDocument::Response(r) => r.dataset,
            CheckedDocument::Site(s) => s.dataset,
            CheckedDocument::Form(f) => f.dataset,
        }
    }
}

/// Says whether a (merged) document is valid: every change private (timestamp 0, no message,
/// no author), the schema known, every field declared, every answer fitting `form` (needed for
/// responses, ignored otherwise).
pub fn check_document(doc: &mut AutoCommit, form: Option<&Form>) -> Result<CheckedDocument> {
    for change in doc.get_changes(&[]) {
        check_change_metadata(&change)?;
    }
    check_content(doc, form)
}

/// The privacy rules for one change. Wall-clock timestamps would tell when and in what order
/// a worker met respondents; messages and authors could name the worker.
pub(crate) fn check_change_metadata(change: &Change) -> Result<()> {
    if change.timestamp() != 0 {
        return Err(Error::NonZeroTimestamp(change.timestamp()));
    }
    if change.message().is_some_and(|m| !m.is_empty()) || !change.extra_bytes().is_empty() {
        return Err(Error::ChangeMetadata);
    }
    Ok(())
}

pub(crate) fn check_content(doc: &AutoCommit, form: Option<&Form>) -> Result<CheckedDocument> {
    let schema = read::schema(doc)?;
    let kind = [DocKind::Response, DocKind::Site, DocKind::Form]
        .into_iter()
        .find(|k| k.schema() == schema)
        .ok_or_else(|| Error::Schema {
            expected: "a known schema",
            found: schema.chars().take(80).collect(),
        })?;
    Ok(match kind {
        DocKind::Response => {
            let form = match form {
                Some(form) => form,
                None => {
                    let (id, version) = response::form_ref(doc)?;
                    return Err(Error::UnknownForm {
                        form: id.chars().take(80).collect(),
                        version,
                    });
                }
            };
            CheckedDocument::Response(response::read(doc, form)?)
        }
        DocKind::Site => CheckedDocument::Site(site::read(doc)?),
        DocKind::Form => CheckedDocument::Form(form_doc::read(doc)?),
    })
}
