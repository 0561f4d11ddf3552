use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{check_label, forms::ensure_dataset, unix_now};
use crate::auth::Caller;
use crate::extract::{DatasetId, JsonBody};
use crate::router::AppState;
use crate::secret::Secret;
use crate::storage::{AuditEntry, Enrolled, Mode, NewEnrollment, Role};
use crate::{ApiError, Result};

pub const MAX_USES: i64 = 1000;
const MAX_HOURS: i64 = 24 * 90;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRequest {
    label: String,
    uses: i64,
    expires_in_hours: i64,
}

#[derive(Serialize)]
pub struct IssuedCode {
    code: String,
    uses: i64,
    expires_at: i64,
}

/// Issues a code that enrolls up to `uses` devices. Trainers may do so on demo datasets only.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    JsonBody(request): JsonBody<EnrollmentRequest>,
) -> Result<(StatusCode, Json<IssuedCode>)> {
    caller.require(&[Role::Admin, Role::Trainer])?;
    caller.require_dataset(dataset)?;
    let found = ensure_dataset(&state, dataset).await?;
    if caller.role == Role::Trainer && found.mode != Mode::Demo {
        return Err(ApiError::Forbidden(
            "trainers enroll devices on demo datasets only".into(),
        ));
    }
    let audit = caller.audit("create_enrollment", Some(dataset));
    let issued = issue_code(
        &state,
        dataset,
        &request.label,
        request.uses,
        request.expires_in_hours,
        &audit,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Creates an enrollment code (also used by `serve --demo`); only its hash is stored.
pub async fn issue_code(
    state: &AppState,
    dataset: Uuid,
    label: &str,
    uses: i64,
    expires_in_hours: i64,
    audit: &AuditEntry,
) -> Result<IssuedCode> {
    check_label("label", label, 100)?;
    if !(1..=MAX_USES).contains(&uses) {
        return Err(ApiError::bad_request(
            "invalid",
            format!("uses must be between 1 and {MAX_USES}"),
        ));
    }
    if !(1..=MAX_HOURS).contains(&expires_in_hours) {
        return Err(ApiError::bad_request(
            "invalid",
            format!("expires_in_hours must be between 1 and {MAX_HOURS}"),
        ));
    }
    let code = Secret::new_code()?;
    let expires_at = unix_now() + expires_in_hours * 3600;
    let enrollment = NewEnrollment {
        code: code.hash(),
        dataset,
        label: label.to_owned(),
        uses,
        expires_at,
    };
    state.storage.create_enrollment(&enrollment, audit).await?;
    Ok(IssuedCode {
        code: code.expose().to_owned(),
        uses,
        expires_at,
    })
}

impl IssuedCode {
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn uses(&self) -> i64 {
        self.uses
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    code: String,
}

#[derive(Serialize)]
pub struct EnrolledDevice {
    #[serde(flatten)]
    device: Enrolled,
    token: String,
}

/// A phone trades a code for its own device token. No caller token: the code is the credential.
pub async fn enroll(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<EnrollRequest>,
) -> Result<(StatusCode, Json<EnrolledDevice>)> {
    if request.code.len() > 64 {
        return Err(ApiError::InvalidCode);
    }
    let token = Secret::new_token()?;
    let device = state
        .storage
        .enroll_device(
            &Secret::code(&request.code).hash(),
            unix_now(),
            Uuid::new_v4(),
            &token.hash(),
        )
        .await?
        .ok_or(ApiError::InvalidCode)?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolledDevice {
            device,
            token: token.expose().to_owned(),
        }),
    ))
}
