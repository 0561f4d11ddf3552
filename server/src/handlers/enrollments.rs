use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::check_label;
use super::tokens::new_token;
use crate::auth::Caller;
use crate::clock::unix_now;
use crate::extract::{DatasetId, JsonBody};
use crate::secret::Secret;
use crate::state::AppState;
use crate::storage::{AuditEntry, DeviceEnrollment, Enrolled, Mode, NewEnrollment, Role};
use crate::token_expiry;
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

/// A new code: the code itself, and as a QR image (`qr_svg`, an SVG element) to show
/// the phones.
#[derive(Serialize)]
pub struct IssuedCode {
    code: String,
    qr_svg: String,
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
    let found = state.storage.existing_dataset(dataset).await?;
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
        qr_svg: crate::qr::svg(code.expose())?,
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
    /// The token a phone already holds (expired, say): the phone stays the same device, so
    /// the responses it sent before, which only their first writer may change, stay its own.
    device_token: Option<String>,
}

#[derive(Serialize)]
pub struct EnrolledDevice {
    #[serde(flatten)]
    device: Enrolled,
    /// The dataset's mode: phones delete what they sent by default in a live dataset, and keep
    /// it in a demo one, where trainees look back at their practice.
    mode: Mode,
    token: String,
}

/// Longer than any code or token this server issues; longer ones are wrong before hashing.
const MAX_SECRET_LEN: usize = 128;

/// A phone trades a code for its own device token. No caller token: the code is the credential.
/// A wrong code spends one of the process's attempts ([`crate::enroll_attempts`]) and is
/// answered from a read, without waiting for (or taking) the write lock that syncs need.
pub async fn enroll(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<EnrollRequest>,
) -> Result<(StatusCode, Json<EnrolledDevice>)> {
    let attempt = state.enroll_attempts.begin().inspect_err(|_| {
        state.metrics.count_throttled_enrollment();
    })?;
    let code = Secret::code(&request.code).hash();
    let now = unix_now();
    let dataset = if request.code.len() <= MAX_SECRET_LEN {
        state.storage.enrollment_dataset(&code, now).await?
    } else {
        None
    };
    let Some(dataset) = dataset else {
        attempt.spend();
        state.metrics.count_wrong_code();
        return Err(ApiError::InvalidCode);
    };
    drop(attempt);
    let (device, renewal) = match &request.device_token {
        Some(token) => (renewed_device(&state, token, dataset).await?, true),
        None => (Uuid::new_v4(), false),
    };
    let token = Secret::new_token()?;
    let device = state
        .storage
        .enroll_device(&code, now, &device_enrollment(device, renewal, &token))
        .await?
        // Used up or expired between the read and the write.
        .ok_or(ApiError::InvalidCode)?;
    let mode = state
        .storage
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

/// What the storage needs to enroll `device` (anew, or again if `renewal`) with `token`, of
/// the default device lifetime (also used by `survey-bench-ingest`).
pub fn device_enrollment(device: Uuid, renewal: bool, token: &Secret) -> DeviceEnrollment {
    DeviceEnrollment {
        device,
        renewal,
        // The dataset and the name come from the code and the device.
        token: new_token(
            token,
            Role::Device,
            None,
            String::new(),
            token_expiry::DEVICE_DAYS,
        ),
    }
}

/// The device a phone's earlier token names, if it may take a new token in `dataset`.
async fn renewed_device(state: &AppState, token: &str, dataset: Uuid) -> Result<Uuid> {
    let not_a_device =
        || ApiError::bad_request("invalid", "device_token is not a device token of this server");
    if token.len() > MAX_SECRET_LEN {
        return Err(not_a_device());
    }
    let record = state
        .storage
        .token(&Secret::token(token).hash())
        .await?
        .ok_or_else(not_a_device)?;
    let device = record.device.ok_or_else(not_a_device)?;
    if device.revoked {
        return Err(ApiError::Conflict {
            code: "device_revoked",
            message: "this device was withdrawn: it cannot be enrolled again".into(),
        });
    }
    if record.dataset != Some(dataset) {
        return Err(ApiError::Conflict {
            code: "other_dataset",
            message: "this code is for another dataset than the one this device holds work of".into(),
        });
    }
    Ok(device.id)
}
