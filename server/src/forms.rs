//! Publishing forms: a definition, written as JSON or converted from an XLSForm workbook, is
//! checked by sync-core (a form that asks for identifying information is refused) and stored
//! with the form document devices receive through sync.

use serde_json::Value;
use sync_core::{Form, form_doc};
use uuid::Uuid;

use crate::storage::{AuditEntry, NewDocument, PublishedForm, Storage, heads_bytes};
use crate::xlsform::{self, Defaults, Imported};
use crate::{ApiError, Result};

/// Checks a form definition and stores it with its form document.
pub async fn publish_definition(
    storage: &dyn Storage,
    dataset: Uuid,
    definition: &Value,
    audit: &AuditEntry,
) -> Result<Form> {
    let form = Form::from_value(definition.clone())?;
    let mut doc = form_doc::create(dataset, &form)?;
    let actor = doc.get_actor().to_bytes().to_vec();
    let published = PublishedForm {
        dataset,
        form: form.id.clone(),
        version: form.version,
        definition: definition.to_string(),
        document: NewDocument {
            id: Uuid::new_v4(),
            heads: heads_bytes(doc.get_heads()),
            bytes: doc.save(),
            actors: vec![actor],
        },
    };
    storage.publish_form(&published, audit).await?;
    Ok(form)
}

/// Converts an XLSForm workbook and publishes the form it holds; returns the conversion, with
/// what it dropped, and the definition as published.
pub async fn publish_workbook(
    storage: &dyn Storage,
    dataset: Uuid,
    workbook: Vec<u8>,
    defaults: Defaults,
    audit: &AuditEntry,
) -> Result<(Imported, Value)> {
    // Inflating and reading a workbook is CPU work of up to a second for the largest.
    let imported = tokio::task::spawn_blocking(move || xlsform::convert(&workbook, &defaults))
        .await
        .map_err(|e| ApiError::Internal(format!("the import stopped: {e}")))??;
    let definition = serde_json::to_value(&imported.form)
        .map_err(|e| ApiError::Internal(format!("an imported form: {e}")))?;
    publish_definition(storage, dataset, &definition, audit).await?;
    Ok((imported, definition))
}

/// The latest version of each of the dataset's forms, as published.
pub async fn latest_forms(storage: &dyn Storage, dataset: Uuid) -> Result<Vec<Value>> {
    storage
        .latest_forms(dataset)
        .await?
        .iter()
        .map(|text| serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored form: {e}"))))
        .collect()
}
