//! Datasets: making one, with its disclosure threshold k checked, and purging one with every
//! row of it. Used by the API, `serve --demo` and the ingest benchmark.

use uuid::Uuid;

use crate::labels::check_label;
use crate::state::AppState;
use crate::storage::{AuditEntry, Dataset, Mode, Storage};
use crate::{ApiError, Result};

/// The disclosure threshold used by the Counter Trafficking Data Collaborative.
pub const DEFAULT_K: i64 = 11;
/// Below this, small cells identify people too easily whatever the setting.
const MIN_K: i64 = 5;
const MAX_K: i64 = 1000;

/// Creates a dataset (`k`: [`DEFAULT_K`] when `None`); `audit` is logged against it.
pub async fn create_dataset(
    storage: &dyn Storage,
    name: &str,
    mode: Mode,
    k: Option<i64>,
    retention_days: Option<i64>,
    mut audit: AuditEntry,
) -> Result<Dataset> {
    check_label("name", name, 200)?;
    let k = k.unwrap_or(DEFAULT_K);
    if !(MIN_K..=MAX_K).contains(&k) {
        return Err(ApiError::bad_request(
            "invalid",
            format!("k must be between {MIN_K} and {MAX_K}"),
        ));
    }
    let dataset = Dataset {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        mode,
        k,
        epoch: 1,
        retention_days,
    };
    audit.dataset = Some(dataset.id);
    storage.create_dataset(&dataset, &audit).await?;
    Ok(dataset)
}

/// Deletes the dataset and every row of it, for good; returns how many responses went. A live
/// dataset's name must be given again as `confirm`, since a wrong id in a script would
/// otherwise erase a survey; a demo dataset holds practice data only. Its phones are told to
/// wipe at their next request (401 `wiped`).
pub async fn purge_dataset(
    state: &AppState,
    id: Uuid,
    confirm: Option<&str>,
    audit: &AuditEntry,
) -> Result<u64> {
    let dataset = state.storage.existing_dataset(id).await?;
    if dataset.mode == Mode::Live && confirm != Some(dataset.name.as_str()) {
        return Err(ApiError::bad_request(
            "confirm_name",
            "a live dataset is purged only when its name is given as ?confirm=<name>",
        ));
    }
    let responses = state
        .storage
        .purge_dataset(id, state.clock.today(), audit)
        .await?;
    state.aggregates.forget(id);
    Ok(responses)
}
