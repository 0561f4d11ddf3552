//! Bearer-token authentication as extractors: a handler that takes a [`Caller`] or a
//! [`DeviceCaller`] cannot run without a valid token, and checks the role it needs with
//! [`Caller::require`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::router::AppState;
use crate::secret::{Secret, SecretHash};
use crate::storage::{AuditEntry, Role};
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

/// A caller holding a device token.
#[derive(Debug, Clone)]
pub struct DeviceCaller {
    pub device: Uuid,
    pub dataset: Uuid,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller> {
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
        let record = state.storage.token(&hash).await?.ok_or(ApiError::Unauthorized)?;
        Ok(Caller {
            role: record.role,
            dataset: record.dataset,
            device: record.device,
            name: record.name,
            token: Some(hash),
        })
    }
}

impl FromRequestParts<AppState> for DeviceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<DeviceCaller> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match (caller.role, caller.device, caller.dataset) {
            (Role::Device, Some(device), Some(dataset)) => Ok(DeviceCaller { device, dataset }),
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
