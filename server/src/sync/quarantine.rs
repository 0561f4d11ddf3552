//! What the quarantine keeps of a refused entry. Respondents may be trafficking survivors, and a
//! refusal about what a document says (a field no form declares, a phone number in a notes
//! answer) may be the refusal of the very personal data the check keeps out, while its message
//! quotes the keys and values at fault. So of those nothing is kept but what tells repeats
//! apart and sizes them: code, size of the changes, a hash of the entry, device and day. A
//! refusal about who sent an entry or how (forbidden, linked_actor, unknown_form, too_large,
//! malformed) keeps the entry and its message, for an admin to inspect or replay. No record
//! keeps a finer time than the day, and none outlives the retention (`crate::retention`).

use sha2::{Digest, Sha256};
use sync_core::{Day, DocEntry};
use uuid::Uuid;

use crate::auth::DeviceCaller;
use crate::storage::{QuarantineEntry, QuarantinePayload};
use crate::{ApiError, Result};

/// The record of `entry`, refused with `code` on `day`; `message` is `None` when the refusal
/// is about the entry's content, and then the entry's bytes are not kept either.
pub(super) fn record(
    device: &DeviceCaller,
    entry: &DocEntry,
    code: &str,
    message: Option<&str>,
    day: Day,
) -> Result<QuarantineEntry> {
    let mut raw = Vec::new();
    ciborium::ser::into_writer(entry, &mut raw)
        .map_err(|e| ApiError::Internal(format!("encoding a quarantined entry: {e}")))?;
    let size = entry.changes.iter().map(|c| c.len() as i64).sum();
    let sha256 = Sha256::digest(&raw).into();
    Ok(QuarantineEntry {
        id: Uuid::new_v4(),
        dataset: device.dataset,
        device: device.device,
        document: entry.id,
        code: code.to_owned(),
        size,
        sha256,
        payload: message.map(|message| QuarantinePayload {
            message: message.to_owned(),
            raw,
        }),
        received_on: day,
    })
}
