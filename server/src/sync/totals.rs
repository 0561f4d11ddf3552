//! The `totals` of a v3 reply: each site of the dataset as [`crate::site_totals`] counts it,
//! less what the device's own tally documents count, which the device adds itself from its
//! own copies, sent or not. Two indexed reads per reply, whatever the size of the fleet.
//!
//! They are sent only when they differ from the totals the device says it holds: a digest of
//! the device, the dataset's epoch and every count names them. The device echoes the digest
//! of the last totals it took in; a digest that is stale, forged or another device's matches
//! nothing the server would send, so it costs the device the bytes of its totals sent whole,
//! never a wrong count.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sync_core::{SiteTotals, Totals};
use uuid::Uuid;

use super::context::SyncContext;
use crate::Result;
use crate::site_totals::site_totals;

/// The device's totals, unless their digest is `seen`: then it holds them already.
pub async fn for_device(context: &SyncContext<'_>, seen: Option<[u8; 16]>) -> Result<Option<Totals>> {
    let storage = context.state.storage.as_ref();
    let all = site_totals(storage, context.device.dataset).await?;
    let mut own: HashMap<Uuid, Vec<(String, i64)>> = HashMap::new();
    for (site, metric, count) in storage.device_tallies(context.device.device).await? {
        own.entry(site).or_default().push((metric, count));
    }
    let sites: Vec<SiteTotals> = all
        .into_iter()
        .map(|mut site| {
            for (metric, count) in own.remove(&site.document).unwrap_or_default() {
                if let Some(total) = site.tallies.get_mut(&metric) {
                    *total -= count;
                }
            }
            SiteTotals {
                site: site.document,
                tallies: site.tallies,
            }
        })
        .collect();
    let digest = digest(context.device.device, context.epoch, &sites);
    Ok((seen != Some(digest)).then_some(Totals { digest, sites }))
}

/// Names `sites` as computed for `device` in `epoch`: a SHA-256 of all three, cut to 128 bits,
/// so that two different totals, or the same numbers for another device, never share one.
fn digest(device: Uuid, epoch: i64, sites: &[SiteTotals]) -> [u8; 16] {
    let mut hash = Sha256::new();
    hash.update(device.as_bytes());
    hash.update(epoch.to_be_bytes());
    for site in sites {
        hash.update(site.site.as_bytes());
        hash.update((site.tallies.len() as u64).to_be_bytes());
        for (metric, count) in &site.tallies {
            hash.update((metric.len() as u64).to_be_bytes());
            hash.update(metric.as_bytes());
            hash.update(count.to_be_bytes());
        }
    }
    let mut digest = [0; 16];
    digest.copy_from_slice(&hash.finalize()[..16]);
    digest
}
