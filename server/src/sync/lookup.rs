//! Where an entry's changes are merged: the copy of a site that [`HotSites`] keeps loaded, or
//! the stored document, read with the rest of the request's, or nothing yet.
//!
//! [`HotSites`]: super::hot_sites::HotSites

use std::collections::HashMap;

use sync_core::{DocEntry, DocKind};
use uuid::Uuid;

use super::authorization::Known;
use super::context::SyncContext;
use super::hot_sites::HotSite;
use crate::Result;
use crate::storage::StoredDocument;

/// Where an entry's stored document is found.
pub(super) enum Lookup {
    /// Read with the rest of the request's documents (`None`: the server lacks it).
    Fetched(Option<StoredDocument>),
    /// A site written to: the loaded copy, else the database. A stale copy needs no check
    /// here: the version guard catches it at commit.
    HotOrStored,
    /// A site read: its loaded copy if that is not stale, else the database.
    Read(Option<Box<HotSite>>),
}

/// What an entry's changes are merged into.
pub(super) enum Base {
    New,
    Stored {
        bytes: Vec<u8>,
        heads: Vec<u8>,
        version: i64,
    },
    /// From [`HotSites`].
    Loaded(Box<HotSite>),
}

/// The loaded copies of the sites `entries` only read, taken out of [`HotSites`], that the
/// database still holds a version of, each brought up to the version stored (its commit
/// notice may have come while the copy was taken out). A copy whose document another replica
/// has written since is stale and dropped. The copies are taken before the versions are
/// read, so a write of this process committing in between is one the copy knows.
pub(super) async fn fresh_copies_to_read(
    context: &SyncContext<'_>,
    entries: &[&DocEntry],
) -> Result<HashMap<Uuid, Box<HotSite>>> {
    let mut copies: HashMap<Uuid, Box<HotSite>> = entries
        .iter()
        .filter(|e| e.changes.is_empty())
        .filter_map(|e| {
            context
                .state
                .hot_sites
                .take(e.id, context.epoch)
                .map(|c| (e.id, Box::new(c)))
        })
        .collect();
    if copies.is_empty() {
        return Ok(copies);
    }
    let ids: Vec<Uuid> = copies.keys().copied().collect();
    let stored = context.state.storage.document_versions(&ids).await?;
    copies.retain(|id, copy| match stored.get(id) {
        None => true,
        Some(&version) if copy.knows(version) => {
            copy.stored_at(version);
            true
        }
        Some(_) => false,
    });
    Ok(copies)
}

/// Site documents are merged into, and read from, the copy [`HotSites`] keeps loaded;
/// everything else goes to the database.
pub(super) fn uses_hot_site(entry: &DocEntry) -> bool {
    entry.kind == DocKind::Site
}

fn loaded(hot: Box<HotSite>) -> (Option<Known>, Base) {
    let known = Known {
        dataset: hot.dataset,
        kind: DocKind::Site,
        owner: None,
        version: hot.latest.version,
    };
    (Some(known), Base::Loaded(hot))
}

/// The stored document's facts and what to merge into: the loaded copy of a site if this
/// process has one, else the stored bytes.
pub(super) async fn look_up(
    context: &SyncContext<'_>,
    entry: &DocEntry,
    lookup: Lookup,
) -> Result<(Option<Known>, Base)> {
    let stored = match lookup {
        Lookup::Fetched(stored) => stored,
        Lookup::HotOrStored => match context.state.hot_sites.take(entry.id, context.epoch) {
            Some(hot) => return Ok(loaded(Box::new(hot))),
            None => context.state.storage.document(entry.id).await?,
        },
        Lookup::Read(Some(hot)) => return Ok(loaded(hot)),
        Lookup::Read(None) => context.state.storage.document(entry.id).await?,
    };
    Ok(match stored {
        Some(stored) => {
            let known = Known::from(&stored);
            let base = Base::Stored {
                bytes: stored.bytes,
                heads: stored.heads,
                version: stored.version,
            };
            (Some(known), base)
        }
        None => (None, Base::New),
    })
}
