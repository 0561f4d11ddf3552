//! Group commit: concurrent sync requests share one transaction and one fsync.
//!
//! An acknowledged write must be on disk, and a commit waits for the disk (a synchronous write
//! takes about 3.4 ms on the team's machine, and a commit needs more than one). SQLite commits
//! one transaction at a time, so requests that committed alone queued behind each other's
//! fsyncs while the CPU sat idle. Here one task takes every request waiting, stores each as a
//! batch of its own ([`Storage::save_batches`]) and commits them together; requests
//! that arrive meanwhile form the next group, so groups grow with the load by themselves and
//! nobody waits on a timer.
//!
//! Should a group fail as a whole (an I/O error, a PostgreSQL deadlock between two replicas'
//! groups), each of its requests is committed alone, so one bad request fails only itself.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use super::{BatchOutcome, DocumentWrite, Storage, WriteBatch};
use super::{Error, Result};

/// A group stops taking requests once it holds this many documents (it always takes one).
const MAX_GROUP_DOCUMENTS: usize = 4096;

pub struct GroupCommit {
    storage: Arc<dyn Storage>,
    /// Started on first use, inside the runtime that serves requests.
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

/// The writes come back with the outcome, so the caller can see what was stored without
/// keeping a copy.
pub type Committed = (Vec<DocumentWrite>, Result<BatchOutcome>);

struct Job {
    writes: Vec<DocumentWrite>,
    epoch: i64,
    done: oneshot::Sender<Committed>,
}

impl GroupCommit {
    pub fn new(storage: Arc<dyn Storage>) -> GroupCommit {
        GroupCommit {
            storage,
            queue: OnceLock::new(),
        }
    }

    /// Queues one request's writes at once (so writes queued in some order are stored in that
    /// order) and returns what resolves when they have committed or been refused.
    pub fn submit(
        &self,
        writes: Vec<DocumentWrite>,
        epoch: i64,
    ) -> impl Future<Output = Result<Committed>> + use<> {
        let (done, committed) = oneshot::channel();
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(commit_groups(self.storage.clone(), receiver));
            sender
        });
        let queued = queue.send(Job { writes, epoch, done }).is_ok();
        async move {
            if !queued {
                return Err(Error::Unavailable("the commit queue has stopped".into()));
            }
            committed
                .await
                .map_err(|_| Error::Unavailable("a commit group failed".into()))
        }
    }
}

/// Runs until every sender is gone (the server's state dropped).
async fn commit_groups(storage: Arc<dyn Storage>, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut documents = first.writes.len();
        let mut group = vec![first];
        while documents < MAX_GROUP_DOCUMENTS {
            let Ok(job) = queue.try_recv() else { break };
            documents += job.writes.len();
            group.push(job);
        }
        // Its own task, so a panic while committing fails this group's requests only.
        if let Err(err) = tokio::spawn(commit_group(storage.clone(), group)).await {
            tracing::error!(error = %err, "a commit group panicked");
        }
    }
}

async fn commit_group(storage: Arc<dyn Storage>, group: Vec<Job>) {
    let batches: Vec<WriteBatch<'_>> = group
        .iter()
        .map(|job| WriteBatch {
            writes: &job.writes,
            epoch: job.epoch,
        })
        .collect();
    let started = std::time::Instant::now();
    let outcomes = storage.save_batches(&batches).await;
    drop(batches);
    tracing::debug!(
        requests = group.len(),
        documents = group.iter().map(|job| job.writes.len()).sum::<usize>(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "commit group"
    );
    match outcomes {
        Ok(outcomes) => {
            for (job, outcome) in group.into_iter().zip(outcomes) {
                // A request whose client went away no longer listens; its writes stand.
                let _ = job.done.send((job.writes, Ok(outcome)));
            }
        }
        Err(err) if group.len() == 1 => {
            if let Some(job) = group.into_iter().next() {
                let _ = job.done.send((job.writes, Err(err)));
            }
        }
        Err(err) => {
            tracing::warn!(requests = group.len(), error = %err, "a commit group failed; committing its requests one by one");
            for job in group {
                let outcome = storage.save_documents(&job.writes, job.epoch).await;
                let _ = job.done.send((job.writes, outcome));
            }
        }
    }
}
