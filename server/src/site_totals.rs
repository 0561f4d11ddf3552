//! What each outreach site counts: the one place that adds it up, for the totals a protocol 3
//! reply gives phones and for analysts.
//!
//! A site's count comes from three places, each kept exact under offline increments by
//! Automerge counters: the shared site document, which phones of protocols 1 and 2 bump; the
//! tally documents of protocol 3 phones, one per device and site, whose counts the database
//! keeps summed per site (`site_totals.devices`); and, inside the site document, what the
//! server added of those sums for the older phones (`site_totals.folded`), which must not be
//! counted twice. So a site's total is its document's count, less what was folded into it,
//! plus its device tallies.

use uuid::Uuid;

use crate::Result;
pub use crate::storage::SiteTotal;
use crate::storage::Storage;

/// Every site of `dataset` with its totals, ordered by site code: two indexed reads however
/// many devices counted, and however long ago.
pub async fn site_totals(storage: &dyn Storage, dataset: Uuid) -> Result<Vec<SiteTotal>> {
    Ok(storage.site_totals(dataset).await?)
}
