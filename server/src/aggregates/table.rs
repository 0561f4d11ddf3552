//! Computes an aggregate table from [`FormColumns`] and applies disclosure control.

use std::collections::HashMap;

use serde::Serialize;
use sync_core::{Day, Form, QuestionKind};

use super::AggregateError;
use super::columns::{Column, FormColumns, INTEGER_BINS, MISSING};
use super::query::{AggregateQuery, Dimension, Filter, Metric};
use super::suppress::{Cell, suppress_small_cells};

/// Tables larger than this are refused: nobody reads them and they cost memory.
const MAX_CELLS: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateTable {
    pub k: u64,
    pub by: Vec<String>,
    pub metric: String,
    pub cells: Vec<OutputCell>,
    pub suppressed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OutputCell {
    Shown {
        key: serde_json::Map<String, serde_json::Value>,
        n: u64,
        value: f64,
    },
    Suppressed {
        key: serde_json::Map<String, serde_json::Value>,
        suppressed: bool,
    },
}

/// One dimension of the table, resolved to codes per row.
struct Axis<'a> {
    name: String,
    labels: Vec<String>,
    source: Source<'a>,
}

enum Source<'a> {
    Small(&'a [u16], u16),
    Mask(&'a [u64]),
    Bins(&'a [i32], i64, i64),
    Values(&'a [i32], i64),
    /// Codes by day, indexed from the first day.
    Days(&'a [i32], i32, Vec<u32>),
}

impl Axis<'_> {
    /// Calls `each` with every code row `row` has on this axis (none when unanswered, several
    /// for a multi-choice answer).
    fn codes(&self, row: usize, mut each: impl FnMut(u32)) {
        match &self.source {
            Source::Small(codes, offset) => {
                if codes[row] >= *offset {
                    each(u32::from(codes[row] - offset));
                }
            }
            Source::Mask(masks) => {
                let mut mask = masks[row];
                while mask != 0 {
                    each(mask.trailing_zeros());
                    mask &= mask - 1;
                }
            }
            Source::Bins(values, min, max) => {
                if values[row] != MISSING {
                    each(bin(i64::from(values[row]), *min, *max));
                }
            }
            Source::Values(values, min) => {
                if values[row] != MISSING {
                    each((i64::from(values[row]) - min) as u32);
                }
            }
            Source::Days(days, first, codes) => each(codes[(days[row] - first) as usize]),
        }
    }

    fn has(&self, row: usize, code: u32) -> bool {
        let mut found = false;
        self.codes(row, |c| found |= c == code);
        found
    }
}

fn bin(value: i64, min: i64, max: i64) -> u32 {
    let width = ((max - min + 1) + INTEGER_BINS - 1) / INTEGER_BINS;
    ((value - min) / width.max(1)) as u32
}

fn bin_labels(min: i64, max: i64) -> Vec<String> {
    let width = (((max - min + 1) + INTEGER_BINS - 1) / INTEGER_BINS).max(1);
    (0..INTEGER_BINS)
        .map(|i| (min + i * width, (min + (i + 1) * width - 1).min(max)))
        .take_while(|(lo, _)| *lo <= max)
        .map(|(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect()
}

fn axis<'a>(
    columns: &'a FormColumns,
    dimension: &Dimension,
    days: &[i32],
) -> Result<Axis<'a>, AggregateError> {
    let name = dimension.name().to_owned();
    let (labels, source) = match dimension {
        Dimension::Area => (columns.areas.clone(), Source::Small(&columns.area, 0)),
        Dimension::Week | Dimension::Month => {
            let label = |d: i32| {
                let day = Day::from_days(i64::from(d));
                if *dimension == Dimension::Week {
                    day.iso_week_key()
                } else {
                    day.month_key()
                }
            };
            let first = days.first().copied().unwrap_or(0);
            let last = days.last().copied().unwrap_or(0);
            let mut labels: Vec<String> = Vec::new();
            let mut codes = Vec::with_capacity((last - first + 1) as usize);
            for d in first..=last {
                let text = label(d);
                if labels.last() != Some(&text) {
                    labels.push(text);
                }
                codes.push((labels.len() - 1) as u32);
            }
            (labels, Source::Days(&columns.day, first, codes))
        }
        Dimension::Question(q) => match columns.questions.get(q) {
            Some(Column::Choice { codes, labels }) => (labels.clone(), Source::Small(codes, 1)),
            Some(Column::Choices { masks, labels }) => (labels.clone(), Source::Mask(masks)),
            Some(Column::Number {
                values,
                min,
                max,
                likert: true,
            }) => (
                (*min..=*max).map(|v| v.to_string()).collect(),
                Source::Values(values, *min),
            ),
            Some(Column::Number {
                values,
                min,
                max,
                likert: false,
            }) => (bin_labels(*min, *max), Source::Bins(values, *min, *max)),
            None => return Err(AggregateError::UnknownDimension(name)),
        },
    };
    Ok(Axis { name, labels, source })
}

enum Predicate<'a> {
    Code(Axis<'a>, u32),
    Exact(&'a [i32], i32),
}

impl Predicate<'_> {
    fn matches(&self, row: usize) -> bool {
        match self {
            Predicate::Code(axis, code) => axis.has(row, *code),
            Predicate::Exact(values, n) => values[row] == *n,
        }
    }
}

fn predicate<'a>(
    columns: &'a FormColumns,
    filter: &Filter,
    days: &[i32],
) -> Result<Predicate<'a>, AggregateError> {
    if let Dimension::Question(q) = &filter.dimension {
        if let (
            Some(Column::Number {
                values,
                likert: false,
                ..
            }),
            Ok(n),
        ) = (columns.questions.get(q), filter.value.parse::<i32>())
        {
            return Ok(Predicate::Exact(values, n));
        }
    }
    let axis = axis(columns, &filter.dimension, days)?;
    let code = axis
        .labels
        .iter()
        .position(|l| *l == filter.value)
        .ok_or_else(|| {
            AggregateError::UnknownValue(format!(
                "{}={}",
                filter.dimension.name(),
                filter.value.chars().take(80).collect::<String>()
            ))
        })?;
    Ok(Predicate::Code(axis, code as u32))
}

/// The per-row value of the metric, or `None` when the respondent has none.
struct MetricValues<'a> {
    items: Vec<(&'a [i32], bool, i64)>,
    mean: bool,
}

impl MetricValues<'_> {
    fn value(&self, row: usize) -> Option<f64> {
        let mut total = 0i64;
        for (values, reverse, scale) in &self.items {
            let v = values[row];
            if v == MISSING {
                return None;
            }
            total += if *reverse {
                scale + 1 - i64::from(v)
            } else {
                i64::from(v)
            };
        }
        Some(if self.mean {
            total as f64 / self.items.len() as f64
        } else {
            total as f64
        })
    }
}

fn metric_values<'a>(
    form: &Form,
    columns: &'a FormColumns,
    metric: &Metric,
) -> Result<Option<MetricValues<'a>>, AggregateError> {
    let Metric::Mean(name) = metric else {
        return Ok(None);
    };
    let (items, mean) = match form.score(name) {
        Some(score) => (score.items.clone(), score.method == sync_core::ScoreMethod::Mean),
        None => (vec![name.clone()], true),
    };
    let items = items
        .iter()
        .map(|item| {
            let reverse = matches!(
                form.question(item).map(|q| &q.kind),
                Ok(QuestionKind::Likert { reverse: true, .. })
            ) && form.score(name).is_some();
            match columns.questions.get(item) {
                Some(Column::Number {
                    values,
                    max,
                    likert: true,
                    ..
                }) => Ok((values.as_slice(), reverse, *max)),
                _ => Err(AggregateError::UnknownMetric(name.clone())),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(MetricValues { items, mean }))
}

/// Finds the cell indexes of a row, reusing its buffers so the hot loop never allocates.
struct CellIndexer<'a, 'b> {
    axes: &'b [Axis<'a>],
    current: Vec<usize>,
    next: Vec<usize>,
}

impl CellIndexer<'_, '_> {
    fn for_each(&mut self, row: usize, mut each: impl FnMut(usize)) {
        self.current.clear();
        self.current.push(0);
        for axis in self.axes {
            let width = axis.labels.len().max(1);
            self.next.clear();
            for &base in &self.current {
                let next = &mut self.next;
                axis.codes(row, |code| next.push(base * width + code as usize));
            }
            std::mem::swap(&mut self.current, &mut self.next);
        }
        self.current.iter().for_each(|&cell| each(cell));
    }
}

struct Tally {
    n: Vec<u64>,
    sum: Vec<f64>,
}

/// Runs the query over the columns and returns the table, small cells suppressed.
pub fn aggregate(
    form: &Form,
    columns: &FormColumns,
    query: &AggregateQuery,
    k: u64,
) -> Result<AggregateTable, AggregateError> {
    let mut days: Vec<i32> = columns.day.clone();
    days.sort_unstable();
    days.dedup();
    let axes = query
        .by
        .iter()
        .map(|d| axis(columns, d, &days))
        .collect::<Result<Vec<_>, _>>()?;
    let size: usize = axes.iter().map(|a| a.labels.len().max(1)).product();
    if size > MAX_CELLS {
        return Err(AggregateError::BadQuery(
            "the table would have too many cells; use fewer or coarser dimensions".into(),
        ));
    }
    let filters = query
        .filters
        .iter()
        .map(|f| predicate(columns, f, &days))
        .collect::<Result<Vec<_>, _>>()?;
    let metric = metric_values(form, columns, &query.metric)?;
    let from = query.from.map_or(i32::MIN, |d| d.to_days() as i32);
    let to = query.to.map_or(i32::MAX, |d| d.to_days() as i32);

    let mut indexer = CellIndexer {
        axes: &axes,
        current: Vec::new(),
        next: Vec::new(),
    };
    let eligible = |row: usize, skip: Option<usize>| {
        columns.submitted[row]
            && filters
                .iter()
                .enumerate()
                .all(|(i, f)| Some(i) == skip || f.matches(row))
            && metric.as_ref().is_none_or(|m| m.value(row).is_some())
    };

    let mut main = Tally {
        n: vec![0; size],
        sum: vec![0.0; size],
    };
    let mut without: Vec<Vec<u64>> = vec![vec![0; size]; filters.len()];
    // Nearest non-empty day outside the window, per cell: (day, respondents that day).
    let mut before: Vec<(i32, u64)> = vec![(i32::MIN, 0); size];
    let mut after: Vec<(i32, u64)> = vec![(i32::MAX, 0); size];
    for row in 0..columns.len() {
        let day = columns.day[row];
        let inside = (from..=to).contains(&day);
        if inside && eligible(row, None) {
            let value = metric.as_ref().and_then(|m| m.value(row));
            indexer.for_each(row, |cell| {
                main.n[cell] += 1;
                main.sum[cell] += value.unwrap_or(0.0);
            });
        }
        if inside {
            for (i, counts) in without.iter_mut().enumerate() {
                if eligible(row, Some(i)) {
                    indexer.for_each(row, |cell| counts[cell] += 1);
                }
            }
        } else if eligible(row, None) {
            let nearest = if day < from { &mut before } else { &mut after };
            let closer = |old: i32| if day < from { day > old } else { day < old };
            indexer.for_each(row, |cell| {
                let (old, count) = nearest[cell];
                if day == old {
                    nearest[cell].1 = count + 1;
                } else if closer(old) {
                    nearest[cell] = (day, 1);
                }
            });
        }
    }

    let keys: Vec<usize> = (0..size).filter(|&c| main.n[c] > 0).collect();
    let labels_of = |cell: usize| -> Vec<String> {
        let mut rest = cell;
        let mut parts = vec![String::new(); axes.len()];
        for (i, axis) in axes.iter().enumerate().rev() {
            let width = axis.labels.len().max(1);
            parts[i] = axis.labels.get(rest % width).cloned().unwrap_or_default();
            rest /= width;
        }
        parts
    };
    let cells: Vec<Cell> = keys
        .iter()
        .map(|&c| Cell {
            key: labels_of(c),
            n: main.n[c],
        })
        .collect();
    let mut neighbours: Vec<HashMap<Vec<String>, u64>> = without
        .iter()
        .map(|counts| keys.iter().map(|&c| (labels_of(c), counts[c])).collect())
        .collect();
    for nearest in [&before, &after] {
        neighbours.push(
            keys.iter()
                .map(|&c| (labels_of(c), main.n[c] + nearest[c].1))
                .collect(),
        );
    }
    let hidden = suppress_small_cells(&cells, k, &neighbours);

    let output = cells
        .iter()
        .zip(&keys)
        .zip(&hidden)
        .map(|((cell, &c), &hide)| {
            let key = axes
                .iter()
                .zip(&cell.key)
                .map(|(a, v)| (a.name.clone(), serde_json::Value::from(v.as_str())))
                .collect();
            if hide {
                OutputCell::Suppressed {
                    key,
                    suppressed: true,
                }
            } else {
                let value = if metric.is_some() {
                    main.sum[c] / cell.n as f64
                } else {
                    cell.n as f64
                };
                OutputCell::Shown {
                    key,
                    n: cell.n,
                    value: (value * 1000.0).round() / 1000.0,
                }
            }
        })
        .collect();
    Ok(AggregateTable {
        k,
        by: axes.iter().map(|a| a.name.clone()).collect(),
        metric: match &query.metric {
            Metric::Count => "count".into(),
            Metric::Mean(name) => format!("mean:{name}"),
        },
        cells: output,
        suppressed: hidden.iter().filter(|h| **h).count(),
    })
}
