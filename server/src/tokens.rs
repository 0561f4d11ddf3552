//! Tokens of people (admins, analysts, trainers, supervisors): issued with a lifetime, stored
//! as a hash only. Device tokens come from enrollment (`crate::enrollment`).

use uuid::Uuid;

use crate::labels::check_label;
use crate::secret::Secret;
use crate::storage::{AuditEntry, NewToken, Role, Storage};
use crate::{ApiError, Result, clock, token_expiry};

/// Creates a token and stores its hash; `days` is its lifetime, the role's default when
/// `None`.
pub async fn issue_token(
    storage: &dyn Storage,
    role: Role,
    name: &str,
    dataset: Option<Uuid>,
    days: Option<u32>,
    audit: &AuditEntry,
) -> Result<(Secret, NewToken)> {
    if role == Role::Device {
        return Err(ApiError::bad_request(
            "invalid",
            "device tokens come from enrollment",
        ));
    }
    check_label("name", name, 100)?;
    let days = match days {
        Some(days) => token_expiry::check_days(days)?,
        None => token_expiry::default_days(role),
    };
    let token = Secret::new_token()?;
    let record = new_token(&token, role, dataset, name.to_owned(), days);
    storage.create_token(&record, audit).await?;
    Ok((token, record))
}

/// The stored form of a new token `secret`, made today and living `days`.
pub fn new_token(secret: &Secret, role: Role, dataset: Option<Uuid>, name: String, days: u32) -> NewToken {
    let today = clock::today();
    NewToken {
        id: Uuid::new_v4(),
        hash: secret.hash(),
        role,
        dataset,
        name,
        created_on: today,
        expires_at: token_expiry::expires_at(today, days),
    }
}
