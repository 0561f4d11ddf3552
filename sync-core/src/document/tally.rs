//! Tally documents: one device's own counts at one outreach site.
//!
//! When every phone bumped the shared site document, the site kept every bump of every phone
//! as a change, and every phone downloaded them all: the bytes and the work of a sync grew with
//! the fleet and with the age of the dataset. A tally document is written by one device only,
//! so its history holds that device's bumps alone; the server adds up every device's tally
//! documents and sends each phone small totals instead (protocol 3). The counts stay Automerge
//! counters, so whatever order the bumps of one device arrive in, they add up exactly.
//!
//! The counters are those of the site, all created by the first change with the document, and
//! nothing but counting happens after it: the site a tally document counts for cannot be
//! changed, so counts cannot be moved from one site to another.

use std::collections::BTreeMap;

use automerge::{AutoCommit, ROOT, ScalarValue, transaction::Transactable};
use uuid::Uuid;

use super::read::Fields;
use super::{commit_private, counters, new_document};
use crate::{Error, Result};

pub const SCHEMA: &str = "survey.tally/1";
pub(super) const FIELDS: &[&str] = &["schema", "dataset", "site", "tallies"];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TallyView {
    pub dataset: Uuid,
    /// The site document it counts for.
    pub site: Uuid,
    pub tallies: BTreeMap<String, i64>,
}

/// A tally document for `site`, with a counter for each of the site's `metrics`, `first` already
/// counted: the first bump makes the document, in one change.
pub fn create(dataset: Uuid, site: Uuid, metrics: &[String], first: (&str, i64)) -> Result<AutoCommit> {
    let (bumped, by) = first;
    if !metrics.iter().any(|m| m == bumped) {
        return Err(Error::NotACounter(bumped.chars().take(80).collect()));
    }
    counters::check_step(bumped, by)?;
    if by < 0 {
        return Err(Error::NegativeTally(bumped.chars().take(80).collect()));
    }
    let mut doc = new_document();
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "dataset", dataset.to_string())?;
    doc.put(ROOT, "site", site.to_string())?;
    let tallies = doc.put_object(ROOT, "tallies", automerge::ObjType::Map)?;
    for metric in metrics {
        let start = if metric == bumped { by } else { 0 };
        doc.put(&tallies, metric.as_str(), ScalarValue::counter(start))?;
    }
    commit_private(&mut doc);
    Ok(doc)
}

/// Adds `by` to one of the device's own counts, which must not fall below zero: a device takes
/// away only what it counted itself.
pub fn increment(doc: &mut AutoCommit, metric: &str, by: i64) -> Result<()> {
    counters::increment(doc, metric, by)
}

/// The site a tally document counts for, before the document is checked (the server needs
/// the site's metrics to check it).
pub fn site_of(doc: &AutoCommit) -> Result<Uuid> {
    Fields::of(doc, &ROOT).uuid("site")
}

/// Reads and fully checks a tally document.
pub fn read(doc: &AutoCommit) -> Result<TallyView> {
    let root = Fields::of(doc, &ROOT);
    root.only("", FIELDS)?;
    let schema = root.string("schema")?;
    if schema != SCHEMA {
        return Err(Error::Schema {
            expected: SCHEMA,
            found: schema.chars().take(80).collect(),
        });
    }
    let tallies = counters::read(doc, &root)?;
    if let Some((metric, _)) = tallies.iter().find(|(_, count)| **count < 0) {
        return Err(Error::NegativeTally(metric.clone()));
    }
    Ok(TallyView {
        dataset: root.uuid("dataset")?,
        site: root.uuid("site")?,
        tallies,
    })
}
