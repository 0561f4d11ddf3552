//! What every request handler and background task reaches: storage, caches, settings and
//! counters, built once at start-up.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::enroll_attempts::EnrollAttempts;
use crate::metrics::Metrics;
use crate::settings::{RetentionSettings, SyncSettings};
use crate::storage::Storage;
use crate::storage::group_commit::GroupCommit;
use crate::sync::hot_sites::HotSites;
use crate::sync::site_locks::SiteLocks;
use crate::usage::Usage;

/// What every handler can reach. The server keeps no session state: everything lives in the
/// database, so any number of replicas can serve one device.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub metrics: Arc<Metrics>,
    pub sync: SyncSettings,
    pub retention: RetentionSettings,
    /// The day responses are received on and retention measures from.
    pub clock: crate::clock::Clock,
    pub aggregates: Arc<crate::aggregates::cache::AggregateCache>,
    /// How aggregate and tally counts are protected; always cell-key perturbation outside
    /// tests (no flag or setting changes it).
    pub disclosure: crate::disclosure::Disclosure,
    pub site_locks: Arc<SiteLocks>,
    pub hot_sites: Arc<HotSites>,
    pub group_commit: Arc<GroupCommit>,
    /// The field app's files (`clients/web`).
    pub web_root: Arc<PathBuf>,
    /// Days tokens were used and devices synced, waiting to be written.
    pub usage: Arc<Usage>,
    pub enroll_attempts: Arc<EnrollAttempts>,
}

impl AppState {
    /// What the sync step uses of this state, for one request.
    pub fn sync_services(&self) -> crate::sync::Services<'_> {
        crate::sync::Services {
            storage: &self.storage,
            group_commit: &self.group_commit,
            site_locks: &self.site_locks,
            hot_sites: &self.hot_sites,
            sync: &self.sync,
            clock: &self.clock,
            metrics: &self.metrics,
            aggregates: &self.aggregates,
        }
    }

    pub fn new(storage: Arc<dyn Storage>, sync: SyncSettings) -> AppState {
        AppState {
            group_commit: Arc::new(GroupCommit::new(storage.clone())),
            storage,
            metrics: Arc::new(Metrics::default()),
            sync,
            retention: RetentionSettings::default(),
            clock: crate::clock::Clock::system(),
            aggregates: Arc::default(),
            disclosure: crate::disclosure::Disclosure::CellKey,
            site_locks: Arc::default(),
            hot_sites: Arc::default(),
            web_root: Arc::new(default_web_root()),
            usage: Arc::default(),
            enroll_attempts: Arc::default(),
        }
    }
}

/// Where `clients/web` is when the server runs from its source tree (`cargo run`); installs
/// elsewhere pass `--web-root`.
fn default_web_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/web")
}

impl crate::auth::TokenSource for AppState {
    fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    fn usage(&self) -> &Usage {
        &self.usage
    }
}
