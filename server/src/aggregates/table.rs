//! Computes an aggregate table from [`FormColumns`]: every combination of the requested
//! values and a total along each dimension, each cell perturbed by its key and shown only when
//! it still reaches k (see `crate::disclosure`).

use serde::Serialize;
use sync_core::{Day, Form, QuestionKind};

use super::AggregateError;
use super::columns::{Column, FormColumns, INTEGER_BINS, MISSING};
use super::query::{AggregateQuery, Dimension, Filter, Metric};
use crate::disclosure::Disclosure;

/// Tables with more cells than this are refused: every cell is listed, nobody reads tables
/// this large, and they cost memory.
pub const MAX_CELLS: usize = 20_000;
/// The key value of a total along a dimension. Ids never contain it.
pub const TOTAL: &str = "*";

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AggregateTable {
    /// The smallest count shown; cells under it are suppressed.
    pub k: u64,
    pub by: Vec<String>,
    pub metric: String,
    /// The most a shown count differs from the true one (0: counts are exact).
    pub max_adjustment: u64,
    pub cells: Vec<OutputCell>,
    pub suppressed: usize,
}

/// A cell's `key` names its value on each dimension, `*` for a total along it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum OutputCell {
    Shown {
        #[schema(value_type = Object)]
        key: serde_json::Map<String, serde_json::Value>,
        n: u64,
        value: f64,
    },
    Suppressed {
        #[schema(value_type = Object)]
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

    /// A row has at most one code on this axis (every axis but a multi-choice question's).
    fn single(&self) -> bool {
        !matches!(self.source, Source::Mask(_))
    }

    /// The slots of the table a row is counted in on this axis, the last slot being
    /// `labels.len()`: on a single axis its code, or the last slot when it has none (the
    /// unanswered, summed into the total afterwards by [`add_totals`]); on a multi-choice axis
    /// each chosen code and the last slot, which is the total, once per row.
    fn slots(&self, row: usize, mut each: impl FnMut(u32)) {
        let last = self.labels.len() as u32;
        if self.single() {
            let mut slot = last;
            self.codes(row, |code| slot = code);
            each(slot);
        } else {
            self.codes(row, &mut each);
            each(last);
        }
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

/// Every week (or month) from day `first` to day `last` (days since 1970), and the code of
/// each day in between: a period with nothing in it is still a period of the table.
pub(crate) fn periods(first: i32, last: i32, weeks: bool) -> (Vec<String>, Vec<u32>) {
    let mut labels: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity((last - first + 1).max(0) as usize);
    for d in first..=last {
        let day = Day::from_days(i64::from(d));
        let text = if weeks {
            day.iso_week_key()
        } else {
            day.month_key()
        };
        if labels.last() != Some(&text) {
            labels.push(text);
        }
        codes.push((labels.len() - 1) as u32);
    }
    (labels, codes)
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
            let first = days.first().copied().unwrap_or(0);
            let last = days.last().copied().unwrap_or(0);
            let (labels, codes) = periods(first, last, *dimension == Dimension::Week);
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
    if let Dimension::Question(q) = &filter.dimension
        && let (
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
    let axis = axis(columns, &filter.dimension, days)?;
    let code = axis
        .labels
        .iter()
        .position(|l| *l == filter.value)
        .ok_or_else(|| {
            AggregateError::UnknownValue(format!(
                "{}={}",
                filter.dimension.name(),
                sync_core::quoted(&filter.value)
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
    /// The range one respondent's value lies in.
    fn range(&self) -> (f64, f64) {
        let scales = self.items.iter().map(|(_, _, scale)| *scale as f64);
        if self.mean {
            (1.0, scales.fold(1.0, f64::max))
        } else {
            (self.items.len() as f64, scales.sum())
        }
    }

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

/// Finds the cells a row is counted in (see [`Axis::slots`]), reusing its buffers so the hot
/// loop never allocates. With single axes only, that is one cell, found without the buffers.
struct CellIndexer<'a, 'b> {
    axes: &'b [Axis<'a>],
    all_single: bool,
    current: Vec<usize>,
    next: Vec<usize>,
}

impl CellIndexer<'_, '_> {
    fn for_each(&mut self, row: usize, mut each: impl FnMut(usize)) {
        if self.all_single {
            let mut cell = 0;
            for axis in self.axes {
                axis.slots(row, |slot| cell = cell * (axis.labels.len() + 1) + slot as usize);
            }
            return each(cell);
        }
        self.current.clear();
        self.current.push(0);
        for axis in self.axes {
            let width = axis.labels.len() + 1;
            self.next.clear();
            for &base in &self.current {
                let next = &mut self.next;
                axis.slots(row, |slot| next.push(base * width + slot as usize));
            }
            std::mem::swap(&mut self.current, &mut self.next);
        }
        self.current.iter().for_each(|&cell| each(cell));
    }
}

/// Per cell: respondents, the sum of their record keys, the sum of their metric values.
struct Tally {
    n: Vec<u64>,
    keys: Vec<u32>,
    sum: Vec<f64>,
}

impl Tally {
    /// Turns the last slot of every single axis, which holds the unanswered, into the total of
    /// its line: everyone, whatever they answered there. A total's key is the sum of its
    /// records' keys like any cell's, so it is the sum of its line's key sums.
    fn add_totals(&mut self, axes: &[Axis<'_>]) {
        let widths: Vec<usize> = axes.iter().map(|a| a.labels.len() + 1).collect();
        for i in (0..axes.len()).filter(|&i| axes[i].single()) {
            let stride: usize = widths[i + 1..].iter().product();
            let width = widths[i];
            for start in (0..self.n.len()).step_by(width * stride) {
                for base in start..start + stride {
                    let line = (0..width - 1).map(|slot| base + slot * stride);
                    let total = base + (width - 1) * stride;
                    for cell in line {
                        self.n[total] += self.n[cell];
                        self.keys[total] = self.keys[total].wrapping_add(self.keys[cell]);
                        if let Some(sum) = self.sum.get(cell).copied() {
                            self.sum[total] += sum;
                        }
                    }
                }
            }
        }
    }
}

/// Runs the query over the columns and returns the protected table.
pub fn aggregate(
    form: &Form,
    columns: &FormColumns,
    query: &AggregateQuery,
    k: u64,
    disclosure: Disclosure,
) -> Result<AggregateTable, AggregateError> {
    let mut days: Vec<i32> = columns.day.clone();
    days.sort_unstable();
    days.dedup();
    let axes = query
        .by
        .iter()
        .map(|d| axis(columns, d, &days))
        .collect::<Result<Vec<_>, _>>()?;
    let size = axes
        .iter()
        .try_fold(1usize, |size, a| size.checked_mul(a.labels.len() + 1))
        .filter(|&size| size <= MAX_CELLS)
        .ok_or_else(|| {
            AggregateError::BadQuery(format!(
                "the table would have more than {MAX_CELLS} cells; use fewer or coarser dimensions"
            ))
        })?;
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
        all_single: axes.iter().all(Axis::single),
        current: Vec::new(),
        next: Vec::new(),
    };
    let mut tally = Tally {
        n: vec![0; size],
        keys: vec![0; size],
        sum: vec![0.0; if metric.is_some() { size } else { 0 }],
    };
    for row in 0..columns.len() {
        if !columns.submitted[row]
            || (query.approved_only && !columns.approved[row])
            || !(from..=to).contains(&columns.day[row])
            || !filters.iter().all(|f| f.matches(row))
        {
            continue;
        }
        let key = u32::from(columns.key[row]);
        match &metric {
            None => indexer.for_each(row, |cell| {
                tally.n[cell] += 1;
                tally.keys[cell] = tally.keys[cell].wrapping_add(key);
            }),
            Some(metric) => {
                let Some(value) = metric.value(row) else { continue };
                indexer.for_each(row, |cell| {
                    tally.n[cell] += 1;
                    tally.keys[cell] = tally.keys[cell].wrapping_add(key);
                    tally.sum[cell] += value;
                });
            }
        }
    }

    tally.add_totals(&axes);

    let labels_of = |cell: usize| -> Vec<&str> {
        let mut rest = cell;
        let mut parts = vec![TOTAL; axes.len()];
        for (i, axis) in axes.iter().enumerate().rev() {
            let width = axis.labels.len() + 1;
            parts[i] = axis.labels.get(rest % width).map_or(TOTAL, String::as_str);
            rest /= width;
        }
        parts
    };
    let mut suppressed = 0;
    let cells = (0..size)
        .map(|cell| {
            let key = axes
                .iter()
                .zip(labels_of(cell))
                .map(|(a, v)| (a.name.clone(), serde_json::Value::from(v)))
                .collect();
            let (n, keys) = (tally.n[cell], tally.keys[cell]);
            let Some(shown) = disclosure.protect(n, keys, k) else {
                suppressed += 1;
                return OutputCell::Suppressed {
                    key,
                    suppressed: true,
                };
            };
            let value = match &metric {
                None => shown as f64,
                Some(metric) => {
                    let (lowest, largest) = metric.range();
                    let sum = disclosure.protect_sum(tally.sum[cell], keys, largest);
                    ((sum / n as f64).clamp(lowest, largest) * 100.0).round() / 100.0
                }
            };
            OutputCell::Shown { key, n: shown, value }
        })
        .collect();
    Ok(AggregateTable {
        k,
        by: axes.iter().map(|a| a.name.clone()).collect(),
        metric: match &query.metric {
            Metric::Count => "count".into(),
            Metric::Mean(name) => format!("mean:{name}"),
        },
        max_adjustment: disclosure.max_adjustment(),
        cells,
        suppressed,
    })
}
