//! Bearer-token authentication as extractors: a handler that takes a [`Caller`] or a
//! [`DeviceCaller`] cannot run without a valid token, and checks the role it needs with
//! [`Caller::require`].
//!
//! Every request reads its token from the database: nothing is cached, so a revocation stops
//! the token on every replica at its next request. An expired, revoked or withdrawn token is
//! told apart from an unknown one ([`TokenRefusal`]), so a phone can say what to do next.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::secret::{Secret, SecretHash};
use crate::storage::{AuditEntry, Role, Storage, TokenRecord};
use crate::usage::Usage;
use crate::{ApiError, Result};

/// Longer than any token this server issues; longer headers are refused before hashing.
const MAX_TOKEN_LEN: usize = 128;

/// Whoever presented a valid token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    /// Set for tokens limited to one dataset (always for devices).
    pub dataset: Option<Uuid>,
    pub device: Option<Uuid>,
    pub name: String,
    /// The hash of the token presented; `None` for the server's own actions.
    pub token: Option<SecretHash>,
}

/// What the token extractors read of the server's state: the tokens in storage, and the days
/// they were used. A trait, so that this module does not depend on how the state is put
/// together; the server's state implements it.
pub trait TokenSource: Send + Sync {
    fn storage(&self) -> &dyn Storage;
    fn usage(&self) -> &Usage;
}

/// A caller holding a device token.
#[derive(Debug, Clone)]
pub struct DeviceCaller {
    pub device: Uuid,
    pub dataset: Uuid,
}

impl<S: TokenSource> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .filter(|token| token.len() <= MAX_TOKEN_LEN)
            .ok_or(ApiError::Unauthorized)?;
        let hash = Secret::token(token).hash();
        let Some(record) = state.storage().token(&hash).await? else {
            // A device of a purged dataset: its token is gone, but the phone must still wipe.
            return Err(if state.storage().token_wiped(&hash).await? {
                ApiError::TokenRefused(TokenRefusal::Wiped)
            } else {
                ApiError::Unauthorized
            });
        };
        if let Some(refusal) = TokenRefusal::of(&record, crate::clock::unix_now()) {
            return Err(ApiError::TokenRefused(refusal));
        }
        let today = crate::clock::today().to_string();
        if record.last_used_on.as_deref() != Some(today.as_str()) {
            state.usage().token_used(record.id);
        }
        let device_synced_today = record
            .device
            .as_ref()
            .is_some_and(|d| d.last_sync_on.as_deref() == Some(today.as_str()));
        if record.device.is_some() && !device_synced_today {
            parts.extensions.insert(NotSyncedToday);
        }
        Ok(Caller {
            role: record.role,
            dataset: record.dataset,
            device: record.device.map(|d| d.id),
            name: record.name,
            token: Some(hash),
        })
    }
}

/// Why a token the server knows no longer opens the door (401, with this code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Past its expiry: a device enrolls again with a new code and keeps its work.
    Expired,
    /// Revoked, or its device was withdrawn.
    Revoked,
    /// Its device was withdrawn with a wipe: the client deletes every document it holds of
    /// its dataset (docs/protocol.md).
    Wiped,
}

impl TokenRefusal {
    fn of(record: &TokenRecord, now: i64) -> Option<TokenRefusal> {
        let device = record.device.as_ref();
        if device.is_some_and(|d| d.wipe) {
            Some(TokenRefusal::Wiped)
        } else if record.revoked || device.is_some_and(|d| d.revoked) {
            Some(TokenRefusal::Revoked)
        } else if now >= record.expires_at {
            Some(TokenRefusal::Expired)
        } else {
            None
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            TokenRefusal::Expired => "expired",
            TokenRefusal::Revoked => "revoked",
            TokenRefusal::Wiped => "wiped",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            TokenRefusal::Expired => {
                "this token has expired: a device enrolls again with a new code and keeps its work; a person asks an admin for a new token"
            }
            TokenRefusal::Revoked => "this token was revoked",
            TokenRefusal::Wiped => {
                "this device was withdrawn: delete every document of this dataset it holds"
            }
        }
    }
}

/// Left by the [`Caller`] extractor on a device's request when the database does not date its
/// last sync today yet.
#[derive(Clone, Copy)]
struct NotSyncedToday;

impl<S: TokenSource> FromRequestParts<S> for DeviceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<DeviceCaller> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match (caller.role, caller.device, caller.dataset) {
            (Role::Device, Some(device), Some(dataset)) => {
                if parts.extensions.remove::<NotSyncedToday>().is_some() {
                    state.usage().device_synced(device);
                }
                Ok(DeviceCaller { device, dataset })
            }
            _ => Err(ApiError::Forbidden(
                "this endpoint is for enrolled devices".into(),
            )),
        }
    }
}

impl Caller {
    pub fn require(&self, roles: &[Role]) -> Result<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::Forbidden(format!(
                "this needs one of the roles {}",
                names.join(", ")
            )))
        }
    }

    /// A token scoped to one dataset may act on that dataset only.
    pub fn require_dataset(&self, dataset: Uuid) -> Result<()> {
        match self.dataset {
            Some(own) if own != dataset => Err(ApiError::Forbidden(
                "this token is limited to another dataset".into(),
            )),
            _ => Ok(()),
        }
    }

    pub fn audit(&self, action: impl Into<String>, dataset: Option<Uuid>) -> AuditEntry {
        AuditEntry {
            actor_name: self.name.clone(),
            actor_role: self.role.as_str().to_owned(),
            action: action.into(),
            dataset,
        }
    }
}
