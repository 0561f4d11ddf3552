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
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn requests_naming_the_same_sites_in_any_order_take_turns() {
        let locks = Arc::new(SiteLocks::default());
        let sites: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let (locks, mut mine) = (locks.clone(), sites.clone());
            mine.rotate_left(i % sites.len());
            tasks.push(tokio::spawn(async move {
                let _held = locks.lock(mine).await;
                tokio::task::yield_now().await;
            }));
        }
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("no deadlock")
                .expect("task");
        }
    }
}
