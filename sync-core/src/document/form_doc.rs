//! Published form definitions as documents, so forms reach devices through the same sync as
//! everything else. Only the server writes them; one document per form version, never edited.

use automerge::{AutoCommit, ROOT, transaction::Transactable};
use uuid::Uuid;

use super::read::Fields;
use super::{commit_private, new_document};
use crate::{Error, Form, Result};

pub const SCHEMA: &str = "survey.form/1";
const FIELDS: &[&str] = &["schema", "dataset", "form", "version", "definition"];

#[derive(Debug, Clone, PartialEq)]
pub struct FormDoc {
    pub dataset: Uuid,
    pub form: Form,
}

pub fn create(dataset: Uuid, form: &Form) -> Result<AutoCommit> {
    let mut doc = new_document();
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "dataset", dataset.to_string())?;
    doc.put(ROOT, "form", form.id.as_str())?;
    doc.put(ROOT, "version", form.version)?;
    doc.put(ROOT, "definition", form.to_json())?;
    commit_private(&mut doc);
    Ok(doc)
}

pub fn read(doc: &AutoCommit) -> Result<FormDoc> {
    let root = Fields::of(doc, &ROOT);
    root.only("", FIELDS)?;
    let schema = root.string("schema")?;
    if schema != SCHEMA {
        return Err(Error::Schema {
            expected: SCHEMA,
            found: schema.chars().take(80).collect(),
        });
    }
    let form = Form::from_published(root.string("definition")?)?;
    if form.id != root.string("form")? || form.version != root.int("version")? {
        return Err(Error::FieldType {
            field: "definition".into(),
            expected: "the form named by the document",
        });
    }
    Ok(FormDoc {
        dataset: root.uuid("dataset")?,
        form,
    })
}
