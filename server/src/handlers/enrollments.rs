//! Enrollment over HTTP: an admin or trainer issues a code, a phone trades it for its own
//! device token (`crate::enrollment`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::clock::unix_now;
use crate::enrollment::{self, IssuedCode};
use crate::error::ErrorBody;
use crate::extract::{DatasetId, JsonBody};
use crate::state::AppState;
use crate::storage::{Enrolled, Mode, Role};
use crate::{ApiError, Result};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRequest {
    label: String,
    uses: i64,
    expires_in_hours: i64,
}

/// Issues a code that enrolls up to `uses` devices. Trainers may do so on demo datasets only.
#[utoipa::path(
    post,
    path = "/v1/datasets/{id}/enrollments",
    summary = "Issue an enrollment code (trainers: demo datasets only)",
    extensions(("x-roles" = json!([Role::Admin, Role::Trainer]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    request_body = EnrollmentRequest,
    responses((status = 201, description = "The code, and as a QR image", body = IssuedCode))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
    JsonBody(request): JsonBody<EnrollmentRequest>,
) -> Result<(StatusCode, Json<IssuedCode>)> {
    caller.require(&[Role::Admin, Role::Trainer])?;
    caller.require_dataset(dataset)?;
    let found = state.storage.existing_dataset(dataset).await?;
    if caller.role == Role::Trainer && found.mode != Mode::Demo {
        return Err(ApiError::Forbidden(
            "trainers enroll devices on demo datasets only".into(),
        ));
    }
    let audit = caller.audit("create_enrollment", Some(dataset));
    let issued = enrollment::issue_code(
        state.storage.as_ref(),
        dataset,
        &request.label,
        request.uses,
        request.expires_in_hours,
        &audit,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    code: String,
    /// The token a phone already holds (expired, say): the phone stays the same device.
    device_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EnrolledDevice {
    #[serde(flatten)]
    device: Enrolled,
    /// The dataset's mode: phones delete what they sent by default in a live dataset, and keep
    /// it in a demo one, where trainees look back at their practice.
    mode: Mode,
    token: String,
}

/// A phone trades a code for its own device token. No caller token: the code is the credential.
/// A wrong code spends one of the process's attempts ([`crate::enroll_attempts`]) and is
/// answered from a read, without waiting for (or taking) the write lock that syncs need.
#[utoipa::path(
    post,
    path = "/v1/enroll",
    summary = "Trade an enrollment code for a device token (device_token: enroll again as the same device)",
    extensions(("x-roles" = json!([]))),
    request_body = EnrollRequest,
    responses(
        (status = 201, description = "Enrolled", body = EnrolledDevice),
        (status = 429, description = "`too_many_attempts`: too many wrong codes; Retry-After says when to try again", body = ErrorBody)
    )
)]
pub async fn enroll(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<EnrollRequest>,
) -> Result<(StatusCode, Json<EnrolledDevice>)> {
    let attempt = state.enroll_attempts.begin().inspect_err(|_| {
        state.metrics.count_throttled_enrollment();
    })?;
    let storage = state.storage.as_ref();
    let now = unix_now();
    let Some(dataset) = enrollment::code_dataset(storage, &request.code, now).await? else {
        attempt.spend();
        state.metrics.count_wrong_code();
        return Err(ApiError::InvalidCode);
    };
    drop(attempt);
    let renewing = match &request.device_token {
        Some(token) => Some(enrollment::renewed_device(storage, token, dataset).await?),
        None => None,
    };
    let (device, token) = enrollment::enroll_device(storage, &request.code, now, renewing).await?;
    let mode = storage
        .dataset(device.dataset)
        .await?
        .ok_or_else(|| ApiError::NotFound("dataset".into()))?
        .mode;
    Ok((
        StatusCode::CREATED,
        Json(EnrolledDevice {
            device,
            mode,
            token: token.expose().to_owned(),
        }),
    ))
}
