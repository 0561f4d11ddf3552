//! How a commit group's writes move the tally sums: what each tally document adds to its
//! site's running sum, and what every site tally grew by on the day stored (`tally_days`, which
//! tallies by week and month read). Plain functions over the writes and what was stored before
//! them; `document_writes!` reads the one and writes the other.

use std::collections::{BTreeMap, HashMap};

use sync_core::Day;
use uuid::Uuid;

use super::{DocumentWrite, Error, Materialized, Result, TallyDays};

/// One day's growth of one site tally, as `tally_days` stores it.
pub(super) struct TallyDayRow<'a> {
    pub document: Uuid,
    pub dataset: Uuid,
    pub site: &'a str,
    pub metric: &'a str,
    pub day: Day,
    pub amount: i64,
    /// Used only if this creates the row: a row keeps its first key.
    pub record_key: i64,
}

/// A site tally as stored before a write: the document's count, and how much of it the
/// server added for device tallies (counted already, as the devices' own growth).
#[derive(Debug, Clone, Copy)]
pub(super) struct StoredTally {
    pub total: i64,
    pub folded: i64,
}

/// What one tally document's write moved one metric of its site by.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DeviceTallyMove<'a> {
    /// The site document counted for.
    pub site: Uuid,
    pub dataset: Uuid,
    pub metric: &'a str,
    pub day: Day,
    pub amount: i64,
}

/// What the tally documents among `live` count now less what they counted before (`before`,
/// by document and metric): how far each moves its site's sums.
pub(super) fn device_tally_moves<'a>(
    live: &[&'a DocumentWrite],
    before: &HashMap<(Uuid, String), i64>,
) -> Vec<DeviceTallyMove<'a>> {
    let mut moves = Vec::new();
    for &write in live {
        let Materialized::Tally(tally) = &write.rows else {
            continue;
        };
        for (metric, total) in &tally.tallies {
            let amount = total - before.get(&(write.id, metric.clone())).copied().unwrap_or(0);
            if amount != 0 {
                moves.push(DeviceTallyMove {
                    site: tally.site,
                    dataset: write.dataset,
                    metric,
                    day: tally.stored_on,
                    amount,
                });
            }
        }
    }
    moves
}

/// A fresh record key for a new tally day row.
fn record_key() -> Result<i64> {
    super::record_key::random()
}

/// What the writes among `live` add to `tally_days`, one row per site, metric and day: for a
/// site bump, each tally's growth since `stored` (0 for a new site) on the day of the write,
/// less what the server added to it for device tallies (`folded`, the new amounts of the sites
/// it was added to), which `device_moves` count where the devices counted them; seeded days as
/// given. So the days of a site add up to what `site_totals` says it counts.
pub(super) fn tally_growth<'a>(
    live: &[&'a DocumentWrite],
    stored: &HashMap<(Uuid, String), StoredTally>,
    folded: &HashMap<Uuid, &[(String, i64)]>,
    device_moves: &[DeviceTallyMove<'a>],
    site_codes: &'a HashMap<Uuid, String>,
) -> Result<Vec<TallyDayRow<'a>>> {
    let mut rows: BTreeMap<(Uuid, &'a str, Day), TallyDayRow<'a>> = BTreeMap::new();
    let mut add = |row: TallyDayRow<'a>| {
        rows.entry((row.document, row.metric, row.day))
            .and_modify(|r| r.amount += row.amount)
            .or_insert(row);
    };
    for &write in live {
        let Materialized::Site(site) = &write.rows else {
            continue;
        };
        let row = |metric: &'a str, day, amount, record_key| TallyDayRow {
            document: write.id,
            dataset: write.dataset,
            site: &site.site,
            metric,
            day,
            amount,
            record_key,
        };
        match &site.counted {
            TallyDays::GrowthOn(day) => {
                let added_now = folded.get(&write.id);
                for (metric, total) in &site.tallies {
                    let before = stored.get(&(write.id, metric.clone()));
                    let folded_before = before.map_or(0, |b| b.folded);
                    let folded_now = added_now
                        .and_then(|f| f.iter().find(|(m, _)| m == metric))
                        .map_or(folded_before, |(_, n)| *n);
                    let grown = (total - folded_now) - before.map_or(0, |b| b.total - b.folded);
                    if grown != 0 {
                        add(row(metric, *day, grown, record_key()?));
                    }
                }
            }
            TallyDays::Seeded(days) => {
                for d in days {
                    add(row(&d.metric, d.day, d.amount, d.record_key));
                }
            }
        }
    }
    for m in device_moves {
        let Some(code) = site_codes.get(&m.site) else {
            return Err(Error::Corrupt("device tallies for a site without tallies".into()));
        };
        add(TallyDayRow {
            document: m.site,
            dataset: m.dataset,
            site: code,
            metric: m.metric,
            day: m.day,
            amount: m.amount,
            record_key: record_key()?,
        });
    }
    Ok(rows.into_values().filter(|r| r.amount != 0).collect())
}

#[cfg(test)]
mod tests {
    use sync_core::DocKind;

    use super::*;
    use crate::storage::{SeededTally, SiteRow, TallyRow};

    const SITE: Uuid = Uuid::from_u128(1);
    const TALLY: Uuid = Uuid::from_u128(2);
    const DATASET: Uuid = Uuid::from_u128(99);

    fn day(n: i64) -> Day {
        Day::from_days(n)
    }

    fn document(id: Uuid, kind: DocKind, rows: Materialized) -> DocumentWrite {
        DocumentWrite {
            id,
            dataset: DATASET,
            kind,
            owner: None,
            base_version: None,
            version: 1,
            heads: Vec::new(),
            bytes: Vec::new(),
            actors: Vec::new(),
            record_key: None,
            rows,
            conflicts: Vec::new(),
        }
    }

    fn site(tallies: &[(&str, i64)], counted: TallyDays) -> DocumentWrite {
        let rows = Materialized::Site(SiteRow {
            site: "S1".into(),
            tallies: tallies.iter().map(|(m, n)| (m.to_string(), *n)).collect(),
            folded: None,
            counted,
        });
        document(SITE, DocKind::Site, rows)
    }

    fn tally(tallies: &[(&str, i64)]) -> DocumentWrite {
        let rows = Materialized::Tally(TallyRow {
            device: Uuid::from_u128(3),
            site: SITE,
            tallies: tallies.iter().map(|(m, n)| (m.to_string(), *n)).collect(),
            stored_on: day(5),
        });
        document(TALLY, DocKind::Tally, rows)
    }

    fn amounts(rows: &[TallyDayRow<'_>]) -> Vec<(Uuid, String, Day, i64)> {
        rows.iter()
            .map(|r| (r.document, r.metric.to_string(), r.day, r.amount))
            .collect()
    }

    #[test]
    fn a_tally_document_moves_its_site_by_what_it_grew() {
        let write = tally(&[("visits", 5), ("referrals", 1), ("meals", 4)]);
        let before = HashMap::from([
            ((TALLY, "visits".to_string()), 3),
            ((TALLY, "referrals".to_string()), 1),
        ]);
        let moves = device_tally_moves(&[&write], &before);
        let moved: Vec<_> = moves
            .iter()
            .map(|m| (m.site, m.metric, m.day, m.amount))
            .collect();
        assert_eq!(moved, [(SITE, "visits", day(5), 2), (SITE, "meals", day(5), 4)]);
    }

    #[test]
    fn a_site_grows_by_its_count_less_what_the_server_folded_into_it() {
        // Stored: 7, of which 2 folded in for devices; now 10, of which 3 folded: the site's
        // own count grew by (10 - 3) - (7 - 2) = 2, on the day stored.
        let write = site(&[("visits", 10), ("meals", 1)], TallyDays::GrowthOn(day(5)));
        let stored = HashMap::from([((SITE, "visits".to_string()), StoredTally { total: 7, folded: 2 })]);
        let now: &[(String, i64)] = &[("visits".to_string(), 3)];
        let folded = HashMap::from([(SITE, now)]);
        let no_codes = HashMap::new();
        let rows = tally_growth(&[&write], &stored, &folded, &[], &no_codes).expect("rows");
        assert_eq!(
            amounts(&rows),
            [
                (SITE, "meals".to_string(), day(5), 1),
                (SITE, "visits".to_string(), day(5), 2),
            ]
        );
    }

    #[test]
    fn device_moves_count_on_the_site_and_add_up_with_its_own_growth() {
        let write = site(&[("visits", 4)], TallyDays::GrowthOn(day(5)));
        let moves = [
            DeviceTallyMove {
                site: SITE,
                dataset: DATASET,
                metric: "visits",
                day: day(5),
                amount: 3,
            },
            DeviceTallyMove {
                site: SITE,
                dataset: DATASET,
                metric: "visits",
                day: day(6),
                amount: -4,
            },
        ];
        let codes = HashMap::from([(SITE, "S1".to_string())]);
        let rows = tally_growth(&[&write], &HashMap::new(), &HashMap::new(), &moves, &codes).expect("rows");
        assert_eq!(
            amounts(&rows),
            [
                (SITE, "visits".to_string(), day(5), 7),
                (SITE, "visits".to_string(), day(6), -4),
            ]
        );
        assert!(rows.iter().all(|r| r.site == "S1"));
    }

    #[test]
    fn growth_that_cancels_out_leaves_no_row() {
        let write = site(&[("visits", 4)], TallyDays::GrowthOn(day(5)));
        let moves = [DeviceTallyMove {
            site: SITE,
            dataset: DATASET,
            metric: "visits",
            day: day(5),
            amount: -4,
        }];
        let codes = HashMap::from([(SITE, "S1".to_string())]);
        let rows = tally_growth(&[&write], &HashMap::new(), &HashMap::new(), &moves, &codes).expect("rows");
        assert!(rows.is_empty());
    }

    #[test]
    fn seeded_days_are_written_as_given() {
        let seeded = TallyDays::Seeded(vec![SeededTally {
            day: day(2),
            metric: "visits".into(),
            amount: 6,
            record_key: 4,
        }]);
        let write = site(&[("visits", 6)], seeded);
        let no_codes = HashMap::new();
        let rows = tally_growth(&[&write], &HashMap::new(), &HashMap::new(), &[], &no_codes).expect("rows");
        assert_eq!(amounts(&rows), [(SITE, "visits".to_string(), day(2), 6)]);
        assert_eq!(rows[0].record_key, 4);
    }

    #[test]
    fn device_tallies_for_a_site_without_tallies_are_refused() {
        let moves = [DeviceTallyMove {
            site: SITE,
            dataset: DATASET,
            metric: "visits",
            day: day(5),
            amount: 1,
        }];
        let no_codes = HashMap::new();
        let growth = tally_growth(&[], &HashMap::new(), &HashMap::new(), &moves, &no_codes);
        assert!(matches!(growth, Err(Error::Corrupt(_))));
    }
}
