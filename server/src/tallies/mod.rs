//! Outreach site tallies for analysts: `GET /v1/datasets/{id}/tallies?by=site,week&metric=..`
//! (served by `crate::handlers::tallies`), as JSON or CSV, in the aggregates' table shape and
//! with their protection: every combination listed with its totals, each count perturbed by its cell key and shown only from k up. A
//! tally counts people reached and materials handed out at a site; a site's few contacts in a
//! quiet week are as small a group as a small cell of responses.

pub mod source;

use std::collections::BTreeSet;

use crate::aggregates::{AggregateError, AggregateTable, OutputCell, TOTAL};
use crate::disclosure::Disclosure;
use crate::storage::{Dataset, Storage};
use crate::{ApiError, Result};
use source::SiteCount;

const DEFAULT_METRIC: &str = "contacts";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TallyDimension {
    Site,
    Week,
    Month,
}

impl TallyDimension {
    fn parse(name: &str) -> Result<TallyDimension, AggregateError> {
        match name {
            "site" => Ok(TallyDimension::Site),
            "week" => Ok(TallyDimension::Week),
            "month" => Ok(TallyDimension::Month),
            "area" => Err(AggregateError::BadQuery(
                "site documents (survey.site/1) carry no area, so tallies cannot be counted by area".into(),
            )),
            other => Err(AggregateError::UnknownDimension(sync_core::quoted(other))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            TallyDimension::Site => "site",
            TallyDimension::Week => "week",
            TallyDimension::Month => "month",
        }
    }
}

/// The dataset's site tallies as `pairs` (the query string's) ask for them, protected as
/// `disclosure` says.
pub async fn site_tallies(
    storage: &dyn Storage,
    dataset: &Dataset,
    pairs: &[(String, String)],
    disclosure: Disclosure,
) -> Result<AggregateTable> {
    let (by, metric) = parse(pairs)?;
    let counts = source::site_counts(storage, dataset.id).await?;
    let known: BTreeSet<&str> = counts.iter().map(|c| c.metric.as_str()).collect();
    // A dataset without tallies yet answers its default metric with an empty table.
    let answerable = known.contains(metric.as_str()) || (known.is_empty() && metric == DEFAULT_METRIC);
    if !answerable {
        return Err(ApiError::bad_request(
            "unknown_metric",
            format!(
                "no tally {:?} in this dataset; its tallies: {}",
                sync_core::quoted(&metric),
                known.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let k = u64::try_from(dataset.k).unwrap_or(11);
    Ok(tally_table(&counts, &by, &metric, k, disclosure)?)
}

fn parse(pairs: &[(String, String)]) -> Result<(Vec<TallyDimension>, String), AggregateError> {
    let (mut by, mut metric) = (None, DEFAULT_METRIC.to_owned());
    for (key, value) in pairs {
        match key.as_str() {
            "by" => {
                let dims = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(TallyDimension::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if dims.is_empty() || dims.len() > 2 {
                    return Err(AggregateError::BadQuery(
                        "`by` takes 1 or 2 of site, week, month".into(),
                    ));
                }
                if dims.len() == 2 && dims[0] == dims[1] {
                    return Err(AggregateError::BadQuery(
                        "a dimension is named twice in `by`".into(),
                    ));
                }
                by = Some(dims);
            }
            "metric" => metric = value.clone(),
            other => {
                return Err(AggregateError::BadQuery(format!(
                    "unknown parameter {:?}",
                    sync_core::quoted(other)
                )));
            }
        }
    }
    let by = by.ok_or_else(|| AggregateError::BadQuery("`by` is required".into()))?;
    Ok((by, metric))
}

/// The labels of one dimension, and the code of a count on it.
struct TallyAxis {
    dimension: TallyDimension,
    labels: Vec<String>,
}

impl TallyAxis {
    fn new(dimension: TallyDimension, counts: &[&SiteCount]) -> TallyAxis {
        let labels = match dimension {
            TallyDimension::Site => counts
                .iter()
                .map(|c| c.site.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            TallyDimension::Week | TallyDimension::Month => {
                let days = counts.iter().map(|c| c.day.to_days() as i32);
                let (first, last) = (days.clone().min().unwrap_or(0), days.max().unwrap_or(0));
                crate::aggregates::table_periods(first, last, dimension == TallyDimension::Week).0
            }
        };
        TallyAxis { dimension, labels }
    }

    fn code(&self, count: &SiteCount) -> usize {
        let label = match self.dimension {
            TallyDimension::Site => count.site.clone(),
            TallyDimension::Week => count.day.iso_week_key(),
            TallyDimension::Month => count.day.month_key(),
        };
        self.labels
            .iter()
            .position(|l| *l == label)
            .unwrap_or(self.labels.len())
    }
}

/// Sums `metric` over `counts` by `by`, with a total along each dimension, and protects every
/// cell as the aggregates do: the records are the (site, metric, day) rows.
fn tally_table(
    counts: &[SiteCount],
    by: &[TallyDimension],
    metric: &str,
    k: u64,
    disclosure: Disclosure,
) -> Result<AggregateTable, AggregateError> {
    let counts: Vec<&SiteCount> = counts.iter().filter(|c| c.metric == metric).collect();
    let axes: Vec<TallyAxis> = by.iter().map(|d| TallyAxis::new(*d, &counts)).collect();
    let widths: Vec<usize> = axes.iter().map(|a| a.labels.len() + 1).collect();
    let size: usize = widths.iter().product();
    if size > crate::aggregates::MAX_CELLS {
        return Err(AggregateError::BadQuery(
            "the table would have too many cells".into(),
        ));
    }
    let (mut amounts, mut keys) = (vec![0i64; size], vec![0u32; size]);
    for count in &counts {
        let codes: Vec<usize> = axes.iter().map(|a| a.code(count)).collect();
        // Each of the 2^d cells the row is in: its own code or the total, per dimension.
        for mask in 0..(1usize << axes.len()) {
            let cell = codes
                .iter()
                .zip(&widths)
                .enumerate()
                .fold(0, |cell, (i, (&code, &width))| {
                    cell * width + if mask & (1 << i) == 0 { code } else { width - 1 }
                });
            amounts[cell] += count.amount;
            keys[cell] = keys[cell].wrapping_add(u32::from(count.record_key));
        }
    }
    let mut suppressed = 0;
    let cells = (0..size)
        .map(|cell| {
            let mut rest = cell;
            let mut key = serde_json::Map::new();
            for (axis, width) in axes.iter().zip(&widths).rev() {
                let label = axis.labels.get(rest % width).map_or(TOTAL, String::as_str);
                key.insert(axis.dimension.name().to_owned(), label.into());
                rest /= width;
            }
            let amount = u64::try_from(amounts[cell]).unwrap_or(0);
            match disclosure.protect(amount, keys[cell], k) {
                Some(shown) => OutputCell::Shown {
                    key,
                    n: shown,
                    value: shown as f64,
                },
                None => {
                    suppressed += 1;
                    OutputCell::Suppressed {
                        key,
                        suppressed: true,
                    }
                }
            }
        })
        .collect();
    Ok(AggregateTable {
        k,
        by: by.iter().map(|d| d.name().to_owned()).collect(),
        metric: metric.to_owned(),
        max_adjustment: disclosure.max_adjustment(),
        cells,
        suppressed,
    })
}

#[cfg(test)]
mod tests {
    use sync_core::Day;

    use super::*;

    fn count(site: &str, day: i64, amount: i64, record_key: u8) -> SiteCount {
        SiteCount {
            site: site.into(),
            metric: "contacts".into(),
            day: Day::from_days(day),
            amount,
            record_key,
        }
    }

    #[test]
    fn sites_by_week_list_every_combination_with_totals() {
        // 2026-05-04 is a Monday: days 20_577.. are that week, 20_584.. the next.
        let counts = [
            count("pier", 20_577, 30, 1),
            count("pier", 20_578, 5, 2),
            count("market", 20_584, 3, 3),
        ];
        let by = [TallyDimension::Site, TallyDimension::Week];
        let table = tally_table(&counts, &by, "contacts", 11, Disclosure::SuppressOnly).expect("table");
        let shown: Vec<(String, u64)> = table
            .cells
            .iter()
            .filter_map(|c| match c {
                OutputCell::Shown { key, n, .. } => Some((format!("{}/{}", key["site"], key["week"]), *n)),
                OutputCell::Suppressed { .. } => None,
            })
            .collect();
        assert_eq!(table.cells.len(), 3 * 3, "2 sites and 2 weeks, each with a total");
        assert!(shown.contains(&("\"pier\"/\"2026-W19\"".into(), 35)), "{shown:?}");
        assert!(shown.contains(&("\"*\"/\"*\"".into(), 38)), "{shown:?}");
        assert_eq!(table.suppressed, 9 - shown.len());
    }

    #[test]
    fn area_and_unknown_dimensions_are_refused() {
        let pairs = |by: &str| vec![("by".to_string(), by.to_string())];
        assert!(matches!(parse(&pairs("area")), Err(AggregateError::BadQuery(_))));
        assert!(matches!(
            parse(&pairs("site,nope")),
            Err(AggregateError::UnknownDimension(_))
        ));
        assert!(matches!(
            parse(&pairs("site,week,month")),
            Err(AggregateError::BadQuery(_))
        ));
        assert!(matches!(
            parse(&pairs("week,week")),
            Err(AggregateError::BadQuery(_))
        ));
        assert!(parse(&pairs("site,month")).is_ok());
    }
}
