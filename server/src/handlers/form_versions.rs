use axum::Json;
use axum::extract::State;

use crate::Result;
use crate::auth::Caller;
use crate::extract::DatasetId;
use crate::state::AppState;
use crate::storage::{FormVersion, Role};

/// `GET /v1/datasets/{id}/form-versions`: every version ever published of each form (id,
/// version, title, number of questions), newest first per form. Responses may claim any of
/// them, so an admin needs to see which are still around.
#[utoipa::path(
    get,
    path = "/v1/datasets/{id}/form-versions",
    summary = "Every published version of each form",
    extensions(("x-roles" = json!([Role::Admin]))),
    params(("id" = Uuid, Path, description = "The dataset")),
    responses((status = 200, description = "Newest first per form", body = Vec<FormVersion>))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    DatasetId(dataset): DatasetId,
) -> Result<Json<Vec<FormVersion>>> {
    caller.require(&[Role::Admin])?;
    caller.require_dataset(dataset)?;
    state.storage.existing_dataset(dataset).await?;
    Ok(Json(state.storage.form_versions(dataset).await?))
}
