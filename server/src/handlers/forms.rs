use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::{Form, form_doc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::{AuditEntry, NewDocument, PublishedForm, Role, heads_bytes};
use crate::xlsform::{self, Defaults};
use crate::{ApiError, Result};

/// The media type of an `.xlsx` workbook, as Excel and browsers send it.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What an XLSForm import may add to the workbook: `?areas=north,south&form_id=outreach`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    areas: Option<String>,
    form_id: Option<String>,
}

/// Publishes a new version of a form, written as JSON or as an XLSForm workbook. The definition
/// is checked by sync-core (a form that asks for identifying information is refused) and stored
/// as published; devices receive it as a form document through sync.
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>)> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::bad_request("bad_body", rejection.body_text()),
    })?;
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let audit = caller.audit("publish_form", Some(dataset));
    if media_type == XLSX {
        let query: ImportQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
            .map_err(|e| ApiError::bad_request("bad_query", format!("the query string is malformed: {e}")))?;
        let defaults = Defaults {
            form_id: query.form_id,
            areas: query
                .areas
                .iter()
                .flat_map(|areas| areas.split(','))
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        // Inflating and reading a workbook is CPU work of up to a second for the largest.
        let imported = tokio::task::spawn_blocking(move || xlsform::convert(&body, &defaults))
            .await
            .map_err(|e| ApiError::Internal(format!("the import stopped: {e}")))??;
        let definition = serde_json::to_value(&imported.form)
            .map_err(|e| ApiError::Internal(format!("an imported form: {e}")))?;
        publish_definition(&state, dataset, &definition, &audit).await?;
        return Ok((
            StatusCode::CREATED,
            Json(json!({ "form": definition, "report": imported.report })),
        ));
    }
    if !(media_type == "application/json" || media_type.ends_with("+json")) {
        return Err(ApiError::UnsupportedMediaType(
            "application/json, or an XLSForm workbook as application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ));
    }
    let axum::Json(definition) = axum::Json::<Value>::from_bytes(&body)?;
    publish_definition(&state, dataset, &definition, &audit).await?;
    Ok((StatusCode::CREATED, Json(definition)))
}

/// The latest version of each form, as published.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<Value>>> {
    caller.require(&[Role::Admin, Role::Analyst, Role::Trainer, Role::Supervisor])?;
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
