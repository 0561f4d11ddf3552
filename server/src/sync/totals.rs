//! The `totals` of a v3 reply: each site of the dataset as [`crate::site_totals`] counts it,
//! less what the device's own tally documents count, which the device adds itself from its
//! own copies, sent or not. Two indexed reads per reply, whatever the size of the fleet.

use std::collections::HashMap;

use sync_core::SiteTotals;
use uuid::Uuid;

use super::context::SyncContext;
use crate::Result;
use crate::site_totals::site_totals;

pub async fn for_device(context: &SyncContext<'_>) -> Result<Vec<SiteTotals>> {
    let storage = context.state.storage.as_ref();
    let all = site_totals(storage, context.device.dataset).await?;
    let mut own: HashMap<Uuid, Vec<(String, i64)>> = HashMap::new();
    for (site, metric, count) in storage.device_tallies(context.device.device).await? {
        own.entry(site).or_default().push((metric, count));
    }
    Ok(all
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
        .collect())
}
