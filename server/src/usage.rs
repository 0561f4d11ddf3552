//! The day each token was last used and each device last synced, for admins looking for a
//! phone that went quiet or one still syncing after it was lost.
//!
//! Written in batches, not by the request that used the token: SQLite has one writer, and a
//! write per request would queue every sync behind it (a first sync of the day of 2,000 phones
//! would be 2,000 more commits). A request notes its token (or device) here only when the row
//! it read shows another day, so after the first use of a day nothing is noted at all; the
//! notes are written every [`FLUSH_EVERY`], on shutdown, and before any listing that shows
//! them. A replica that dies loses at most that long of notes, which the phone's next request
//! notes again.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use uuid::Uuid;

use crate::Result;
use crate::storage::Storage;

pub const FLUSH_EVERY: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Usage {
    noted: Mutex<Noted>,
}

#[derive(Default)]
struct Noted {
    tokens: HashSet<Uuid>,
    devices: HashSet<Uuid>,
}

impl Usage {
    pub fn token_used(&self, token: Uuid) {
        self.lock().tokens.insert(token);
    }

    pub fn device_synced(&self, device: Uuid) {
        self.lock().devices.insert(device);
    }

    /// Writes what was noted, dated today. On failure the notes are kept for the next flush.
    pub async fn flush(&self, storage: &dyn Storage) -> Result<()> {
        let noted = std::mem::take(&mut *self.lock());
        if noted.tokens.is_empty() && noted.devices.is_empty() {
            return Ok(());
        }
        let tokens: Vec<Uuid> = noted.tokens.iter().copied().collect();
        let devices: Vec<Uuid> = noted.devices.iter().copied().collect();
        let written = storage
            .record_usage(&tokens, &devices, crate::clock::today())
            .await;
        if written.is_err() {
            let mut kept = self.lock();
            kept.tokens.extend(noted.tokens);
            kept.devices.extend(noted.devices);
        }
        Ok(written?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Noted> {
        self.noted.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Flushes every [`FLUSH_EVERY`] until the task is aborted with the server.
pub async fn flush_periodically(usage: std::sync::Arc<Usage>, storage: std::sync::Arc<dyn Storage>) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = usage.flush(storage.as_ref()).await {
            tracing::warn!(error = %err, "writing the days tokens were last used failed; it is tried again");
        }
    }
}
