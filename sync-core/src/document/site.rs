//! Outreach site documents: a site's code, name and tallies, shared by every phone of a
//! dataset.
//!
//! Tallies are Automerge counters, so concurrent increments add up instead of one phone's
//! count overwriting another's. The counters are all created together with the document: two
//! phones that each created the same counter key offline would produce two conflicting
//! counters, and increments to the losing one would vanish from the total.
//!
//! Phones of protocols 1 and 2 bump these counters; a phone of protocol 3 counts into a tally
//! document of its own ([`super::tally`]) once the site has reached the server, so the site's
//! history stops growing with the fleet.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ObjType, ROOT, ScalarValue, transaction::Transactable};
use uuid::Uuid;

use super::read::Fields;
use super::{commit_private, counters, new_document_as};
use crate::answer::check_free_text;
use crate::{Error, Result, check_identifier};

pub const SCHEMA: &str = "survey.site/1";
pub(super) const FIELDS: &[&str] = &["schema", "dataset", "site", "name", "tallies"];
pub(super) const NAME_MAX: usize = 120;
pub use super::counters::MAX_TALLY_STEP;

/// The tallies outreach teams keep per site when nobody says otherwise.
pub const DEFAULT_METRICS: &[&str] = &["contacts", "kits", "leaflets", "referrals", "hotline_cards"];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SiteView {
    pub dataset: Uuid,
    pub site: String,
    pub name: String,
    pub tallies: BTreeMap<String, i64>,
}

pub fn create(dataset: Uuid, site: &str, name: &str, metrics: &[&str]) -> Result<AutoCommit> {
    create_as(ActorId::random(), dataset, site, name, metrics)
}

/// [`create`] with a chosen actor, for deterministic generators such as demo data.
pub fn create_as(
    actor: ActorId,
    dataset: Uuid,
    site: &str,
    name: &str,
    metrics: &[&str],
) -> Result<AutoCommit> {
    check_identifier("site code", site)?;
    check_free_text("site name", name, NAME_MAX)?;
    if metrics.len() > counters::MAX_METRICS {
        return Err(Error::TooLarge {
            what: "tally metric list",
            size: metrics.len(),
            limit: counters::MAX_METRICS,
        });
    }
    let mut doc = new_document_as(actor);
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "dataset", dataset.to_string())?;
    doc.put(ROOT, "site", site)?;
    doc.put(ROOT, "name", name)?;
    let tallies = doc.put_object(ROOT, "tallies", ObjType::Map)?;
    for metric in metrics {
        check_identifier("tally metric", metric)?;
        doc.put(&tallies, *metric, ScalarValue::counter(0))?;
    }
    commit_private(&mut doc);
    Ok(doc)
}

/// Adds `by` (negative to correct a miscount, at most [`MAX_TALLY_STEP`] either way) to one of
/// the site's tallies, which must not fall below zero on this copy. Two phones correcting the
/// same count offline can still take the merged total below zero; each did only what it saw.
pub fn increment(doc: &mut AutoCommit, metric: &str, by: i64) -> Result<()> {
    counters::increment(doc, metric, by)
}

pub fn rename(doc: &mut AutoCommit, name: &str) -> Result<()> {
    check_free_text("site name", name, NAME_MAX)?;
    doc.put(ROOT, "name", name)?;
    commit_private(doc);
    Ok(())
}

/// Reads and fully checks a site document.
pub fn read(doc: &AutoCommit) -> Result<SiteView> {
    let root = Fields::of(doc, &ROOT);
    root.only("", FIELDS)?;
    root.schema_is(SCHEMA)?;
    let site = root.string("site")?;
    check_identifier("site code", site)?;
    let name = root.string("name")?;
    check_free_text("site name", name, NAME_MAX)?;
    let tallies = counters::read(doc, &root)?;
    Ok(SiteView {
        dataset: root.uuid("dataset")?,
        site: site.to_owned(),
        name: name.to_owned(),
        tallies,
    })
}
