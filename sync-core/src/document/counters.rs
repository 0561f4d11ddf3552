//! The `tallies` map of counters that site documents and tally documents share: how a count
//! moves, how far one change may move it, and how it reads.

use std::collections::BTreeMap;

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};

use super::commit_private;
use super::read::Fields;
use crate::{Error, Result, check_identifier};

/// The most one change may add to or take from a tally. A tally counts people and materials
/// reached at one site; the field app's -1 button corrects a mistaken tap.
pub const MAX_TALLY_STEP: i64 = 1_000;
pub(super) const MAX_METRICS: usize = 50;

/// Adds `by` (negative to correct a miscount, at most [`MAX_TALLY_STEP`] either way) to one
/// tally of `doc`, as one change; the tally must not fall below zero on this copy.
pub(super) fn increment(doc: &mut AutoCommit, metric: &str, by: i64) -> Result<()> {
    check_step(metric, by)?;
    let tallies = tallies_map(doc)?;
    let count = count_of(doc, &tallies, metric)?;
    if count.checked_add(by).is_none_or(|total| total < 0) {
        return Err(Error::NegativeTally(cut(metric)));
    }
    doc.increment(&tallies, metric, by)?;
    commit_private(doc);
    Ok(())
}

/// Adds each of `deltas` to its tally in one change, in operations of at most
/// [`MAX_TALLY_STEP`] each, as a device's bumps are. Nothing is committed when every delta is
/// zero. A count may end below zero: this mirrors counts made elsewhere, whose total two
/// devices correcting the same count offline can take below zero.
pub(crate) fn add_all(doc: &mut AutoCommit, deltas: &BTreeMap<String, i64>) -> Result<()> {
    let tallies = tallies_map(doc)?;
    for (metric, delta) in deltas {
        count_of(doc, &tallies, metric)?;
        let mut left = *delta;
        while left != 0 {
            let step = left.clamp(-MAX_TALLY_STEP, MAX_TALLY_STEP);
            doc.increment(&tallies, metric.as_str(), step)?;
            left -= step;
        }
    }
    commit_private(doc);
    Ok(())
}

/// The bound on one change to a tally.
pub(super) fn check_step(metric: &str, by: i64) -> Result<()> {
    if by != 0 && by.abs() <= MAX_TALLY_STEP {
        Ok(())
    } else {
        Err(Error::TallyStep {
            metric: cut(metric),
            by,
            limit: MAX_TALLY_STEP,
        })
    }
}

/// What a tally may start at when its document is created: as much as one change could add.
pub(super) fn check_start(metric: &str, start: i64) -> Result<()> {
    if (0..=MAX_TALLY_STEP).contains(&start) {
        Ok(())
    } else {
        Err(Error::TallyStep {
            metric: cut(metric),
            by: start,
            limit: MAX_TALLY_STEP,
        })
    }
}

/// Every counter of the `tallies` map under `root`, checked: identifiers as keys, counters as
/// values, at most [`MAX_METRICS`] of them.
pub(super) fn read(doc: &AutoCommit, root: &Fields) -> Result<BTreeMap<String, i64>> {
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
    Ok(tallies)
}

/// The counts of the state with `heads`, for the metrics `doc` has now.
pub(crate) fn read_at(doc: &AutoCommit, heads: &[automerge::ChangeHash]) -> Result<BTreeMap<String, i64>> {
    let Some((Value::Object(ObjType::Map), tallies)) = doc.get_at(ROOT, "tallies", heads)? else {
        return Ok(BTreeMap::new());
    };
    let mut counts = BTreeMap::new();
    for item in doc.map_range_at(&tallies, .., heads) {
        if let Value::Scalar(value) = item.value.into_value()
            && let ScalarValue::Counter(c) = value.as_ref()
        {
            counts.insert(item.key.into_owned(), i64::from(c));
        }
    }
    Ok(counts)
}

fn tallies_map(doc: &AutoCommit) -> Result<ObjId> {
    Ok(Fields::of(doc, &ROOT)
        .required_object("tallies", ObjType::Map)?
        .clone())
}

fn count_of(doc: &AutoCommit, tallies: &ObjId, metric: &str) -> Result<i64> {
    match doc.get(tallies, metric)? {
        Some((Value::Scalar(v), _)) => match v.as_ref() {
            ScalarValue::Counter(c) => Ok(i64::from(c)),
            _ => Err(Error::NotACounter(cut(metric))),
        },
        _ => Err(Error::NotACounter(cut(metric))),
    }
}

fn cut(text: &str) -> String {
    text.chars().take(80).collect()
}
