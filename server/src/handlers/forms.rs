use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use sync_core::{Form, form_doc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{DatasetId, JsonBody};
use crate::state::AppState;
use crate::storage::{AuditEntry, NewDocument, PublishedForm, Role, heads_bytes};
use crate::{ApiError, Result};

/// Publishes a new version of a form. The definition is checked by sync-core (a form that asks
/// for identifying information is refused) and stored as published; devices receive it as a
/// form document through sync.
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    JsonBody(definition): JsonBody<Value>,
) -> Result<(StatusCode, Json<Value>)> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    publish_definition(
        &state,
        dataset,
        &definition,
        &caller.audit("publish_form", Some(dataset)),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(definition)))
}

/// The latest version of each form, as published.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<Value>>> {
    caller.require(&[Role::Admin, Role::Analyst, Role::Trainer])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    let forms = state
        .storage
        .latest_forms(dataset)
        .await?
        .iter()
        .map(|text| serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored form: {e}"))))
        .collect::<Result<_>>()?;
    Ok(Json(forms))
}

/// Checks a form definition and stores it with its form document (also used by `serve --demo`).
pub async fn publish_definition(
    state: &AppState,
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
    state.storage.publish_form(&published, audit).await?;
    Ok(form)
}
