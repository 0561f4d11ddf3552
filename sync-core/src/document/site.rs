//! Outreach site documents: shared tallies that many phones bump offline.
//!
//! Tallies are Automerge counters, so concurrent increments add up instead of one phone's
//! count overwriting another's. The counters are all created together with the document: two
//! phones that each created the same counter key offline would produce two conflicting
//! counters, and increments to the losing one would vanish from the total.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};
use uuid::Uuid;

use super::read::Fields;
use super::{commit_private, new_document_as};
use crate::answer::check_free_text;
use crate::{Error, Result, check_identifier};

pub const SCHEMA: &str = "survey.site/1";
pub(super) const FIELDS: &[&str] = &["schema", "dataset", "site", "name", "tallies"];
pub(super) const NAME_MAX: usize = 120;
/// The most one change may add to or take from a tally. A tally counts people and materials
/// reached at one site; the field app's -1 button corrects a mistaken tap.
pub const MAX_TALLY_STEP: i64 = 1_000;
const MAX_METRICS: usize = 50;

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
    if metrics.len() > MAX_METRICS {
        return Err(Error::TooLarge {
            what: "tally metric list",
            size: metrics.len(),
            limit: MAX_METRICS,
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
    check_step(metric, by)?;
    let tallies = Fields::of(doc, &ROOT)
        .required_object("tallies", ObjType::Map)?
        .clone();
    let count = match doc.get(&tallies, metric)? {
        Some((Value::Scalar(v), _)) => match v.as_ref() {
            ScalarValue::Counter(c) => i64::from(c),
            _ => return Err(Error::NotACounter(crate::quoted(metric))),
        },
        _ => return Err(Error::NotACounter(crate::quoted(metric))),
    };
    if count.checked_add(by).is_none_or(|total| total < 0) {
        return Err(Error::NegativeTally(crate::quoted(metric)));
    }
    doc.increment(&tallies, metric, by)?;
    commit_private(doc);
    Ok(())
}

/// The bound on one change to a tally.
pub(super) fn check_step(metric: &str, by: i64) -> Result<()> {
    if by != 0 && by.abs() <= MAX_TALLY_STEP {
        Ok(())
    } else {
        Err(Error::TallyStep {
            metric: crate::quoted(metric),
            by,
            limit: MAX_TALLY_STEP,
        })
    }
}

/// What a tally may start at when its site is created: as much as one change could add.
pub(super) fn check_start(metric: &str, start: i64) -> Result<()> {
    if (0..=MAX_TALLY_STEP).contains(&start) {
        Ok(())
    } else {
        Err(Error::TallyStep {
            metric: crate::quoted(metric),
            by: start,
            limit: MAX_TALLY_STEP,
        })
    }
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
    let counters = Fields::of(doc, root.required_object("tallies", ObjType::Map)?);
    let mut tallies = BTreeMap::new();
    for metric in counters.keys() {
        check_identifier("tally metric", metric)?;
        match counters.required(metric)? {
            ScalarValue::Counter(c) => tallies.insert(metric.to_owned(), i64::from(c)),
            _ => return Err(Error::NotACounter(metric.to_owned())),
        };
    }
    if tallies.len() > MAX_METRICS {
        return Err(Error::TooLarge {
            what: "tally metric list",
            size: tallies.len(),
            limit: MAX_METRICS,
        });
    }
    Ok(SiteView {
        dataset: root.uuid("dataset")?,
        site: site.to_owned(),
        name: name.to_owned(),
        tallies,
    })
}
