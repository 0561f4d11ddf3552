use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::{JsonBody, TokenId};
use crate::state::AppState;
use crate::storage::{Role, TokenSummary};
use crate::{ApiError, Result, clock, tokens};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    role: Role,
    name: String,
    dataset: Option<Uuid>,
    /// Default: [`crate::token_expiry::default_days`].
    expires_in_days: Option<u32>,
}

/// Issues an admin, analyst, trainer or supervisor token, optionally limited to one dataset. Device tokens
/// come from enrollment only. A token limited to a dataset can only issue tokens for it.
#[utoipa::path(
    post,
    path = "/v1/tokens",
    summary = "Issue an admin, analyst, trainer or supervisor token",
    extensions(("x-roles" = json!([Role::Admin]))),
    request_body = TokenRequest,
    responses((status = 201, description = "The token, shown this once", body = IssuedToken))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<IssuedToken>)> {
    caller.require(&[Role::Admin])?;
    if caller.dataset.is_some() && request.dataset != caller.dataset {
        return Err(ApiError::Forbidden(
            "a token limited to one dataset can only issue tokens for that dataset".into(),
        ));
    }
    if let Some(dataset) = request.dataset {
        state.storage.existing_dataset(dataset).await?;
    }
    let audit = caller.audit(format!("create_token:{}", request.role.as_str()), request.dataset);
    let (token, record) = tokens::issue_token(
        state.storage.as_ref(),
        request.role,
        &request.name,
        request.dataset,
        request.expires_in_days,
        &audit,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            token: token.expose().to_owned(),
            id: record.id,
            expires_on: crate::storage::day_of(record.expires_at),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    token: String,
    id: Uuid,
    /// The first day (UTC) it no longer works.
    expires_on: String,
}

/// Every token (a limited admin: its dataset's), newest first, without secrets: who holds
/// what, until when, and the last day each was used.
#[utoipa::path(
    get,
    path = "/v1/tokens",
    summary = "List tokens without their secrets",
    extensions(("x-roles" = json!([Role::Admin]))),
    responses((status = 200, description = "Newest first", body = Vec<TokenSummary>))
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<TokenSummary>>> {
    caller.require(&[Role::Admin])?;
    state.usage.flush(state.storage.as_ref()).await?;
    Ok(Json(state.storage.tokens(caller.dataset).await?))
}

/// Revokes a token at once, on every replica (tokens are read from the database on every
/// request). Revoking it again changes nothing. A phone is better withdrawn as a device
/// (`POST /v1/devices/{id}/revoke`): a revoked device token alone lets the phone enroll again
/// as the same device with a new code.
#[utoipa::path(
    delete,
    path = "/v1/tokens/{id}",
    summary = "Revoke a token: its next request gets 401 revoked",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The token")),
    responses((status = 200, description = "The token as it now is", body = TokenSummary))
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    TokenId(id): TokenId,
) -> Result<Json<TokenSummary>> {
    caller.require(&[Role::Admin])?;
    let found = state
        .storage
        .token_by_id(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("token".into()))?;
    if caller.dataset.is_some() && found.dataset != caller.dataset {
        return Err(ApiError::NotFound("token".into()));
    }
    let audit = caller.audit(format!("revoke_token:{}", found.role.as_str()), found.dataset);
    state.storage.revoke_token(id, clock::today(), &audit).await?;
    let revoked = state
        .storage
        .token_by_id(id)
        .await?
        .ok_or_else(|| ApiError::NotFound("token".into()))?;
    Ok(Json(revoked))
}
