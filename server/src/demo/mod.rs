//! Demo datasets for training: `serve --demo`, the synthetic fieldwork generator and seeded,
//! atomic resets.

pub mod generator;
pub mod reset;

use std::sync::Arc;

use uuid::Uuid;

use crate::Result;
use crate::state::AppState;
use crate::storage::{AuditEntry, Dataset, Mode, Role};
use crate::{datasets, enrollment, tokens};

const DEMO_NAME: &str = "Demo";
/// Responses `serve --demo` seeds into a new demo dataset, and the seed it uses.
const DEMO_RESPONSES: u64 = 2_000;
const DEMO_SEED: u64 = 1;

/// What `serve --demo` prints.
pub struct DemoAccess {
    pub dataset: Dataset,
    pub admin_token: String,
    pub trainer_token: String,
    pub enrollment_code: String,
}

/// Makes sure a demo dataset with the built-in form exists and issues fresh credentials for
/// it, every one limited to it (an admin token that could act on live data has no place in a
/// training room) and expiring like any other. Running it again reuses the dataset.
pub async fn ensure_demo(state: &AppState) -> Result<DemoAccess> {
    let dataset = match state.storage.dataset_by_name(DEMO_NAME, Mode::Demo).await? {
        Some(dataset) => dataset,
        None => {
            let audit = as_serve_demo("create_dataset", None);
            datasets::create_dataset(state.storage.as_ref(), DEMO_NAME, Mode::Demo, None, None, audit).await?
        }
    };
    if state.storage.latest_forms(dataset.id).await?.is_empty() {
        let audit = as_serve_demo("reset", Some(dataset.id));
        reset::reset_with_seed(state, &dataset, DEMO_SEED, DEMO_RESPONSES, &audit, Arc::default()).await?;
    }
    let dataset = state.storage.dataset(dataset.id).await?.unwrap_or(dataset);
    let audit = |action: &str| as_serve_demo(action, Some(dataset.id));
    let (admin, _) = tokens::issue_token(
        state.storage.as_ref(),
        Role::Admin,
        "demo admin",
        Some(dataset.id),
        None,
        &audit("create_token:admin"),
    )
    .await?;
    let (trainer, _) = tokens::issue_token(
        state.storage.as_ref(),
        Role::Trainer,
        "demo trainer",
        Some(dataset.id),
        None,
        &audit("create_token:trainer"),
    )
    .await?;
    let code = enrollment::issue_code(
        state.storage.as_ref(),
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

/// What `serve --demo` does is logged as done by "serve --demo", as an admin.
fn as_serve_demo(action: &str, dataset: Option<Uuid>) -> AuditEntry {
    AuditEntry {
        actor_name: "serve --demo".into(),
        actor_role: Role::Admin.as_str().into(),
        action: action.into(),
        dataset,
    }
}
