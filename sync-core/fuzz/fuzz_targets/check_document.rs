#![no_main]
//! Arbitrary document bytes through `check_document`, against a form with every question type.

use libfuzzer_sys::fuzz_target;
use sync_core::{Form, check_document, load_document};

const FORM: &str = r#"{ "id": "fuzz", "version": 1, "title": "Fuzz", "areas": ["north"],
  "questions": [
    { "id": "g", "type": "single", "label": "G", "options": ["f", "m"] },
    { "id": "l", "type": "likert", "label": "L", "scale": 5, "reverse": true },
    { "id": "m", "type": "multi", "label": "M", "options": ["a", "b"] },
    { "id": "n", "type": "integer", "label": "N", "min": 0, "max": 9 },
    { "id": "d", "type": "date", "label": "D" },
    { "id": "t", "type": "text", "label": "T", "max_len": 20 } ] }"#;

fuzz_target!(|bytes: &[u8]| {
    let form = Form::from_json(FORM).expect("fuzz form is valid");
    if let Ok(mut doc) = load_document(bytes) {
        let _ = check_document(&mut doc, Some(&form));
        let _ = check_document(&mut doc, None);
    }
});
