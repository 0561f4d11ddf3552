//! A trainer's reset: the demo dataset goes back to a seeded state in one transaction.
//!
//! Documents are generated on every core while the storage layer writes them, through a
//! bounded channel, so a reset of a million responses never holds more than a few hundred
//! documents in memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};
use serde_json::Value;
use sync_core::Form;

use super::generator::{BUILT_IN_FORMS, Generator};
use crate::state::AppState;
use crate::storage::{AuditEntry, Dataset, DocumentWrite};
use crate::{ApiError, Result, forms};

/// Above this a reset is refused: it would hold the database for minutes.
pub const MAX_RESPONSES: u64 = 2_000_000;
const CHANNEL: usize = 512;

/// Publishes the built-in demo forms into a dataset that has no forms yet.
pub async fn ensure_forms(state: &AppState, dataset: &Dataset, audit: &AuditEntry) -> Result<Vec<Form>> {
    if state.storage.latest_forms(dataset.id).await?.is_empty() {
        for json in BUILT_IN_FORMS {
            let definition: Value = serde_json::from_str(json)
                .map_err(|e| ApiError::Internal(format!("built-in demo form: {e}")))?;
            forms::publish_definition(state.storage.as_ref(), dataset.id, &definition, audit).await?;
        }
    }
    state
        .storage
        .latest_forms(dataset.id)
        .await?
        .iter()
        .map(|json| Form::from_json(json).map_err(ApiError::from))
        .collect()
}

/// Drops the dataset's documents, bumps its epoch and seeds `responses` synthetic responses
/// and the site tallies, atomically. `progress` counts generated responses as they go.
pub async fn reset_with_seed(
    state: &AppState,
    dataset: &Dataset,
    seed: u64,
    responses: u64,
    audit: &AuditEntry,
    progress: Arc<AtomicU64>,
) -> Result<(i64, u64)> {
    if responses > MAX_RESPONSES {
        return Err(ApiError::bad_request(
            "too_large",
            format!("a reset seeds at most {MAX_RESPONSES} responses"),
        ));
    }
    let forms = ensure_forms(state, dataset, audit).await?;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<sync_core::Result<DocumentWrite>>(CHANNEL);
    let dataset_id = dataset.id;
    let producer = tokio::task::spawn_blocking(move || {
        generate(dataset_id, seed, responses, &forms, &sender, &progress)
    });
    let written = state
        .storage
        .reset_dataset(dataset.id, audit, &mut receiver)
        .await;
    producer
        .await
        .map_err(|e| ApiError::Internal(format!("demo generator: {e}")))?;
    state.aggregates.forget(dataset.id);
    if written.is_ok() {
        crate::pause_points::reached("reset-committed").await;
    }
    Ok(written?)
}

fn generate(
    dataset: uuid::Uuid,
    seed: u64,
    responses: u64,
    forms: &[Form],
    sender: &tokio::sync::mpsc::Sender<sync_core::Result<DocumentWrite>>,
    progress: &AtomicU64,
) {
    let generator = Generator::new(dataset, seed, forms);
    let send = |write: sync_core::Result<DocumentWrite>| sender.blocking_send(write).is_ok();
    match generator.sites(responses) {
        Ok(sites) => {
            if !sites.into_iter().all(|site| send(Ok(site))) {
                return;
            }
        }
        Err(err) => {
            send(Err(err));
            return;
        }
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let generator = &generator;
            scope.spawn(move || {
                for index in (worker..responses).step_by(workers as usize) {
                    if !send(generator.response(index)) {
                        return;
                    }
                    progress.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
}

/// Shows a progress bar on stderr until aborted (left as it last was): a million-response
/// reset takes minutes and a trainer should see it move. Hidden when stderr is not a terminal,
/// so logs and scripts get no redraws.
pub async fn show_progress(progress: Arc<AtomicU64>, total: u64) {
    let style = ProgressStyle::with_template("[{bar:40}] {pos}/{len} responses, {eta} left")
        .expect("a valid template")
        .progress_chars("#>.");
    // Dropped as it stands: a failed reset must not show a full bar.
    let bar = ProgressBar::new(total)
        .with_style(style)
        .with_finish(ProgressFinish::Abandon);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    loop {
        tick.tick().await;
        bar.set_position(progress.load(Ordering::Relaxed).min(total));
    }
}
