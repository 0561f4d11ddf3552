use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{check_label, forms::ensure_dataset};
use crate::auth::Caller;
use crate::extract::JsonBody;
use crate::router::AppState;
use crate::secret::Secret;
use crate::storage::{AuditEntry, NewToken, Role, Storage};
use crate::{ApiError, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    role: Role,
    name: String,
    dataset: Option<Uuid>,
}

/// Issues an admin, analyst or trainer token, optionally limited to one dataset. Device tokens
/// come from enrollment only. A token limited to a dataset can only issue tokens for it.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<Value>)> {
    caller.require(&[Role::Admin])?;
    if caller.dataset.is_some() && request.dataset != caller.dataset {
        return Err(ApiError::Forbidden(
            "a token limited to one dataset can only issue tokens for that dataset".into(),
        ));
    }
    if let Some(dataset) = request.dataset {
        ensure_dataset(&state, dataset).await?;
    }
    let audit = caller.audit(format!("create_token:{}", request.role.as_str()), request.dataset);
    let token = issue_token(
        state.storage.as_ref(),
        request.role,
        &request.name,
        request.dataset,
        &audit,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "token": token.expose() }))))
}

/// Creates a token and stores its hash (also used by the CLI and `serve --demo`).
pub async fn issue_token(
    storage: &dyn Storage,
    role: Role,
    name: &str,
    dataset: Option<Uuid>,
    audit: &AuditEntry,
) -> Result<Secret> {
    if role == Role::Device {
        return Err(ApiError::bad_request(
            "invalid",
            "device tokens come from enrollment",
        ));
    }
    check_label("name", name, 100)?;
    let token = Secret::new_token()?;
    let record = NewToken {
        hash: token.hash(),
        role,
        dataset,
        name: name.to_owned(),
    };
    storage.create_token(&record, audit).await?;
    Ok(token)
}
