use automerge::{ActorId, AutoCommit, Change};
use uuid::Uuid;

use super::history::check_changes;
use super::{
    Against, DocKind, FormDoc, ResponseView, SiteView, TallyView, form_doc, read, response, site, tally,
};
use crate::{Error, Form, Result};

/// A document that passed every check, with its typed content.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckedDocument {
    Response(ResponseView),
    Site(SiteView),
    Form(FormDoc),
    Tally(TallyView),
}

impl CheckedDocument {
    pub fn kind(&self) -> DocKind {
        match self {
            CheckedDocument::Response(_) => DocKind::Response,
            CheckedDocument::Site(_) => DocKind::Site,
            CheckedDocument::Form(_) => DocKind::Form,
            CheckedDocument::Tally(_) => DocKind::Tally,
        }
    }

    pub fn dataset(&self) -> Uuid {
        match self {
            CheckedDocument::Response(r) => r.dataset,
            CheckedDocument::Site(s) => s.dataset,
            CheckedDocument::Form(f) => f.dataset,
            CheckedDocument::Tally(t) => t.dataset,
        }
    }
}

/// Says whether a (merged) document is valid: every change private (timestamp 0, no message,
/// no author, its own 16-byte actor) and fitting the schema on its own, the schema known, every
/// field declared, every answer fitting `form` (needed for responses, ignored otherwise). A
/// tally document's counters are checked as identifiers, its site not being at hand.
pub fn check_document(doc: &mut AutoCommit, form: Option<&Form>) -> Result<CheckedDocument> {
    let changes = doc.get_changes(&[]);
    for change in &changes {
        check_change_metadata(change)?;
    }
    let checked = check_content(doc, form)?;
    let against = match checked.kind() {
        DocKind::Tally => Against::Site(None),
        _ => Against::Form(form),
    };
    check_changes(doc, &changes, checked.kind(), against, true, false)?;
    Ok(checked)
}

/// Operations in one change: a whole response is a few dozen, a long note typed letter by
/// letter in another client a few thousand.
const MAX_CHANGE_OPS: usize = 20_000;

/// The privacy rules for one change, and its size. Wall-clock timestamps would tell when and in
/// what order a worker met respondents; messages and authors could name the worker; an actor is
/// random bytes of a fixed size, or it could spell out a name and a phone number.
pub(crate) fn check_change_metadata(change: &Change) -> Result<()> {
    if change.timestamp() != 0 {
        return Err(Error::NonZeroTimestamp(change.timestamp()));
    }
    if change.message().is_some_and(|m| !m.is_empty())
        || !change.extra_bytes().is_empty()
        || change.author().is_some()
    {
        return Err(Error::ChangeMetadata);
    }
    for actor in change.actors() {
        check_actor(actor)?;
    }
    if change.len() > MAX_CHANGE_OPS {
        return Err(Error::TooManyOperations {
            ops: change.len(),
            limit: MAX_CHANGE_OPS,
        });
    }
    Ok(())
}

/// Both of our clients make actors of 16 random bytes ([`ActorId::random`]).
pub(crate) fn check_actor(actor: &ActorId) -> Result<()> {
    match actor.to_bytes().len() {
        16 => Ok(()),
        len => Err(Error::ActorLength(len)),
    }
}

pub(crate) fn check_content(doc: &AutoCommit, form: Option<&Form>) -> Result<CheckedDocument> {
    let schema = read::schema(doc)?;
    let kind = DocKind::ALL
        .into_iter()
        .find(|k| k.schema() == schema)
        .ok_or_else(|| Error::Schema {
            expected: "a known schema",
            found: crate::quoted(&schema),
        })?;
    Ok(match kind {
        DocKind::Response => {
            let form = match form {
                Some(form) => form,
                None => {
                    let (id, version) = response::form_ref(doc)?;
                    return Err(Error::UnknownForm {
                        form: crate::quoted(&id),
                        version,
                    });
                }
            };
            CheckedDocument::Response(response::read(doc, form)?)
        }
        DocKind::Site => CheckedDocument::Site(site::read(doc)?),
        DocKind::Form => CheckedDocument::Form(form_doc::read(doc)?),
        DocKind::Tally => CheckedDocument::Tally(tally::read(doc)?),
    })
}
