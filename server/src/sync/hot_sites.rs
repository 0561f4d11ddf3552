//! Busy site documents kept loaded between requests.
//!
//! Every phone of a dataset bumps the same few site tallies, and a site document keeps every
//! bump as a change. Loading one from its bytes parses that whole history, for every request
//! that touches it. This cache keeps recently merged site documents loaded, each with the
//! version its latest write stores, so the next request merges into it directly.
//!
//! The database stays the judge. A write names the version it was merged on, so a cached
//! document that another replica has written since, or whose own last write failed, is caught
//! as stale at commit, dropped here and loaded afresh. A merged state goes back into the cache
//! before its write commits (the next request builds on it, and both can share one commit), so
//! each entry also says whether everything in it is known to be committed: until it is, a merge
//! that adds nothing must still write, so that its reply waits for a commit covering what it
//! confirms.
//!
//! A caller holds the document's site lock from [`HotSites::take`] to [`HotSites::put`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sync_core::AutoCommit;
use uuid::Uuid;

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

pub struct HotSite {
    pub dataset: Uuid,
    /// The dataset epoch it was loaded under: a reset makes it worthless.
    pub epoch: i64,
    /// The version its latest write stores.
    pub version: i64,
    /// Whether that write is known to have committed.
    pub committed: bool,
    pub doc: AutoCommit,
    /// It saved, as its latest write stores it: a v2 reply sends it to a device far behind.
    pub saved: Arc<[u8]>,
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
        entries.bytes += site.saved.len();
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

    /// The write that stores `version` has committed.
    pub fn committed(&self, id: Uuid, version: i64) {
        if let Some((site, _)) = self.lock().by_id.get_mut(&id)
            && site.version == version
        {
            site.committed = true;
        }
    }

    /// The write that stores `version` did not land: what the cache holds of the document is
    /// not what the database has.
    pub fn forget(&self, id: Uuid, version: i64) {
        let mut entries = self.lock();
        if entries
            .by_id
            .get(&id)
            .is_some_and(|(site, _)| site.version == version)
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
        self.bytes -= site.saved.len();
        Some(site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(epoch: i64, version: i64) -> HotSite {
        sized(epoch, version, 1)
    }

    fn sized(epoch: i64, version: i64, size: usize) -> HotSite {
        HotSite {
            dataset: Uuid::nil(),
            epoch,
            version,
            committed: false,
            doc: AutoCommit::new(),
            saved: vec![0; size].into(),
        }
    }

    #[test]
    fn a_taken_document_is_out_until_put_back_and_a_reset_makes_it_worthless() {
        let hot = HotSites::default();
        let id = Uuid::new_v4();
        hot.put(id, site(1, 10));
        assert_eq!(hot.take(id, 1).map(|s| s.version), Some(10));
        assert!(hot.take(id, 1).is_none(), "taken out");
        hot.put(id, site(1, 11));
        assert!(hot.take(id, 2).is_none(), "loaded before a reset");
        assert!(hot.take(id, 1).is_none(), "and dropped");
    }

    #[test]
    fn only_the_latest_write_marks_or_drops_a_document() {
        let hot = HotSites::default();
        let id = Uuid::new_v4();
        hot.put(id, site(1, 10));
        hot.committed(id, 9);
        hot.forget(id, 9);
        let entry = hot.take(id, 1).expect("still there");
        assert!(
            !entry.committed,
            "an older write committing says nothing of the newer one"
        );
        hot.put(id, entry);
        hot.committed(id, 10);
        assert!(hot.take(id, 1).is_some_and(|s| s.committed));
        hot.put(id, site(1, 12));
        hot.forget(id, 12);
        assert!(hot.take(id, 1).is_none());
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
