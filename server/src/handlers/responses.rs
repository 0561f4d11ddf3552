//! Withdrawing one response: a respondent who asks for their answers to be taken back, or an
//! entry made by mistake. Its phone (the device that wrote it) or an admin asks; what is kept
//! afterwards is a tombstone, so no copy of it anywhere can bring it back (docs/protocol.md).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::extract::DatasetResponseIds;
use crate::state::AppState;
use crate::storage::{Role, Withdrawal};
use crate::{Result, clock};

/// `DELETE /v1/datasets/{id}/responses/{response}`: 200 `{id, withdrawn: true}`, also when it
/// was withdrawn before, so a phone that lost the first answer can ask again. 404 when the
/// dataset holds no such response, or none the calling device wrote.
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    DatasetResponseIds(dataset, response): DatasetResponseIds,
) -> Result<Json<Value>> {
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
    Ok(Json(json!({ "id": response, "withdrawn": true })))
}
