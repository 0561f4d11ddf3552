//! Who may touch which document (`docs/protocol.md`), decided before anything is merged:
//! - a response document is its first writer's: no other device may read or change it;
//! - a tally document (protocol 3) is its first writer's too, and counts for a site of the
//!   same dataset, with that site's metrics only (checked with the merged document, in
//!   `checks`);
//! - a site document may be created, read and changed by every device of its dataset;
//! - a form document is written by the server only and read by every device of its dataset;
//! - an entry without changes is a read.

use sync_core::{DocEntry, DocKind, TALLY_DOCUMENTS_SINCE};
use uuid::Uuid;

use super::refusal::Refusal;
use crate::auth::DeviceCaller;
use crate::storage::StoredDocument;

/// What the checks need of the stored document, whether read from the database or held
/// loaded in [`HotSites`](super::hot_sites::HotSites).
pub(super) struct Known {
    pub dataset: Uuid,
    pub kind: DocKind,
    pub owner: Option<Uuid>,
    pub version: i64,
}

impl From<&StoredDocument> for Known {
    fn from(stored: &StoredDocument) -> Known {
        Known {
            dataset: stored.dataset,
            kind: stored.kind,
            owner: stored.owner,
            version: stored.version,
        }
    }
}

/// Whether the device may touch the document at all (reads included).
pub(super) fn authorize(
    device: &DeviceCaller,
    protocol: u64,
    entry: &DocEntry,
    stored: Option<&Known>,
) -> Result<(), Refusal> {
    if entry.kind == DocKind::Tally && protocol < TALLY_DOCUMENTS_SINCE {
        return Err(Refusal::new(
            "invalid",
            "tally documents are synced over protocol 3 (/v3/sync)",
        ));
    }
    match stored {
        Some(stored) => {
            if stored.dataset != device.dataset {
                return Err(Refusal::forbidden("the document belongs to another dataset"));
            }
            if stored.kind.is_owned() && stored.owner != Some(device.device) {
                return Err(Refusal::forbidden(&format!(
                    "{} documents belong to the device that wrote them",
                    stored.kind.as_str()
                )));
            }
            if stored.kind != entry.kind {
                return Err(Refusal::new(
                    "invalid",
                    format!(
                        "the document is a {}, not a {}",
                        stored.kind.as_str(),
                        entry.kind.as_str()
                    ),
                ));
            }
            Ok(())
        }
        None if entry.kind == DocKind::Form && !entry.changes.is_empty() => Err(Refusal::server_only()),
        None => Ok(()),
    }
}
