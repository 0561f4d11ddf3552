//! Records that must not be kept for ever. Quarantine records (what sync refused) are deleted
//! by a background task once they are older than the retention, on every replica: the delete
//! is idempotent, and no replica needs to be told it is the one to run it.

use std::sync::Arc;

use sync_core::Day;
use tokio::time::MissedTickBehavior;

use crate::Result;
use crate::settings::RetentionSettings;
use crate::storage::Storage;

/// Today in UTC: records subject to retention are dated by the day, never a finer time.
pub fn today() -> Day {
    Day::from_days(crate::clock::unix_now().div_euclid(86_400))
}

/// Deletes the quarantine records that came in more than `days` days before `today` (a record
/// of day D is kept through day D + `days`); returns how many.
pub async fn purge_expired_quarantine(storage: &dyn Storage, days: u32, today: Day) -> Result<u64> {
    let oldest_kept = Day::from_days(today.to_days() - i64::from(days));
    storage.purge_quarantine_before(oldest_kept).await
}

/// Purges expired quarantine records at once and then every `settings.purge_every`, until
/// the task is aborted with the server.
pub async fn purge_periodically(storage: Arc<dyn Storage>, settings: RetentionSettings) {
    let mut tick = tokio::time::interval(settings.purge_every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match purge_expired_quarantine(storage.as_ref(), settings.quarantine_days, today()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired quarantine records deleted"),
            Err(err) => tracing::warn!(error = %err, "the quarantine purge failed; it runs again later"),
        }
    }
}
