use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::Role;
use crate::xlsform::Defaults;
use crate::{ApiError, Result, forms};

/// The media type of an `.xlsx` workbook, as Excel and browsers send it.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What an XLSForm import may add to the workbook: `?areas=north,south&form_id=outreach`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    areas: Option<String>,
    form_id: Option<String>,
}

/// Publishes a new version of a form, written as JSON or as an XLSForm workbook
/// ([`crate::forms`]).
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
        let (imported, definition) =
            forms::publish_workbook(state.storage.as_ref(), dataset, body.into(), defaults, &audit).await?;
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
    forms::publish_definition(state.storage.as_ref(), dataset, &definition, &audit).await?;
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
    Ok(Json(forms::latest_forms(state.storage.as_ref(), dataset).await?))
}
