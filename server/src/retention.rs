//! Records that must not be kept for ever, purged by a background task on every replica (the
//! deletes are idempotent, and no replica needs to be told it is the one to run them):
//!
//! - quarantine records (what sync refused), once older than the server's setting;
//! - submitted responses of a dataset with a retention setting, once older than it, dated by
//!   the day the server received them submitted (`docs/privacy.md`, "Retention"). They go as a
//!   withdrawal takes a response, tombstone included: a phone that still holds one cannot
//!   store it again, and is told to drop it.
//!
//! Every purge that deletes something logs it in the audit log, per dataset, without content.

use std::sync::Arc;

use sync_core::Day;
use tokio::time::MissedTickBehavior;

use crate::Result;
use crate::aggregates::cache::AggregateCache;
use crate::clock::Clock;
use crate::settings::RetentionSettings;
use crate::storage::{AuditEntry, Storage};

/// Responses purged per transaction, so that the one SQLite writer is never held for long.
const PURGE_CHUNK: i64 = 2000;

/// The first day a record kept `days` days is still kept on, `today`: a record of day D is
/// kept through day D + `days`.
pub fn oldest_kept(days: i64, today: Day) -> Day {
    Day::from_days(today.to_days() - days)
}

/// Who the audit log names for what the server purges by itself.
fn purged_by_retention(action: &str) -> AuditEntry {
    AuditEntry {
        actor_name: "retention".into(),
        actor_role: "server".into(),
        action: action.into(),
        dataset: None,
    }
}

/// Deletes the quarantine records that came in more than `days` days before `today`; returns
/// how many.
pub async fn purge_expired_quarantine(storage: &dyn Storage, days: u32, today: Day) -> Result<u64> {
    let audit = purged_by_retention("purge_expired_quarantine");
    Ok(storage
        .purge_quarantine_before(oldest_kept(i64::from(days), today), &audit)
        .await?)
}

/// Purges the submitted responses each dataset's retention has expired on `today`; returns
/// how many.
pub async fn purge_expired_responses(
    storage: &dyn Storage,
    aggregates: &AggregateCache,
    today: Day,
) -> Result<u64> {
    let mut purged = 0;
    for dataset in storage.datasets().await? {
        let Some(days) = dataset.retention_days else {
            continue;
        };
        let audit = AuditEntry {
            dataset: Some(dataset.id),
            ..purged_by_retention("purge_expired_responses")
        };
        loop {
            let ids = storage
                .purge_submitted_before(dataset.id, oldest_kept(days, today), PURGE_CHUNK, today, &audit)
                .await?;
            if ids.is_empty() {
                break;
            }
            aggregates.changed(dataset.id, &ids);
            purged += ids.len() as u64;
            if (ids.len() as i64) < PURGE_CHUNK {
                break;
            }
        }
    }
    Ok(purged)
}

/// Runs both purges at once and then every `settings.purge_every`, until the task is aborted
/// with the server.
pub async fn purge_periodically(
    storage: Arc<dyn Storage>,
    aggregates: Arc<AggregateCache>,
    clock: Clock,
    settings: RetentionSettings,
) {
    let mut tick = tokio::time::interval(settings.purge_every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        purge_once(storage.as_ref(), &aggregates, &clock, &settings).await;
    }
}

async fn purge_once(
    storage: &dyn Storage,
    aggregates: &AggregateCache,
    clock: &Clock,
    settings: &RetentionSettings,
) {
    match purge_expired_quarantine(storage, settings.quarantine_days, clock.today()).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "expired quarantine records deleted"),
        Err(err) => tracing::warn!(error = %err, "the quarantine purge failed; it runs again later"),
    }
    match purge_expired_responses(storage, aggregates, clock.today()).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "expired responses purged"),
        Err(err) => tracing::warn!(error = %err, "the response retention purge failed; it runs again later"),
    }
}
