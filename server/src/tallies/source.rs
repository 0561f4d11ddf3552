//! Where site tallies come from. Today the server materializes, for every site document it
//! stores, what each tally grew by on that day (`tally_days`); if tallies come to be kept
//! another way (per-device documents the server sums, say), this is the one function to
//! change: the tables only need each site's counts per metric and day, with a record key each.

use sync_core::Day;
use uuid::Uuid;

use crate::storage::Storage;
use crate::{ApiError, Result};

/// What one site's tally grew by on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteCount {
    pub site: String,
    pub metric: String,
    pub day: Day,
    pub amount: i64,
    /// The record key of this (site, metric, day): counts of the same rows get the same noise.
    pub record_key: u8,
}

pub async fn site_counts(storage: &dyn Storage, dataset: Uuid) -> Result<Vec<SiteCount>> {
    storage
        .tally_facts(dataset)
        .await?
        .into_iter()
        .map(|fact| {
            let day =
                Day::parse(&fact.day).map_err(|e| ApiError::Internal(format!("stored tally day: {e}")))?;
            Ok(SiteCount {
                site: fact.site,
                metric: fact.metric,
                day,
                amount: fact.amount,
                record_key: fact.record_key,
            })
        })
        .collect()
}
