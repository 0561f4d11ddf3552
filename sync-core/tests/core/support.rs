//! A small form and helpers shared by the suites.

use std::sync::OnceLock;

use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sync_core::{Answer, Day, Form, ResponseEdit};

pub const FORM_JSON: &str = r#"{
  "id": "outreach", "version": 1, "title": "Outreach contact log",
  "areas": ["north", "south"],
  "questions": [
    { "id": "gender", "type": "single", "label": "Gender", "options": ["f", "m", "x"] },
    { "id": "s1", "type": "likert", "label": "Feels safe at work", "scale": 5 },
    { "id": "s2", "type": "likert", "label": "Would ask police for help", "scale": 5, "reverse": true },
    { "id": "help", "type": "multi", "label": "Services named", "options": ["ngo", "police", "clinic"] },
    { "id": "contacts", "type": "integer", "label": "People met", "min": 0, "max": 50 },
    { "id": "visit", "type": "date", "label": "Day of last visit" },
    { "id": "notes", "type": "text", "label": "Notes", "max_len": 100 }
  ],
  "scores": [ { "id": "safety", "label": "Safety index", "items": ["s1", "s2"], "method": "mean" } ]
}"#;

pub fn form() -> &'static Form {
    static FORM: OnceLock<Form> = OnceLock::new();
    FORM.get_or_init(|| Form::from_json(FORM_JSON).expect("test form is valid"))
}

pub fn day(text: &str) -> Day {
    Day::parse(text).expect("test day")
}

/// A full set of answers derived from one number, so random tests can name answers cheaply.
pub fn answers_from(seed: u32) -> Vec<(String, Answer)> {
    let pick = |n: u32, of: u32| seed.wrapping_mul(2_654_435_761).rotate_left(n) % of;
    let options = ["ngo", "police", "clinic"];
    let help = options
        .iter()
        .enumerate()
        .filter(|(i, _)| pick(*i as u32 + 7, 2) == 1)
        .map(|(_, o)| o.to_string());
    vec![
        (
            "gender".into(),
            Answer::Single(["f", "m", "x"][pick(1, 3) as usize].into()),
        ),
        ("s1".into(), Answer::Likert(i64::from(pick(2, 5)) + 1)),
        ("s2".into(), Answer::Likert(i64::from(pick(3, 5)) + 1)),
        ("help".into(), Answer::Multi(help.collect())),
        ("contacts".into(), Answer::Integer(i64::from(pick(4, 51)))),
        (
            "visit".into(),
            Answer::Date(Day::from_days(20_000 + i64::from(pick(5, 300)))),
        ),
        ("notes".into(), Answer::Text(format!("gave {} kits", pick(6, 9)))),
    ]
}

pub fn new_response_edit(seed: u32) -> ResponseEdit {
    ResponseEdit {
        area: Some(if seed.is_multiple_of(2) { "north" } else { "south" }.into()),
        collected_on: Some(day("2026-11-20")),
        answers: answers_from(seed),
        cleared: Vec::new(),
        submit: !seed.is_multiple_of(3),
    }
}

/// A proptest runner seeded from `SYNC_TEST_SEED` (a number) when set, so a failure printed by
/// CI replays exactly on a laptop; otherwise from a fresh random seed that is printed.
pub fn seeded_runner() -> TestRunner {
    let seed: u64 = match std::env::var("SYNC_TEST_SEED") {
        Ok(text) => text.parse().expect("SYNC_TEST_SEED must be a number"),
        Err(_) => {
            let bytes = *uuid::Uuid::new_v4().as_bytes();
            u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
        }
    };
    eprintln!("random test seed: SYNC_TEST_SEED={seed}");
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}
