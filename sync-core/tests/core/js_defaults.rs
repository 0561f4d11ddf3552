//! Documents typed by the JS Automerge library itself (tests/fixtures/js/js-defaults.mjs): where
//! its defaults differ from the Rust writer, the document is either read as its author meant
//! or refused with the error that names the field, never half-read.

use std::collections::BTreeMap;

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use sync_core::{
    Answer, CheckedDocument, ClientEngine, DocEntry, Error, Form, Limits, MergeOutcome, MergedDocument,
    PROTOCOL_VERSION, ResponseEdit, ResponseStatus, ResponseView, SyncRequest, SyncResponse, decode_request,
    merge_incoming,
};

const REQUEST: &[u8] = include_bytes!("../fixtures/js/defaults_v1.cbor");
const SIDECAR: &str = include_str!("../fixtures/js/defaults_v1.json");
const FORM: &str = include_str!("../fixtures/js/form.json");

fn form() -> Form {
    Form::from_json(FORM).expect("fixture form")
}

fn request() -> SyncRequest {
    decode_request(REQUEST, &Limits::default()).expect("decodes")
}

/// The request's entry of one case of js-defaults.mjs.
fn entry(request: &SyncRequest, case: &str) -> DocEntry {
    let sidecar: serde_json::Value = serde_json::from_str(SIDECAR).expect("sidecar");
    let id = sidecar["docs"]
        .as_array()
        .expect("docs")
        .iter()
        .find(|d| d["case"] == case)
        .and_then(|d| d["id"].as_str())
        .unwrap_or_else(|| panic!("no case {case}"));
    request
        .docs
        .iter()
        .find(|e| e.id.to_string() == id)
        .cloned()
        .unwrap_or_else(|| panic!("case {case} is not in the request"))
}

fn merged(changes: &[serde_bytes::ByteBuf], stored: Option<&[u8]>) -> Result<MergedDocument, Error> {
    match merge_incoming(stored, changes)? {
        MergeOutcome::Merged(merged) => Ok(*merged),
        MergeOutcome::NeedAll => panic!("every change was sent"),
    }
}

/// Merges a case's changes into nothing, as the server does for a document it has not seen,
/// and checks the result.
fn check(request: &SyncRequest, case: &str) -> Result<CheckedDocument, Error> {
    let entry = entry(request, case);
    merged(&entry.changes, None)?.validate(entry.kind, Some(&form()))
}

fn response(request: &SyncRequest, case: &str) -> ResponseView {
    match check(request, case) {
        Ok(CheckedDocument::Response(view)) => view,
        other => panic!("{case}: {other:?}"),
    }
}

fn answers(list: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
    list.iter().map(|(q, a)| (q.to_string(), a.clone())).collect()
}

/// What the JS library wrote at `path` (`answers.contacts`), so a fixture cannot silently stop
/// probing what it is meant to.
fn raw(request: &SyncRequest, case: &str, path: &str) -> ScalarValue {
    let doc: AutoCommit = merged(&entry(request, case).changes, None)
        .expect("merges")
        .into_document();
    let (parent, key) = match path.split_once('.') {
        Some((map, key)) => match doc.get(ROOT, map).expect("get") {
            Some((Value::Object(ObjType::Map), id)) => (id, key),
            other => panic!("{case}: {map} is {other:?}"),
        },
        None => (ROOT, path),
    };
    match doc.get(parent, key).expect("get") {
        Some((Value::Scalar(value), _)) => value.into_owned(),
        other => panic!("{case}: {path} is {other:?}"),
    }
}

#[test]
fn whole_numbers_the_library_wrote_as_floats_read_as_whole_numbers() {
    let request = request();
    assert!(matches!(raw(&request, "zero", "answers.contacts"), ScalarValue::F64(x) if x == 0.0));
    assert!(
        matches!(raw(&request, "negative_zero", "answers.contacts"), ScalarValue::F64(x) if x == 0.0 && x.is_sign_negative())
    );
    assert!(matches!(raw(&request, "negative", "answers.change"), ScalarValue::F64(x) if x == -3.0));
    assert!(matches!(
        raw(&request, "one", "answers.contacts"),
        ScalarValue::Int(1)
    ));
    assert!(matches!(raw(&request, "form_version_float", "form_version"), ScalarValue::F64(x) if x == 1.0));
    assert!(matches!(
        raw(&request, "explicit_types", "answers.contacts"),
        ScalarValue::Uint(7)
    ));

    let f = || Answer::Single("f".into());
    assert_eq!(
        response(&request, "zero").answers,
        answers(&[
            ("gender", f()),
            ("s1", Answer::Likert(3)),
            ("contacts", Answer::Integer(0))
        ])
    );
    assert_eq!(
        response(&request, "negative_zero").answers["contacts"],
        Answer::Integer(0)
    );
    assert_eq!(
        response(&request, "one").answers,
        answers(&[
            ("gender", Answer::Single("m".into())),
            ("s1", Answer::Likert(1)),
            ("contacts", Answer::Integer(1)),
            ("help", Answer::Multi(vec!["ngo".into(), "clinic".into()])),
        ])
    );
    assert_eq!(
        response(&request, "negative").answers["change"],
        Answer::Integer(-3)
    );
    let root_float = response(&request, "form_version_float");
    assert_eq!(
        (root_float.form_version, &root_float.answers["contacts"]),
        (1, &Answer::Integer(0))
    );
    assert_eq!(
        response(&request, "explicit_types").answers,
        answers(&[
            ("gender", Answer::Single("m".into())),
            ("s1", Answer::Likert(4)),
            ("contacts", Answer::Integer(7)),
            ("change", Answer::Integer(-2)),
        ])
    );
}

#[test]
fn numbers_that_are_not_exact_whole_numbers_in_range_are_refused() {
    let request = request();
    let not_whole = |field: &str| Error::FieldType {
        field: field.into(),
        expected: "a whole number",
    };
    let out_of_range = |question: &str, value, min, max| Error::OutOfRange {
        question: question.into(),
        value,
        min,
        max,
    };
    for (case, error) in [
        ("fraction", not_whole("s1")),
        ("form_version_fraction", not_whole("form_version")),
        ("beyond_safe", not_whole("change")),
        ("nan", not_whole("contacts")),
        ("infinity", not_whole("contacts")),
        (
            "largest_safe",
            out_of_range("contacts", 9_007_199_254_740_991, 0, 500),
        ),
        ("negative_out_of_range", out_of_range("contacts", -1, 0, 500)),
        (
            "form_version_largest_safe",
            Error::UnknownForm {
                form: "js-fixture".into(),
                version: 9_007_199_254_740_991,
            },
        ),
    ] {
        assert_eq!(check(&request, case).err(), Some(error), "{case}");
    }
    assert!(matches!(raw(&request, "fraction", "answers.s1"), ScalarValue::F64(x) if x == 2.5));
    assert!(matches!(
        raw(&request, "largest_safe", "answers.contacts"),
        ScalarValue::Int(_)
    ));
}

#[test]
fn other_library_defaults_that_are_refused() {
    let request = request();
    let field = |field: &str, expected| Error::FieldType {
        field: field.into(),
        expected,
    };
    for (case, error) in [
        // `new A.Int(3)` inside an object literal is written as a map `{ value: 3 }`.
        ("int_in_literal", field("s1", "a plain value")),
        ("counter_answer", field("contacts", "a whole number")),
        ("null_answer", field("notes", "text")),
        // `new Date()` is an Automerge timestamp, not the day as text.
        ("date", field("collected_on", "text")),
        ("message", Error::ChangeMetadata),
        ("author", Error::ChangeMetadata),
        ("site_plain_numbers", Error::NotACounter("contacts".into())),
    ] {
        assert_eq!(check(&request, case).err(), Some(error), "{case}");
    }
    assert!(matches!(
        raw(&request, "date", "collected_on"),
        ScalarValue::Timestamp(_)
    ));
}

#[test]
fn counters_made_by_the_library_tally_and_edits_merge_change_by_change() {
    let request = request();
    match check(&request, "site") {
        Ok(CheckedDocument::Site(site)) => assert_eq!(
            site.tallies,
            BTreeMap::from([("contacts".into(), 2), ("kits".into(), 2)])
        ),
        other => panic!("site: {other:?}"),
    }

    // The first change alone, stored, then the two edits merged into it.
    let edited = entry(&request, "edited_twice");
    assert_eq!(edited.changes.len(), 3);
    let mut first = merged(&edited.changes[..1], None).expect("merges");
    match first.validate(edited.kind, Some(&form())) {
        Ok(CheckedDocument::Response(draft)) => {
            assert_eq!(draft.status, ResponseStatus::Draft);
            assert_eq!(draft.answers["contacts"], Answer::Integer(5));
        }
        other => panic!("first change: {other:?}"),
    }
    let stored = first.save();
    let mut rest = merged(&edited.changes[1..], Some(&stored)).expect("merges");
    match rest.validate(edited.kind, Some(&form())) {
        Ok(CheckedDocument::Response(view)) => {
            assert_eq!(view.status, ResponseStatus::Submitted);
            assert_eq!(
                view.answers,
                answers(&[
                    ("gender", Answer::Single("f".into())),
                    ("s1", Answer::Likert(5)),
                    ("contacts", Answer::Integer(0)),
                    ("change", Answer::Integer(-1)),
                ])
            );
        }
        other => panic!("all changes: {other:?}"),
    }
}

#[test]
fn concurrent_text_and_float_values_are_shown_to_reviewers_as_read() {
    let request = request();
    let conflicted = entry(&request, "concurrent_edits");
    let mut merged = merged(&conflicted.changes, None).expect("merges");
    assert!(merged.validate(conflicted.kind, Some(&form())).is_ok());
    let found: BTreeMap<String, Vec<String>> = merged
        .conflicts()
        .into_iter()
        .map(|c| {
            let mut values = c.values;
            values.sort();
            (c.path, values)
        })
        .collect();
    assert_eq!(
        found,
        BTreeMap::from([
            ("answers.contacts".into(), vec!["0".into(), "3".into()]),
            ("answers.gender".into(), vec!["m".into(), "x".into()]),
        ])
    );
}

/// A phone running the Rust engine receives documents a JS phone wrote (a shared site, a
/// response sent back to its device) and reads and edits them like its own.
#[test]
fn the_client_engine_reads_and_edits_what_a_javascript_client_wrote() {
    let request = request();
    let form = form();
    let mut engine = ClientEngine::new(request.dataset, 1);
    let form_doc = {
        let mut doc = sync_core::form_doc::create(request.dataset, &form).expect("form doc");
        let changes = doc
            .get_changes(&[])
            .into_iter()
            .map(|mut c| c.bytes().into_owned())
            .collect();
        DocEntry::new(
            uuid::Uuid::new_v4(),
            sync_core::DocKind::Form,
            &doc.get_heads(),
            changes,
        )
    };
    let (zero, site) = (entry(&request, "zero"), entry(&request, "site"));
    engine
        .apply_response(&SyncResponse {
            v: PROTOCOL_VERSION,
            epoch: 1,
            reset: false,
            docs: vec![form_doc, zero.clone(), site.clone()],
            rejected: Vec::new(),
            need_all: Vec::new(),
            more: false,
            totals: None,
        })
        .expect("applies");
    assert_eq!(engine.sites()[0].1.tallies["contacts"], 2);
    assert_eq!(
        engine.response(zero.id).expect("reads").answers["contacts"],
        Answer::Integer(0)
    );
    let edit = ResponseEdit {
        answers: vec![("s1".into(), Answer::Likert(4))],
        ..ResponseEdit::default()
    };
    engine.edit_response(zero.id, &edit).expect("edits");
    let view = engine.response(zero.id).expect("reads");
    assert_eq!(
        (&view.answers["contacts"], &view.answers["s1"]),
        (&Answer::Integer(0), &Answer::Likert(4))
    );
    engine.bump_tally(site.id, "kits", 1).expect("bumps");
    assert_eq!(engine.sites()[0].1.tallies["kits"], 3);
}
