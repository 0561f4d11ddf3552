//! Importing an exported state file into the running engine without losing anything made
//! since the export. `ClientEngine` has no merge of two states, so the imported documents are
//! handed to it the one way it takes in documents: as the entries of a sync reply.

use std::collections::BTreeSet;

use sync_core::{ChangeHash, ClientEngine, DocEntry, Error, Result};

use crate::KINDS;
use crate::views::waiting_ids;

/// A head no document has. Given as a document's heads in a reply, the engine applies the
/// changes but keeps the heads it had confirmed, since it cannot hold that head.
const UNKNOWN_HEAD: ChangeHash = ChangeHash([0; 32]);

/// Adds every document of `other` to `engine`; both must be of the same dataset and epoch: a
/// copy saved before a demo reset holds practice data the reset removed, and merged under the
/// new epoch it would go to the server again. Returns how many documents were new. What `other` had not sent yet stays unsent in `engine`; what the
/// server had confirmed for a new document stays confirmed, so it is not sent twice.
pub fn merge_into(engine: &mut ClientEngine, other: &mut ClientEngine) -> Result<u32> {
    if other.dataset() != engine.dataset() {
        return Err(Error::WrongDataset {
            expected: engine.dataset(),
            found: other.dataset().to_string(),
        });
    }
    if other.epoch() != engine.epoch() {
        return Err(Error::OtherEpoch {
            expected: engine.epoch(),
            found: other.epoch(),
        });
    }
    let known: BTreeSet<_> = KINDS.iter().flat_map(|k| engine.document_ids(*k)).collect();
    let unsent = waiting_ids(other);
    let mut docs = Vec::new();
    let mut added = 0u32;
    for kind in KINDS {
        for id in other.document_ids(kind) {
            if engine.was_sent(id) {
                continue;
            }
            let doc = other.document_mut(id)?;
            let changes: Vec<Vec<u8>> = doc
                .get_changes(&[])
                .into_iter()
                .map(|mut c| c.bytes().into_owned())
                .collect();
            let heads = if known.contains(&id) {
                vec![UNKNOWN_HEAD]
            } else if unsent.contains(&id) {
                // Nothing confirmed: the next sync sends all of it (the server ignores any
                // change it already has).
                Vec::new()
            } else {
                doc.get_heads()
            };
            added += u32::from(!known.contains(&id));
            docs.push(DocEntry::new(id, kind, &heads, changes));
        }
    }
    engine.take_documents(&docs)?;
    Ok(added)
}
