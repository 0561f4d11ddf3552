//! Withdrawing one response: a respondent who asks for their answers to be taken back, or an
//! entry made by mistake. Its phone (the device that wrote it) or an admin asks; what is kept
//! afterwards is a tombstone, so no copy of it anywhere can bring it back (docs/protocol.md).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::DatasetResponseIds;
use crate::state::AppState;
use crate::storage::{Role, Withdrawal};
use crate::{Result, clock};

/// `DELETE /v1/datasets/{id}/responses/{response}`: 200 `{id, withdrawn: true}`, also when it
/// was withdrawn before, so a phone that lost the first answer can ask again. 404 when the
/// dataset holds no such response, or none the calling device wrote.
#[utoipa::path(
    delete,
    path = "/v1/datasets/{id}/responses/{response}",
    summary = "Withdraw a response (devices: one they wrote): deleted everywhere, a later sync of it refused as withdrawn",
    extensions(("x-roles" = json!([Role::Admin, Role::Device]))),
    params(
        ("id" = Uuid, Path, description = "The dataset"),
        ("response" = Uuid, Path, description = "The response document"),
    ),
    responses((status = 200, description = "Withdrawn, now or before", body = Withdrawn))
)]
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    DatasetResponseIds(dataset, response): DatasetResponseIds,
) -> Result<Json<Withdrawn>> {
    caller.require(&[Role::Admin, Role::Device])?;
    caller.require_dataset(dataset)?;
    let withdrawal = Withdrawal {
        dataset,
        document: response,
        device: caller.device,
        day: clock::today(),
    };
    let audit = caller.audit("withdraw_response", Some(dataset));
    if state.storage.withdraw_response(&withdrawal, &audit).await? {
        state.aggregates.changed(dataset, &[response]);
    }
    Ok(Json(Withdrawn {
        id: response,
        withdrawn: true,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Withdrawn {
    id: Uuid,
    /// Always `true`.
    withdrawn: bool,
}
