use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::Role;
use crate::xlsform::{Defaults, Report};
use crate::{ApiError, Result, forms};

/// The media type of an `.xlsx` workbook, as Excel and browsers send it.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What an XLSForm import may add to the workbook: `?areas=north,south&form_id=outreach`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// A workbook's areas, comma-separated, when its settings sheet names none.
    areas: Option<String>,
    /// A workbook's form id, when its settings sheet has none.
    form_id: Option<String>,
}

/// A published form: as it was sent, or for a workbook, the form it became and what the
/// conversion left out or read in its own way.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Published {
    Workbook {
        #[schema(value_type = Object)]
        form: Value,
        report: Report,
    },
    #[schema(value_type = Object)]
    Form(Value),
}

/// Publishes a new version of a form, written as JSON or as an XLSForm workbook
/// ([`crate::forms`]).
#[utoipa::path(
    post,
    path = "/v1/datasets/{id}/forms",
    summary = "Publish a new form version: form JSON, or an XLSForm workbook",
    description = "A refused workbook's error lists every problem with its sheet, row and column.",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset"), ImportQuery),
    request_body(
        description = "The form definition as JSON (docs/forms.md), or an XLSForm workbook of 2 MiB at most",
        content(
            (Object = "application/json"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
    ),
    responses((status = 201, description = "Published: the form JSON, or for a workbook { form, report }", body = Published))
)]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Published>)> {
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
            Json(Published::Workbook {
                form: definition,
                report: imported.report,
            }),
        ));
    }
    if !(media_type == "application/json" || media_type.ends_with("+json")) {
        return Err(ApiError::UnsupportedMediaType(
            "application/json, or an XLSForm workbook as application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ));
    }
    let axum::Json(definition) = axum::Json::<Value>::from_bytes(&body)?;
    forms::publish_definition(state.storage.as_ref(), dataset, &definition, &audit).await?;
    Ok((StatusCode::CREATED, Json(Published::Form(definition))))
}

/// The latest version of each form, as published.
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/forms",
    summary = "Latest version of each form, as published",
    extensions(("x-roles" = json!([Role::Admin, Role::Analyst, Role::Trainer, Role::Supervisor]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    responses((status = 200, description = "Form definitions (docs/forms.md)", body = Vec<Object>))
)]
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
