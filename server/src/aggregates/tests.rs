//! Tables against brute-force counts, and the perturbation's promises: the same records give
//! the same value in every query, adjustments are small and unbiased, empty and small cells
//! look alike.

use std::collections::HashMap;

use super::AggregateError;
use super::columns::FormColumns;
use super::query::AggregateQuery;
use super::table::{AggregateTable, OutputCell, aggregate};
use crate::disclosure::{Disclosure, ptable};
use crate::storage::ResponseFact;
use sync_core::{Day, Form};
use uuid::Uuid;

const FORM: &str = r#"{ "id": "f", "version": 1, "title": "T", "areas": ["north", "south", "east"],
  "questions": [
    { "id": "gender", "type": "single", "label": "G", "options": ["f", "m", "x"] },
    { "id": "s1", "type": "likert", "label": "S1", "scale": 5 },
    { "id": "s2", "type": "likert", "label": "S2", "scale": 5, "reverse": true },
    { "id": "help", "type": "multi", "label": "H", "options": ["ngo", "police"] },
    { "id": "n", "type": "integer", "label": "N", "min": 0, "max": 49 },
    { "id": "notes", "type": "text", "label": "Notes" } ],
  "scores": [ { "id": "idx", "label": "I", "items": ["s1", "s2"], "method": "mean" } ] }"#;

struct Row {
    area: usize,
    day: i64,
    gender: usize,
    s1: i64,
    s2: i64,
    help: u8,
    n: i64,
}

fn rows(count: usize, seed: u64) -> Vec<Row> {
    let mut x = seed;
    let mut next = move |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    (0..count)
        .map(|_| Row {
            area: [0, 0, 0, 1, 1, 2][next(6) as usize],
            day: 20_600 + next(60) as i64,
            gender: [0, 0, 1, 1, 2][next(5) as usize],
            s1: 1 + next(5) as i64,
            s2: 1 + next(5) as i64,
            help: next(4) as u8,
            n: next(50) as i64,
        })
        .collect()
}

fn columns(form: &Form, rows: &[Row]) -> FormColumns {
    let mut cols = FormColumns::new(form);
    let ids: Vec<Uuid> = (0..rows.len()).map(|i| Uuid::from_u128(i as u128 + 1)).collect();
    for (i, (row, id)) in rows.iter().zip(&ids).enumerate() {
        let fact = ResponseFact {
            document: *id,
            submitted: true,
            area: form.areas[row.area].clone(),
            collected_on: String::new(),
            // Scattered like random keys, but the same on every run.
            record_key: (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) as u8,
        };
        cols.push_response(&fact, Day::from_days(row.day));
    }
    let opt = |v: &str| Some(v.to_string());
    cols.load_question(
        form,
        "gender",
        rows.iter()
            .zip(&ids)
            .map(|(r, id)| (*id, opt(["f", "m", "x"][r.gender]), None)),
    );
    cols.load_question(
        form,
        "s1",
        rows.iter().zip(&ids).map(|(r, id)| (*id, None, Some(r.s1))),
    );
    cols.load_question(
        form,
        "s2",
        rows.iter().zip(&ids).map(|(r, id)| (*id, None, Some(r.s2))),
    );
    cols.load_question(
        form,
        "n",
        rows.iter().zip(&ids).map(|(r, id)| (*id, None, Some(r.n))),
    );
    let help = rows.iter().zip(&ids).flat_map(|(r, id)| {
        [(1u8, "ngo"), (2, "police")]
            .into_iter()
            .filter(move |(bit, _)| r.help & bit != 0)
            .map(move |(_, o)| (*id, opt(o), None))
    });
    cols.load_question(form, "help", help);
    cols
}

fn run_with(
    form: &Form,
    cols: &FormColumns,
    query: &str,
    k: u64,
    disclosure: Disclosure,
) -> Result<AggregateTable, AggregateError> {
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    aggregate(form, cols, &AggregateQuery::parse(form, &pairs)?, k, disclosure)
}

fn run(form: &Form, cols: &FormColumns, query: &str) -> Result<AggregateTable, AggregateError> {
    run_with(form, cols, query, 11, Disclosure::CellKey)
}

/// True counts, every cell shown.
fn exact(form: &Form, cols: &FormColumns, query: &str) -> HashMap<String, u64> {
    shown(&run_with(form, cols, query, 0, Disclosure::SuppressOnly).expect("test data"))
}

fn shown(table: &AggregateTable) -> HashMap<String, u64> {
    table
        .cells
        .iter()
        .filter_map(|c| match c {
            OutputCell::Shown { key, n, .. } => Some((serde_json::to_string(key).expect("test data"), *n)),
            OutputCell::Suppressed { .. } => None,
        })
        .collect()
}

#[test]
fn counts_match_a_brute_force_count_and_small_cells_hide() {
    let form = Form::from_json(FORM).expect("test data");
    let data = rows(400, 1);
    let cols = columns(&form, &data);
    // With help, a multi-choice question whose total counts each respondent once.
    let table =
        run_with(&form, &cols, "by=area,gender,help", 11, Disclosure::SuppressOnly).expect("test data");
    let mut totals = 0;
    for cell in &table.cells {
        if let OutputCell::Shown { key, n, .. } = cell {
            let is = |dimension: &str, value: &str| key[dimension] == "*" || key[dimension] == value;
            let expected = data
                .iter()
                .filter(|r| is("area", &form.areas[r.area]) && is("gender", ["f", "m", "x"][r.gender]))
                .filter(|r| {
                    key["help"] == "*"
                        || (key["help"] == "ngo" && r.help & 1 != 0)
                        || (key["help"] == "police" && r.help & 2 != 0)
                })
                .count() as u64;
            assert_eq!(*n, expected, "{key:?}");
            assert!(*n >= 11);
            totals += usize::from(key.values().any(|v| v == "*"));
        }
    }
    assert!(totals > 10, "totals are checked too");
    let again =
        run_with(&form, &cols, "by=area,gender,help", 11, Disclosure::SuppressOnly).expect("test data");
    assert_eq!(
        serde_json::to_string(&table).expect("test data"),
        serde_json::to_string(&again).expect("test data")
    );
}

#[test]
fn free_text_and_unknown_names_are_refused() {
    let form = Form::from_json(FORM).expect("test data");
    let cols = columns(&form, &rows(10, 1));
    assert!(matches!(
        run(&form, &cols, "by=notes"),
        Err(AggregateError::FreeText(_))
    ));
    assert!(matches!(
        run(&form, &cols, "by=area&metric=mean:notes"),
        Err(AggregateError::FreeText(_))
    ));
    assert!(matches!(
        run(&form, &cols, "by=nope"),
        Err(AggregateError::UnknownDimension(_))
    ));
    assert!(matches!(
        run(&form, &cols, "by=area&metric=median"),
        Err(AggregateError::UnknownMetric(_))
    ));
    assert!(matches!(
        run(&form, &cols, "by=area&where=gender=q"),
        Err(AggregateError::UnknownValue(_))
    ));
    assert!(matches!(
        run(&form, &cols, "by=area&from=2026-13-01"),
        Err(AggregateError::BadQuery(_))
    ));
    assert!(matches!(
        run(&form, &cols, "metric=count"),
        Err(AggregateError::BadQuery(_))
    ));
}

#[test]
fn every_combination_and_every_total_is_listed_once_in_order() {
    let form = Form::from_json(FORM).expect("test data");
    let cols = columns(&form, &rows(40, 2));
    let table = run(&form, &cols, "by=area,gender").expect("test data");
    let keys: Vec<String> = table
        .cells
        .iter()
        .map(|c| match c {
            OutputCell::Shown { key, .. } | OutputCell::Suppressed { key, .. } => {
                format!(
                    "{}/{}",
                    key["area"].as_str().unwrap_or("?"),
                    key["gender"].as_str().unwrap_or("?")
                )
            }
        })
        .collect();
    let mut expected = Vec::new();
    for area in ["north", "south", "east", "*"] {
        for gender in ["f", "m", "x", "*"] {
            expected.push(format!("{area}/{gender}"));
        }
    }
    assert_eq!(keys, expected);
}

#[test]
fn the_same_respondents_give_the_same_value_in_every_query() {
    let form = Form::from_json(FORM).expect("test data");
    let cols = columns(&form, &rows(2_000, 4));
    let cell = |query: &str, key: &str| {
        shown(&run(&form, &cols, query).expect("test data"))
            .get(key)
            .copied()
            .unwrap_or_else(|| panic!("{key} is shown by {query}"))
    };
    let women_in_the_north = cell("by=area,gender", r#"{"area":"north","gender":"f"}"#);
    assert_eq!(
        cell("by=gender&where=area=north", r#"{"gender":"f"}"#),
        women_in_the_north
    );
    assert_eq!(
        cell("by=area&where=gender=f", r#"{"area":"north"}"#),
        women_in_the_north
    );
    assert_eq!(
        cell(
            "by=area,gender,help",
            r#"{"area":"north","gender":"f","help":"*"}"#
        ),
        women_in_the_north
    );
    // A total of one table is the cell of the table without that dimension.
    assert_eq!(
        cell("by=gender", r#"{"gender":"f"}"#),
        cell("by=area,gender", r#"{"area":"*","gender":"f"}"#)
    );
    let once = serde_json::to_string(&run(&form, &cols, "by=area,help").expect("test data")).expect("json");
    let twice = serde_json::to_string(&run(&form, &cols, "by=area,help").expect("test data")).expect("json");
    assert_eq!(once, twice);
}

#[test]
fn adjustments_are_small_and_average_to_zero_over_a_large_table() {
    let form = Form::from_json(FORM).expect("test data");
    let cols = columns(&form, &rows(20_000, 5));
    let query = "by=area,gender,n";
    let truth = exact(&form, &cols, query);
    let perturbed = shown(&run_with(&form, &cols, query, 0, Disclosure::CellKey).expect("test data"));
    let adjustments: Vec<i64> = truth
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(key, n)| perturbed[key] as i64 - *n as i64)
        .collect();
    assert!(adjustments.len() > 50, "{}", adjustments.len());
    assert!(
        adjustments
            .iter()
            .all(|a| a.unsigned_abs() <= ptable::MAX_ADJUSTMENT)
    );
    assert!(adjustments.iter().any(|a| *a != 0), "counts are perturbed");
    let mean = adjustments.iter().sum::<i64>() as f64 / adjustments.len() as f64;
    assert!(
        mean.abs() < 0.1,
        "mean adjustment {mean} over {} cells",
        adjustments.len()
    );
}

#[test]
fn empty_and_small_cells_are_suppressed_alike() {
    let form = Form::from_json(FORM).expect("test data");
    let cols = columns(&form, &rows(120, 6));
    let query = "by=area,gender,n";
    let truth = exact(&form, &cols, query);
    let table = run(&form, &cols, query).expect("test data");
    let mut empty_hidden = 0;
    for cell in &table.cells {
        let (key, hidden) = match cell {
            OutputCell::Shown { key, .. } => (key, false),
            OutputCell::Suppressed { key, suppressed } => {
                assert!(*suppressed);
                (key, true)
            }
        };
        let n = truth[&serde_json::to_string(key).expect("json")];
        if n < 11 - ptable::MAX_ADJUSTMENT {
            assert!(hidden, "{key:?} ({n}) is hidden");
        }
        empty_hidden += usize::from(n == 0);
    }
    assert!(
        empty_hidden > 0,
        "the test data has empty cells, and they are listed"
    );
}

#[test]
fn means_move_with_the_cell_key_and_never_with_a_query() {
    let form = Form::from_json(FORM).expect("test data");
    let cols = columns(&form, &rows(3_000, 7));
    let mean = |query: &str, disclosure| -> f64 {
        let table = run_with(&form, &cols, query, 11, disclosure).expect("test data");
        table
            .cells
            .iter()
            .find_map(|c| match c {
                OutputCell::Shown { key, value, .. }
                    if key["gender"] == "m" && key.get("area").is_none_or(|a| a == "*") =>
                {
                    Some(*value)
                }
                _ => None,
            })
            .expect("men are shown")
    };
    let protected = mean("by=gender&metric=mean:s1", Disclosure::CellKey);
    assert_eq!(
        protected,
        mean("by=gender,area&metric=mean:s1", Disclosure::CellKey)
    );
    let true_mean = mean("by=gender&metric=mean:s1", Disclosure::SuppressOnly);
    assert!((protected - true_mean).abs() < 0.05, "{protected} vs {true_mean}");
}

#[test]
fn queries_combine_at_most_three_dimensions_filters_and_windows() {
    let form = Form::from_json(FORM).expect("test data");
    let cols = columns(&form, &rows(50, 8));
    for query in [
        "by=area,gender&where=help=ngo&where=s1=3",
        "by=area,gender,help&from=2026-05-01",
        "by=area&where=gender=f&where=help=ngo&to=2026-12-01",
    ] {
        assert!(
            matches!(run(&form, &cols, query), Err(AggregateError::BadQuery(_))),
            "{query}"
        );
    }
    assert!(run(&form, &cols, "by=area&where=gender=f&from=2026-05-01").is_ok());
}

#[test]
fn score_means_flip_reverse_items() {
    let form = Form::from_json(FORM).expect("test data");
    let data: Vec<Row> = (0..30)
        .map(|i| Row {
            area: 0,
            day: 20_600,
            gender: 0,
            s1: 5,
            s2: 1,
            help: 0,
            n: i,
        })
        .collect();
    let cols = columns(&form, &data);
    let exact = |query| run_with(&form, &cols, query, 11, Disclosure::SuppressOnly).expect("test data");
    let table = exact("by=area&metric=mean:idx");
    assert!(matches!(&table.cells[0], OutputCell::Shown { n: 30, value, .. } if *value == 5.0));
    let table = exact("by=area&metric=mean:s2");
    assert!(
        matches!(&table.cells[0], OutputCell::Shown { value, .. } if *value == 1.0),
        "a lone item is its raw mean"
    );
    let table = exact("by=n");
    assert_eq!(table.cells.len(), 5 + 1, "five bins of 10 and the total");
}
