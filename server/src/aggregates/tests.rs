//! The disclosure rules against brute-force counts and the attacks analysts could try.

use std::collections::HashMap;

use super::AggregateError;
use super::columns::FormColumns;
use super::query::AggregateQuery;
use super::table::{AggregateTable, OutputCell, aggregate};
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
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::new_v4()).collect();
    for (row, id) in rows.iter().zip(&ids) {
        cols.push_response(*id, true, &form.areas[row.area], Day::from_days(row.day));
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

fn run(form: &Form, cols: &FormColumns, query: &str) -> Result<AggregateTable, AggregateError> {
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    aggregate(form, cols, &AggregateQuery::parse(form, &pairs)?, 11)
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
    let table = run(&form, &cols, "by=area,gender").expect("test data");
    for cell in &table.cells {
        if let OutputCell::Shown { key, n, .. } = cell {
            let area = form
                .areas
                .iter()
                .position(|a| key["area"] == *a)
                .expect("test data");
            let gender = ["f", "m", "x"]
                .iter()
                .position(|g| key["gender"] == *g)
                .expect("test data");
            let expected = data
                .iter()
                .filter(|r| r.area == area && r.gender == gender)
                .count() as u64;
            assert_eq!(*n, expected);
            assert!(*n >= 11);
        }
    }
    let again = run(&form, &cols, "by=area,gender").expect("test data");
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
fn removing_a_filter_never_isolates_a_small_group() {
    let form = Form::from_json(FORM).expect("test data");
    for seed in 0..30 {
        let data = rows(120 + seed as usize * 7, seed);
        let cols = columns(&form, &data);
        for (narrow, wide) in [
            ("by=gender&where=area=north", "by=gender"),
            ("by=help&where=area=south", "by=help"),
            ("by=area&where=gender=x", "by=area"),
            (
                "by=gender&where=area=east&where=help=ngo",
                "by=gender&where=help=ngo",
            ),
        ] {
            let (a, b) = (
                shown(&run(&form, &cols, narrow).expect("test data")),
                shown(&run(&form, &cols, wide).expect("test data")),
            );
            for (key, n) in &a {
                if let Some(m) = b.get(key) {
                    let between = m - n;
                    assert!(
                        between == 0 || between >= 11,
                        "{narrow} vs {wide}: {key} {n} vs {m}"
                    );
                }
            }
        }
    }
}

#[test]
fn moving_the_period_never_isolates_a_small_group() {
    let form = Form::from_json(FORM).expect("test data");
    let data = rows(300, 9);
    let cols = columns(&form, &data);
    for start in 0..40 {
        for shift in 1..4 {
            let d = |x: i64| Day::from_days(20_600 + x).to_string();
            let (late, early) = (
                format!("by=gender&from={}&to={}", d(start + shift), d(50)),
                format!("by=gender&from={}&to={}", d(start), d(50)),
            );
            let (a, b) = (
                shown(&run(&form, &cols, &late).expect("test data")),
                shown(&run(&form, &cols, &early).expect("test data")),
            );
            for (key, n) in &a {
                if let Some(m) = b.get(key) {
                    assert!(m - n == 0 || m - n >= 11, "{late} vs {early}: {key} {n} vs {m}");
                }
            }
        }
    }
}

#[test]
fn no_row_or_column_has_a_lone_suppressed_cell() {
    let form = Form::from_json(FORM).expect("test data");
    for seed in 0..20 {
        let cols = columns(&form, &rows(150, seed));
        let table = run(&form, &cols, "by=area,gender").expect("test data");
        let hidden: Vec<(String, String)> = table
            .cells
            .iter()
            .filter_map(|c| match c {
                OutputCell::Suppressed { key, .. } => {
                    Some((key["area"].to_string(), key["gender"].to_string()))
                }
                _ => None,
            })
            .collect();
        for area in ["\"north\"", "\"south\"", "\"east\""] {
            assert_ne!(
                hidden.iter().filter(|(a, _)| a == area).count(),
                1,
                "seed {seed} {hidden:?}"
            );
        }
        for gender in ["\"f\"", "\"m\"", "\"x\""] {
            assert_ne!(
                hidden.iter().filter(|(_, g)| g == gender).count(),
                1,
                "seed {seed} {hidden:?}"
            );
        }
    }
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
    let table = run(&form, &cols, "by=area&metric=mean:idx").expect("test data");
    assert!(matches!(&table.cells[0], OutputCell::Shown { n: 30, value, .. } if *value == 5.0));
    let table = run(&form, &cols, "by=area&metric=mean:s2").expect("test data");
    assert!(
        matches!(&table.cells[0], OutputCell::Shown { value, .. } if *value == 1.0),
        "a lone item is its raw mean"
    );
    let table = run(&form, &cols, "by=n").expect("test data");
    assert_eq!(table.cells.len(), 3, "30 values in bins of 10");
}
