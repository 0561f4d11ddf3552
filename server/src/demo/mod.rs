//! `serve --demo`: a demo dataset to try the platform with, and the credentials to use it.
//! The synthetic-response generator and seeded resets build on this module.

use serde_json::Value;

use crate::handlers::{datasets, enrollments, forms, tokens};
use crate::router::AppState;
use crate::storage::{AuditEntry, Dataset, Mode, Role};
use crate::{ApiError, Result};

const DEMO_NAME: &str = "Demo";
/// The built-in demo form, published into a demo dataset that has none.
const DEMO_FORM: &str = include_str!("form.json");

/// What `serve --demo` prints.
pub struct DemoAccess {
    pub dataset: Dataset,
    pub admin_token: String,
    pub trainer_token: String,
    pub enrollment_code: String,
}

/// Makes sure a demo dataset with the built-in form exists and issues fresh credentials for
/// it. Running it again reuses the dataset.
pub async fn ensure_demo(state: &AppState) -> Result<DemoAccess> {
    let system = crate::auth::Caller {
        role: Role::Admin,
        dataset: None,
        device: None,
        name: "serve --demo".into(),
    };
    let dataset = match state.storage.dataset_by_name(DEMO_NAME, Mode::Demo).await? {
        Some(dataset) => dataset,
        None => datasets::create_dataset(state, &system, DEMO_NAME, Mode::Demo, None).await?,
    };
    if state.storage.latest_forms(dataset.id).await?.is_empty() {
        let definition: Value = serde_json::from_str(DEMO_FORM)
            .map_err(|e| ApiError::Internal(format!("built-in demo form: {e}")))?;
        forms::publish_definition(
            state,
            dataset.id,
            &definition,
            &system.audit("publish_form", Some(dataset.id)),
        )
        .await?;
    }
    let audit = |action: &str| -> AuditEntry { system.audit(action, Some(dataset.id)) };
    let admin = tokens::issue_token(
        state.storage.as_ref(),
        Role::Admin,
        "demo admin",
        None,
        &audit("create_token:admin"),
    )
    .await?;
    let trainer = tokens::issue_token(
        state.storage.as_ref(),
        Role::Trainer,
        "demo trainer",
        Some(dataset.id),
        &audit("create_token:trainer"),
    )
    .await?;
    let code = enrollments::issue_code(
        state,
        dataset.id,
        "demo phones",
        100,
        24 * 7,
        &audit("create_enrollment"),
    )
    .await?;
    Ok(DemoAccess {
        dataset,
        admin_token: admin.expose().to_owned(),
        trainer_token: trainer.expose().to_owned(),
        enrollment_code: code.code().to_owned(),
    })
}
