//! Busy site documents kept loaded between requests.
//!
//! Every phone of a dataset bumps the same few site tallies, and a site document keeps every
//! bump as a change. Loading one from its bytes parses that whole history, for every request
//! that touches it. This cache keeps recently used site documents loaded, each with the state
//! its latest write stores, so the next request merges into it, or reads it, directly.
//!
//! The database stays the judge. A write names the version it was merged on, so a cached
//! document that another replica has written since, or whose own last write failed, is caught
//! as stale at commit, dropped here and loaded afresh. A merged state goes back into the cache
//! before its write commits (the next request builds on it, and both can share one commit), so
//! each entry also keeps what the database is known to hold until then ([`Stored`]): a read is
//! answered from that, and a merge that adds nothing must still write, so that its reply waits
//! for a commit covering what it confirms.
//!
//! A caller holds the document's site lock from [`HotSites::take`] to [`HotSites::put`], and
//! hands the outcome of the commit to [`HotSites::settle`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sync_core::{ChangeHash, DocKind, LoadedDocument};
use uuid::Uuid;

use crate::storage::{self, BatchOutcome, DocumentWrite};

/// What the cache may hold, counted in saved bytes; the least recently used goes first. A
/// loaded document takes many times its saved size (a site bumped by 2,000 phones saves to
/// 72 KB and takes about 1.1 MiB loaded, 2 MiB once its history has been read for a reply), so
/// this bounds the memory in proportion: about 120 MiB at most, and it takes fifty such sites
/// to fill.
const CAPACITY_BYTES: usize = 4 << 20;

#[derive(Default)]
pub struct HotSites {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_id: HashMap<Uuid, (HotSite, u64)>,
    clock: u64,
    /// Saved sizes of the documents in `by_id`.
    bytes: usize,
}

/// One state of a document: the version that stores it, its heads, and it saved (what a v2
/// reply sends a device far behind).
#[derive(Clone)]
pub struct Snapshot {
    pub version: i64,
    pub heads: Vec<ChangeHash>,
    pub saved: Arc<[u8]>,
}

/// What the database holds of a loaded document.
pub enum Stored {
    /// Its latest state.
    Latest,
    /// An earlier one (`committed`; `None` while the document's first write is in flight),
    /// and the states written since whose writes are in flight, oldest first, before the latest.
    Earlier {
        committed: Option<Snapshot>,
        in_flight: Vec<Snapshot>,
    },
}

pub struct HotSite {
    pub dataset: Uuid,
    /// The dataset epoch it was loaded under: a reset makes it worthless.
    pub epoch: i64,
    pub doc: LoadedDocument,
    /// `doc`'s state, as its latest write stores it.
    pub latest: Snapshot,
    pub stored: Stored,
}

impl HotSite {
    /// The database holds `version`: if this copy wrote it, that write and every earlier one
    /// have committed (a write is guarded by the version before it). Also how a copy that was
    /// taken out of the cache while its writes committed, and so missed hearing of it, catches up.
    pub fn stored_at(&mut self, version: i64) {
        if self.latest.version == version {
            self.stored = Stored::Latest;
        } else if let Stored::Earlier { committed, in_flight } = &mut self.stored
            && let Some(at) = in_flight.iter().position(|s| s.version == version)
        {
            *committed = in_flight.drain(..=at).next_back();
        }
    }

    /// Whether `version`, found stored, is one this copy wrote or was loaded at: otherwise
    /// another writer (another replica) stored the document since, and the copy is stale.
    pub fn knows(&self, version: i64) -> bool {
        self.latest.version == version
            || matches!(&self.stored, Stored::Earlier { committed, in_flight }
                if committed.as_ref().is_some_and(|s| s.version == version)
                    || in_flight.iter().any(|s| s.version == version))
    }
}

impl Stored {
    /// What the database holds once a state after `latest` has been written too.
    pub fn after_writing(self, latest: Option<Snapshot>) -> Stored {
        match self {
            Stored::Latest => Stored::Earlier {
                committed: latest,
                in_flight: Vec::new(),
            },
            Stored::Earlier {
                committed,
                mut in_flight,
            } => {
                in_flight.extend(latest);
                Stored::Earlier { committed, in_flight }
            }
        }
    }
}

impl HotSites {
    /// Takes the document out of the cache, if it is there and of `epoch`.
    pub fn take(&self, id: Uuid, epoch: i64) -> Option<HotSite> {
        let site = self.lock().remove(id)?;
        (site.epoch == epoch).then_some(site)
    }

    pub fn put(&self, id: Uuid, site: HotSite) {
        let mut entries = self.lock();
        entries.remove(id);
        entries.clock += 1;
        entries.bytes += site.latest.saved.len();
        let now = entries.clock;
        entries.by_id.insert(id, (site, now));
        while entries.bytes > CAPACITY_BYTES {
            let oldest = entries
                .by_id
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| *id);
            match oldest {
                Some(oldest) => entries.remove(oldest),
                None => break,
            };
        }
    }

    /// Brings the copies of the sites among `writes` in line with what their commit did: a
    /// write stored is what the database holds now; one that did not land (stale, its batch
    /// refused, the dataset reset, the commit failed) leaves its copy ahead of the database,
    /// so the copy goes.
    pub fn settle(&self, writes: &[DocumentWrite], outcome: &storage::Result<BatchOutcome>) {
        let stale = match outcome {
            Ok(BatchOutcome::Saved { stale }) => Some(stale),
            Ok(BatchOutcome::LinkedActor(_) | BatchOutcome::EpochMoved) | Err(_) => None,
        };
        for (i, write) in writes.iter().enumerate() {
            if write.kind != DocKind::Site {
                continue;
            }
            if stale.is_some_and(|stale| !stale[i]) {
                self.committed(write.id, write.version);
            } else {
                self.forget(write.id, write.version);
            }
        }
    }

    /// The write that stores `version` has committed ([`HotSite::stored_at`]).
    fn committed(&self, id: Uuid, version: i64) {
        if let Some((site, _)) = self.lock().by_id.get_mut(&id) {
            site.stored_at(version);
        }
    }

    /// The write that stores `version` did not land: what the cache holds of the document is
    /// not what the database has.
    fn forget(&self, id: Uuid, version: i64) {
        let mut entries = self.lock();
        if entries
            .by_id
            .get(&id)
            .is_some_and(|(site, _)| site.knows(version))
        {
            entries.remove(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Entries {
    fn remove(&mut self, id: Uuid) -> Option<HotSite> {
        let (site, _) = self.by_id.remove(&id)?;
        self.bytes -= site.latest.saved.len();
        Some(site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(epoch: i64, version: i64) -> HotSite {
        sized(epoch, version, 1)
    }

    fn snapshot(version: i64, size: usize) -> Snapshot {
        Snapshot {
            version,
            heads: Vec::new(),
            saved: vec![0; size].into(),
        }
    }

    /// A document whose write of `version` is in flight, on a stored earlier state.
    fn sized(epoch: i64, version: i64, size: usize) -> HotSite {
        HotSite {
            dataset: Uuid::nil(),
            epoch,
            doc: LoadedDocument::new(sync_core::AutoCommit::new()),
            latest: snapshot(version, size),
            stored: Stored::Latest.after_writing(Some(snapshot(version - 1, size))),
        }
    }

    fn committed_version(site: &HotSite) -> Option<i64> {
        match &site.stored {
            Stored::Latest => Some(site.latest.version),
            Stored::Earlier { committed, .. } => committed.as_ref().map(|s| s.version),
        }
    }

    #[test]
    fn a_taken_document_is_out_until_put_back_and_a_reset_makes_it_worthless() {
        let hot = HotSites::default();
        let id = Uuid::new_v4();
        hot.put(id, site(1, 10));
        assert_eq!(hot.take(id, 1).map(|s| s.latest.version), Some(10));
        assert!(hot.take(id, 1).is_none(), "taken out");
        hot.put(id, site(1, 11));
        assert!(hot.take(id, 2).is_none(), "loaded before a reset");
        assert!(hot.take(id, 1).is_none(), "and dropped");
    }

    #[test]
    fn commits_move_what_is_stored_forward_and_a_failed_write_drops_the_document() {
        let hot = HotSites::default();
        let id = Uuid::new_v4();
        hot.put(id, site(1, 10));
        hot.committed(id, 7);
        hot.forget(id, 8);
        let entry = hot.take(id, 1).expect("writes it never had say nothing of it");
        assert_eq!(committed_version(&entry), Some(9));
        // Two more writes in flight on top of 10.
        let mut entry = HotSite {
            stored: entry.stored.after_writing(Some(entry.latest.clone())),
            latest: snapshot(11, 1),
            ..entry
        };
        entry = HotSite {
            stored: entry.stored.after_writing(Some(entry.latest.clone())),
            latest: snapshot(12, 1),
            ..entry
        };
        hot.put(id, entry);
        hot.committed(id, 11);
        let entry = hot.take(id, 1).expect("there");
        assert_eq!(committed_version(&entry), Some(11), "10 committed before 11");
        assert!(matches!(&entry.stored, Stored::Earlier { in_flight, .. } if in_flight.is_empty()));
        hot.put(id, entry);
        hot.committed(id, 12);
        assert!(
            hot.take(id, 1)
                .is_some_and(|s| matches!(s.stored, Stored::Latest))
        );

        for failed in [12, 11] {
            let mut entry = site(1, 11);
            entry = HotSite {
                stored: entry.stored.after_writing(Some(entry.latest.clone())),
                latest: snapshot(12, 1),
                ..entry
            };
            hot.put(id, entry);
            hot.forget(id, failed);
            assert!(hot.take(id, 1).is_none(), "write {failed} failed");
        }
    }

    fn site_write(id: Uuid, version: i64) -> DocumentWrite {
        DocumentWrite {
            id,
            dataset: Uuid::nil(),
            kind: DocKind::Site,
            owner: None,
            base_version: Some(version - 1),
            version,
            heads: Vec::new(),
            bytes: Vec::new(),
            actors: Vec::new(),
            record_key: None,
            rows: storage::Materialized::Site(storage::SiteRow {
                site: "S1".into(),
                tallies: Vec::new(),
                folded: None,
                counted: storage::TallyDays::GrowthOn(sync_core::Day::from_days(0)),
            }),
            conflicts: Vec::new(),
        }
    }

    #[test]
    fn a_commit_settles_the_copies_of_the_sites_it_wrote() {
        let hot = HotSites::default();
        let (stored, stale) = (Uuid::new_v4(), Uuid::new_v4());
        hot.put(stored, site(1, 10));
        hot.put(stale, site(1, 10));
        let writes = [site_write(stored, 10), site_write(stale, 10)];
        hot.settle(
            &writes,
            &Ok(BatchOutcome::Saved {
                stale: vec![false, true],
            }),
        );
        assert!(
            hot.take(stored, 1)
                .is_some_and(|s| matches!(s.stored, Stored::Latest)),
            "a stored write is what the database holds"
        );
        assert!(hot.take(stale, 1).is_none(), "a stale write's copy goes");

        let not_written = [
            Ok(BatchOutcome::LinkedActor(0)),
            Ok(BatchOutcome::EpochMoved),
            Err(storage::Error::ActorClaimed),
        ];
        for outcome in not_written {
            hot.put(stored, site(1, 10));
            hot.settle(&[site_write(stored, 10)], &outcome);
            assert!(hot.take(stored, 1).is_none(), "{outcome:?} wrote nothing");
        }
    }

    #[test]
    fn the_least_recently_put_goes_first_when_the_bytes_run_out() {
        let hot = HotSites::default();
        let quarter = CAPACITY_BYTES / 4;
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        for id in &ids[..4] {
            hot.put(*id, sized(1, 1, quarter));
        }
        // Put back after use: now the most recent.
        let first = hot.take(ids[0], 1).expect("cached");
        hot.put(ids[0], first);
        hot.put(ids[4], sized(1, 1, quarter));
        assert!(hot.take(ids[1], 1).is_none(), "the least recently used went");
        for id in [ids[0], ids[2], ids[3], ids[4]] {
            assert!(hot.take(id, 1).is_some());
        }
        hot.put(ids[0], sized(1, 1, CAPACITY_BYTES + 1));
        assert!(hot.take(ids[0], 1).is_none(), "too big to keep");
    }
}
