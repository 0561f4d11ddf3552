//! In-process locks on site documents while a request merges them.
//!
//! Every phone bumps the same few site tallies. Requests that merged one site document side by
//! side would each store a state without the other's bumps, and all but one would be caught as
//! stale and merged again, over and over under load. Holding a site's lock from taking its
//! loaded copy to queueing its write makes this process's requests take turns for the merge
//! alone (not the commit), and queues their writes in merge order; the version guard still
//! covers other processes and replicas.
//!
//! Locks are a fixed set of shards picked by document id, so memory stays bounded; a request
//! takes its shards in ascending order, so two requests never wait on each other in a cycle.

use tokio::sync::{Mutex, MutexGuard};
use uuid::Uuid;

const SHARDS: usize = 64;

pub struct SiteLocks {
    shards: Vec<Mutex<()>>,
}

impl Default for SiteLocks {
    fn default() -> SiteLocks {
        SiteLocks {
            shards: (0..SHARDS).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl SiteLocks {
    /// Waits until this request holds every given document's shard.
    pub async fn lock(&self, documents: impl IntoIterator<Item = Uuid>) -> Vec<MutexGuard<'_, ()>> {
        let mut shards: Vec<usize> = documents
            .into_iter()
            .map(|id| (id.as_u128() % SHARDS as u128) as usize)
            .collect();
        shards.sort_unstable();
        shards.dedup();
        let mut held = Vec::with_capacity(shards.len());
        for shard in shards {
            held.push(self.shards[shard].lock().await);
        }
        held
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    const TASKS: usize = 16;

    /// Every task names the same eight sites, each in another order, and all of them ask at
    /// once (a barrier). Inside, a task counts itself in, yields so that the others run, and
    /// checks it is still alone; it also records how many others were waiting for the lock
    /// meanwhile, which proves the tasks really overlapped in time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn requests_naming_the_same_sites_in_any_order_take_turns() {
        let locks = Arc::new(SiteLocks::default());
        let sites: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
        let start = Arc::new(tokio::sync::Barrier::new(TASKS));
        let inside = Arc::new(AtomicUsize::new(0));
        let most_inside = Arc::new(AtomicUsize::new(0));
        let asking = Arc::new(AtomicUsize::new(0));
        let most_waiting = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..TASKS {
            let (locks, mut mine) = (locks.clone(), sites.clone());
            mine.rotate_left(i % sites.len());
            let (start, inside, most_inside) = (start.clone(), inside.clone(), most_inside.clone());
            let (asking, most_waiting) = (asking.clone(), most_waiting.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                asking.fetch_add(1, Ordering::SeqCst);
                let held = locks.lock(mine).await;
                asking.fetch_sub(1, Ordering::SeqCst);
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most_inside.fetch_max(now, Ordering::SeqCst);
                for _ in 0..8 {
                    tokio::task::yield_now().await;
                    most_waiting.fetch_max(asking.load(Ordering::SeqCst), Ordering::SeqCst);
                }
                inside.fetch_sub(1, Ordering::SeqCst);
                drop(held);
            }));
        }
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("no deadlock")
                .expect("task");
        }
        assert_eq!(
            most_inside.load(Ordering::SeqCst),
            1,
            "two tasks held the same sites at once"
        );
        assert!(
            most_waiting.load(Ordering::SeqCst) > 0,
            "no task ever waited for another: the test exercised no contention"
        );
    }

    /// Sites in other shards are taken while one is held; a site in the held shard waits.
    #[tokio::test]
    async fn requests_naming_other_sites_do_not_wait_for_each_other() {
        let locks = SiteLocks::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let first = locks.lock([a]).await;
        let second = tokio::time::timeout(Duration::from_secs(10), locks.lock([b]))
            .await
            .expect("another shard is free");
        assert_eq!((first.len(), second.len()), (1, 1));
        let same = Uuid::from_u128(1 + SHARDS as u128);
        let waits = tokio::select! {
            biased;
            _ = locks.lock([same]) => false,
            () = std::future::ready(()) => true,
        };
        assert!(waits, "a site in a held shard must wait");
        drop(first);
        assert_eq!(locks.lock([same]).await.len(), 1);
    }
}
