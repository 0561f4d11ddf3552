use std::time::Duration;

/// Limits of the sync endpoint, set from the command line.
#[derive(Debug, Clone, Copy)]
pub struct SyncSettings {
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// About how many bytes of documents the device did not mention go into one reply; the
    /// rest follow in later rounds (`more: true`), so a phone on a slow link gets small replies.
    pub reply_budget_bytes: usize,
    /// Largest stored size of one document; a document growing past it is refused
    /// (`too_large`).
    pub max_document_bytes: usize,
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            reply_budget_bytes: 1 << 20,
            max_document_bytes: 2 << 20,
        }
    }
}

/// How long records of refused entries are kept, and how often the purges of `crate::retention`
/// run (a dataset's own retention of responses is a setting of the dataset).
#[derive(Debug, Clone, Copy)]
pub struct RetentionSettings {
    /// Whole days a quarantine record is kept after the day it came in.
    pub quarantine_days: u32,
    /// How often the purges look for expired quarantine records and responses. Both are dated
    /// by the day, so once an hour deletes each within an hour of its expiry.
    pub purge_every: Duration,
}

/// Long enough for an admin to look into a burst of refusals, short enough that a device's
/// refused entries do not pile up into a history of it.
pub const DEFAULT_QUARANTINE_DAYS: u32 = 30;

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            quarantine_days: DEFAULT_QUARANTINE_DAYS,
            purge_every: Duration::from_secs(3600),
        }
    }
}
