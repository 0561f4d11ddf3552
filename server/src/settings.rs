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
