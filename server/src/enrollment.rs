//! Enrollment: a code, issued for a dataset and a number of phones, that a phone trades for a
//! device token of its own. Codes and tokens are stored as hashes only.

use serde::Serialize;
use uuid::Uuid;

use crate::clock::unix_now;
use crate::labels::check_label;
use crate::secret::Secret;
use crate::storage::{AuditEntry, DeviceEnrollment, Enrolled, NewEnrollment, Role, Storage};
use crate::tokens::new_token;
use crate::{ApiError, Result, token_expiry};

pub const MAX_USES: i64 = 1000;
const MAX_HOURS: i64 = 24 * 90;
/// Longer than any code or token this server issues; longer ones are wrong before hashing.
const MAX_SECRET_LEN: usize = 128;

/// A new code: the code itself, and as a QR image (`qr_svg`, an SVG element) to show
/// the phones.
#[derive(Serialize)]
pub struct IssuedCode {
    code: String,
    qr_svg: String,
    uses: i64,
    expires_at: i64,
}

impl IssuedCode {
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn uses(&self) -> i64 {
        self.uses
    }
}

/// Creates a code that enrolls up to `uses` devices in `dataset` within `expires_in_hours`.
pub async fn issue_code(
    storage: &dyn Storage,
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
    storage.create_enrollment(&enrollment, audit).await?;
    Ok(IssuedCode {
        code: code.expose().to_owned(),
        qr_svg: crate::qr::svg(code.expose())?,
        uses,
        expires_at,
    })
}

/// The dataset `code` enrolls in at `now`, if it still does. A read only: a wrong code costs
/// no write.
pub async fn code_dataset(storage: &dyn Storage, code: &str, now: i64) -> Result<Option<Uuid>> {
    if code.len() > MAX_SECRET_LEN {
        return Ok(None);
    }
    Ok(storage
        .enrollment_dataset(&Secret::code(code).hash(), now)
        .await?)
}

/// Spends one use of `code` on a device and gives it a token of the default device lifetime:
/// `renewing`, a device that enrolled before ([`renewed_device`]), or a new one.
pub async fn enroll_device(
    storage: &dyn Storage,
    code: &str,
    now: i64,
    renewing: Option<Uuid>,
) -> Result<(Enrolled, Secret)> {
    let token = Secret::new_token()?;
    let enrollment = DeviceEnrollment {
        device: renewing.unwrap_or_else(Uuid::new_v4),
        renewal: renewing.is_some(),
        // The dataset and the name come from the code and the device.
        token: new_token(
            &token,
            Role::Device,
            None,
            String::new(),
            token_expiry::DEVICE_DAYS,
        ),
    };
    let enrolled = storage
        .enroll_device(&Secret::code(code).hash(), now, &enrollment)
        .await?
        // Used up or expired since it was read.
        .ok_or(ApiError::InvalidCode)?;
    Ok((enrolled, token))
}

/// The device a phone's earlier token names, if it may take a new token in `dataset`: the
/// phone stays the same device, so the responses it sent before, which only their first
/// writer may change, stay its own.
pub async fn renewed_device(storage: &dyn Storage, token: &str, dataset: Uuid) -> Result<Uuid> {
    let not_a_device =
        || ApiError::bad_request("invalid", "device_token is not a device token of this server");
    if token.len() > MAX_SECRET_LEN {
        return Err(not_a_device());
    }
    let record = storage
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
