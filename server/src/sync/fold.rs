//! What protocol 3 phones count in their tally documents, added to the shared site documents
//! that phones of protocols 1 and 2 read, so every phone shows the same totals.
//!
//! Only when an older phone syncs: a site document that no older phone reads stays as it was
//! created, however much the tally documents count, so in a fleet of protocol 3 phones the
//! site's history does not grow. Before such a request is answered, each site of its dataset
//! whose device tallies moved since gets one change of the server's own adding the difference
//! (`site_totals.devices` less `site_totals.folded`), stored with the new `folded` in one
//! transaction, guarded by the site's version like any write. The difference is read after the
//! site's bytes and under its lock, and rebuilt on the newer site when another writer stored it
//! first, so nothing is added twice.

use std::collections::BTreeMap;

use sync_core::{CheckedDocument, DocKind, MergeOutcome, merge_incoming};
use uuid::Uuid;

use super::context::SyncContext;
use super::hot_sites::{HotSite, Snapshot, Stored};
use super::materialize::{conflict_rows, site_row};
use crate::storage::{BatchOutcome, DocumentWrite, Materialized, heads_bytes, new_version};
use crate::{ApiError, Result};

/// As many as a merge may take: each retry means another writer stored the site meanwhile.
const MAX_ATTEMPTS: usize = 64;

pub async fn add_device_tallies_to_sites(context: &SyncContext<'_>) -> Result<()> {
    let storage = &context.state.storage;
    let sites = storage.sites_to_fold(context.device.dataset).await?;
    if sites.is_empty() {
        return Ok(());
    }
    // Held until each site's write has committed, so this process's next addition reads a
    // `folded` that counts this one.
    let _held = context.state.site_locks.lock(sites.iter().copied()).await;
    for site in sites {
        add_to_site(context, site).await?;
    }
    Ok(())
}

async fn add_to_site(context: &SyncContext<'_>, site: Uuid) -> Result<()> {
    let state = context.state;
    for _ in 0..MAX_ATTEMPTS {
        // The loaded copy may carry writes still in flight; the addition builds on what is
        // stored, and the copy is replaced by the result.
        drop(state.hot_sites.take(site, context.epoch));
        let Some(stored) = state.storage.document(site).await? else {
            return Ok(()); // reset meanwhile
        };
        if stored.kind != DocKind::Site || stored.dataset != context.device.dataset {
            return Ok(());
        }
        let fold = state.storage.fold_state(site).await?;
        let deltas: BTreeMap<String, i64> = fold
            .iter()
            .map(|f| (f.metric.clone(), f.devices - f.folded))
            .filter(|(_, delta)| *delta != 0)
            .collect();
        if deltas.is_empty() {
            return Ok(());
        }
        let no_changes: &[Vec<u8>] = &[];
        let MergeOutcome::Merged(mut merged) = merge_incoming(Some(&stored.bytes), no_changes)? else {
            return Err(ApiError::Internal(
                "a stored site lacks its own dependencies".into(),
            ));
        };
        merged.add_to_tallies(&deltas)?;
        let CheckedDocument::Site(view) = merged.validate(DocKind::Site, None)? else {
            return Err(ApiError::Internal("a stored site is not a site".into()));
        };
        let mut row = site_row(&view, crate::clock::today());
        row.folded = Some(fold.iter().map(|f| (f.metric.clone(), f.devices)).collect());
        let heads = merged.heads();
        let bytes = merged.save();
        let write = DocumentWrite {
            id: site,
            dataset: stored.dataset,
            kind: DocKind::Site,
            owner: None,
            base_version: Some(stored.version),
            version: new_version(),
            heads: heads_bytes(heads.clone()),
            bytes: bytes.clone(),
            actors: merged
                .incoming_actors()
                .iter()
                .map(|a| a.to_bytes().to_vec())
                .collect(),
            record_key: None,
            rows: Materialized::Site(row),
            conflicts: conflict_rows(merged.conflicts()),
        };
        let version = write.version;
        let (_, outcome) = state.group_commit.submit(vec![write], context.epoch).await?;
        match outcome? {
            BatchOutcome::Saved { stale } if stale.first() == Some(&false) => {
                let latest = Snapshot {
                    version,
                    heads,
                    saved: bytes.into(),
                };
                let copy = HotSite {
                    dataset: stored.dataset,
                    epoch: context.epoch,
                    doc: merged.into_loaded(),
                    latest,
                    stored: Stored::Latest,
                };
                state.hot_sites.put(site, copy);
                return Ok(());
            }
            BatchOutcome::Saved { .. } => state.metrics.count_merge_retry(),
            // The request itself is answered `reset` when its own writes meet the new epoch.
            BatchOutcome::EpochMoved => return Ok(()),
            BatchOutcome::LinkedActor(_) => {
                return Err(ApiError::Internal(
                    "a random actor of the server was already known".into(),
                ));
            }
        }
    }
    Err(ApiError::Internal(format!(
        "site {site} kept changing during {MAX_ATTEMPTS} attempts to add device tallies"
    )))
}
