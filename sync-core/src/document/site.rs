//! Outreach site documents: shared tallies that many phones bump offline.
//!
//! Tallies are Automerge counters, so concurrent increments add up instead of one phone's
//! count overwriting another's. The counters are all created together with the document: two
//! phones that each created the same counter key offline would produce two conflicting
//! counters, and increments to the losing one would vanish from the total.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};
use uuid::Uuid;

use super::read::{self, only_keys};
use super::{commit_private, new_document_as};
use crate::answer::check_free_text;
use crate::{Error, Result, check_identifier};

pub const SCHEMA: &str = "survey.site/1";
const FIELDS: &[&str] = &["schema", "dataset", "site", "name", "tallies"];
const NAME_MAX: usize = 120;
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

/// Adds `by` (negative to correct a miscount) to one of the site's tallies.
pub fn increment(doc: &mut AutoCommit, metric: &str, by: i64) -> Result<()> {
    let tallies = read::object(doc, &ROOT, "tallies", ObjType::Map)?
        .ok_or_else(|| Error::MissingField("tallies".into()))?;
    match doc.get(&tallies, metric)? {
        Some((Value::Scalar(v), _)) if matches!(v.as_ref(), ScalarValue::Counter(_)) => {}
        _ => return Err(Error::NotACounter(metric.chars().take(80).collect())),
    }
    doc.increment(&tallies, metric, by)?;
    commit_private(doc);
    Ok(())
}

pub fn rename(doc: &mut AutoCommit, name: &str) -> Result<()> {
    check_free_text("site name", name, NAME_MAX)?;
    doc.put(ROOT, "name", name)?;
    commit_private(doc);
    Ok(())
}

/// Reads and fully checks a site document.
pub fn read(doc: &AutoCommit) -> Result<SiteView> {
    only_keys(doc, &ROOT, "", FIELDS)?;
    let schema = read::string(doc, &ROOT, "schema")?;
    if schema != SCHEMA {
        return Err(Error::Schema {
            expected: SCHEMA,
            found: schema.chars().take(80).collect(),
        });
    }
    let site = read::string(doc, &ROOT, "site")?;
    check_identifier("site code", &site)?;
    let name = read::string(doc, &ROOT, "name")?;
    check_free_text("site name", &name, NAME_MAX)?;
    let tallies_id = read::object(doc, &ROOT, "tallies", ObjType::Map)?
        .ok_or_else(|| Error::MissingField("tallies".into()))?;
    let mut tallies = BTreeMap::new();
    for metric in doc.keys(&tallies_id) {
        check_identifier("tally metric", &metric)?;
        match read::required(doc, &tallies_id, &metric)? {
            ScalarValue::Counter(c) => tallies.insert(metric, i64::from(&c)),
            _ => return Err(Error::NotACounter(metric)),
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
        dataset: read::uuid(doc, &ROOT, "dataset")?,
        site,
        name,
        tallies,
    })
}
