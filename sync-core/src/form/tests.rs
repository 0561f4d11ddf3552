use super::*;
use serde_json::json;

use crate::Day;

fn base() -> serde_json::Value {
    json!({
        "id": "community-stigma", "version": 1, "title": "Community attitudes survey",
        "areas": ["north", "south", "east"],
        "questions": [
            { "id": "gender", "type": "single", "label": "Gender", "options": ["f", "m", "x"] },
            { "id": "s1", "type": "likert", "label": "People like them are to blame", "scale": 5 },
            { "id": "s2", "type": "likert", "label": "I would welcome them back", "scale": 5, "reverse": true },
            { "id": "help", "type": "multi", "label": "Who would you go to?", "options": [{ "id": "ngo", "label": "An NGO" }, "police"] },
            { "id": "contacts", "type": "integer", "label": "People met", "min": 0, "max": 500 },
            { "id": "visit", "type": "date", "label": "Day of last visit" },
            { "id": "notes", "type": "text", "label": "Notes", "max_len": 200 }
        ],
        "scores": [ { "id": "stigma", "label": "Stigma index", "items": ["s1", "s2"], "method": "mean" } ]
    })
}

fn with(path: &[&str], value: serde_json::Value) -> serde_json::Value {
    let mut form = base();
    let mut target = &mut form;
    for key in &path[..path.len() - 1] {
        target = match key.parse::<usize>() {
            Ok(i) => &mut target[i],
            Err(_) => &mut target[*key],
        };
    }
    let last = path[path.len() - 1];
    match last.parse::<usize>() {
        Ok(i) => target[i] = value,
        Err(_) => target[last] = value,
    }
    form
}

#[test]
fn parses_the_design_example() {
    let form = Form::from_value(base()).expect("valid form");
    assert_eq!(form.questions.len(), 7);
    assert_eq!(form.question("help").map(|q| q.kind.type_name()), Ok("multi"));
    let QuestionKind::Multi { options } = &form.question("help").expect("help").kind else {
        panic!("multi")
    };
    assert_eq!(options[0].label(), "An NGO");
    assert_eq!(options[1].label(), "police");
    // A form survives a round trip through its JSON.
    assert_eq!(Form::from_json(&form.to_json()), Ok(form));
}

#[test]
fn scores_flip_reverse_items() {
    let form = Form::from_value(base()).expect("valid form");
    let stigma = form.score("stigma").expect("score");
    let answers = |q: &str| match q {
        "s1" => Some(5),
        "s2" => Some(1),
        _ => None,
    };
    // s2 is reverse coded on a 5-point scale: 1 counts as 5.
    assert_eq!(form.compute_score(stigma, answers), Some(5.0));
    assert_eq!(
        form.compute_score(stigma, |q| (q == "s1").then_some(3)),
        None,
        "partial scores are not scores"
    );
}

#[test]
fn refuses_structural_mistakes_with_precise_errors() {
    let cases: Vec<(serde_json::Value, Error)> = vec![
        (
            with(&["questions", "1", "id"], json!("gender")),
            Error::DuplicateId("gender".into()),
        ),
        (
            with(&["questions", "0", "options"], json!([])),
            Error::EmptyOptions {
                question: "gender".into(),
            },
        ),
        (
            with(&["questions", "1", "scale"], json!(8)),
            Error::ScaleOutOfRange {
                question: "s1".into(),
                scale: 8,
            },
        ),
        (
            with(&["questions", "1", "scale"], json!(2)),
            Error::ScaleOutOfRange {
                question: "s1".into(),
                scale: 2,
            },
        ),
        (
            with(&["questions", "4", "min"], json!(600)),
            Error::MinAboveMax {
                question: "contacts".into(),
                min: 600,
                max: 500,
            },
        ),
        (
            with(&["questions", "6", "max_len"], json!(0)),
            Error::BadTextLimit {
                question: "notes".into(),
                max_len: 0,
            },
        ),
        (
            with(&["scores", "0", "items"], json!(["s1", "gender"])),
            Error::ScoreItemNotLikert {
                score: "stigma".into(),
                item: "gender".into(),
            },
        ),
        (
            with(&["scores", "0", "items"], json!(["s1", "nope"])),
            Error::ScoreItemNotLikert {
                score: "stigma".into(),
                item: "nope".into(),
            },
        ),
        (
            with(&["scores", "0", "items"], json!([])),
            Error::EmptyScore {
                score: "stigma".into(),
            },
        ),
        (
            with(&["scores", "0", "id"], json!("s1")),
            Error::DuplicateId("s1".into()),
        ),
        (with(&["areas"], json!([])), Error::NoAreas),
        (
            with(&["areas"], json!(["north", "north"])),
            Error::DuplicateId("north".into()),
        ),
        (with(&["questions"], json!([])), Error::NoQuestions),
        (with(&["title"], json!("  ")), Error::EmptyTitle),
        (
            with(&["version"], json!(0)),
            Error::BadVersion("community-stigma".into()),
        ),
        (
            with(&["questions", "0", "options", "1"], json!("f")),
            Error::DuplicateId("f".into()),
        ),
        (
            with(&["questions", "1", "id"], json!("area")),
            Error::ReservedId("area".into()),
        ),
        (
            with(&["id"], json!("Bad Id")),
            Error::BadIdentifier {
                what: "form id",
                value: "Bad Id".into(),
            },
        ),
        (
            with(&["questions", "0", "options", "0"], json!("F!")),
            Error::BadIdentifier {
                what: "option id",
                value: "F!".into(),
            },
        ),
    ];
    for (form, expected) in cases {
        assert_eq!(Form::from_value(form.clone()), Err(expected), "{form}");
    }
}

#[test]
fn refuses_shapes_serde_cannot_read() {
    for form in [
        with(&["questions", "0", "type"], json!("slider")),
        with(&["questions", "1", "scale"], json!("five")),
        with(&["areas"], json!("north")),
        json!([1, 2, 3]),
    ] {
        assert!(matches!(Form::from_value(form), Err(Error::FormShape(_))));
    }
    assert!(matches!(Form::from_json("{not json"), Err(Error::FormShape(_))));
}

#[test]
fn refuses_identifying_questions_by_type_id_or_label() {
    let cases = [
        (
            with(&["questions", "6", "type"], json!("phone")),
            "a phone number",
        ),
        (with(&["questions", "6", "type"], json!("geopoint")), "a location"),
        (
            with(&["questions", "6", "type"], json!("email")),
            "an e-mail address",
        ),
        (with(&["questions", "6", "id"], json!("phone")), "a phone number"),
        (with(&["questions", "6", "id"], json!("full_name")), "a name"),
        (with(&["questions", "6", "id"], json!("dob")), "a date of birth"),
        (
            with(&["questions", "5", "id"], json!("date_of_birth")),
            "a date of birth",
        ),
        (with(&["questions", "6", "id"], json!("gps-lat")), "a location"),
        (
            with(&["questions", "6", "id"], json!("e-mail")),
            "an e-mail address",
        ),
        (
            with(&["questions", "6", "label"], json!("What is your phone number?")),
            "a phone number",
        ),
        (
            with(&["questions", "6", "label"], json!("Respondent's full name")),
            "a name",
        ),
        (
            with(&["questions", "5", "label"], json!("Date of birth")),
            "a date of birth",
        ),
        (
            with(&["questions", "6", "label"], json!("E-mail to send results to")),
            "an e-mail address",
        ),
        (
            with(&["questions", "6", "hint"], json!("write the GPS coordinates")),
            "a location",
        ),
    ];
    for (form, what) in cases {
        match Form::from_value(form.clone()) {
            Err(err @ Error::IdentifyingQuestion { what: found, .. }) => {
                assert_eq!(found, what, "{form}");
                assert_eq!(err.code(), "identifying_question");
                assert!(err.to_string().contains("never collects identifying information"));
            }
            other => panic!("expected a refusal for {form}, got {other:?}"),
        }
    }
}

#[test]
fn keeps_questions_that_only_look_similar() {
    for (path, value) in [
        (
            &["questions", "6", "label"][..],
            json!("Which services were named by the respondent?"),
        ),
        (
            &["questions", "4", "label"][..],
            json!("How many phones did the team hand out?"),
        ),
        (&["questions", "6", "id"][..], json!("site_notes")),
    ] {
        assert!(Form::from_value(with(path, value.clone())).is_ok(), "{value}");
    }
}

#[test]
fn checks_answers_against_the_form() {
    let form = Form::from_value(base()).expect("valid form");
    let day = Day::parse("2026-11-20").expect("day");
    let ok = [
        ("gender", crate::Answer::Single("f".into())),
        ("s1", crate::Answer::Likert(5)),
        ("help", crate::Answer::Multi(vec!["ngo".into(), "police".into()])),
        ("contacts", crate::Answer::Integer(0)),
        ("visit", crate::Answer::Date(day)),
        ("notes", crate::Answer::Text("gave 2 kits".into())),
    ];
    for (q, a) in &ok {
        assert_eq!(form.check_answer(q, a), Ok(()), "{q}");
    }
    let bad = [
        ("gender", crate::Answer::Single("z".into()), "invalid"),
        ("gender", crate::Answer::Likert(1), "invalid"),
        ("s1", crate::Answer::Likert(6), "invalid"),
        ("s1", crate::Answer::Likert(0), "invalid"),
        (
            "help",
            crate::Answer::Multi(vec!["ngo".into(), "ngo".into()]),
            "invalid",
        ),
        ("help", crate::Answer::Multi(vec!["army".into()]), "invalid"),
        ("contacts", crate::Answer::Integer(501), "invalid"),
        ("notes", crate::Answer::Text("x".repeat(201)), "invalid"),
        ("nope", crate::Answer::Integer(1), "invalid"),
    ];
    for (q, a, code) in bad {
        let err = form.check_answer(q, &a).expect_err(q);
        assert_eq!(err.code(), code, "{q}: {err}");
    }
}

#[test]
fn reads_answers_from_json_and_scrubs_text() {
    let form = Form::from_value(base()).expect("valid form");
    let text = crate::Answer::from_json(&form, "notes", &json!("call me on +44 7700 900123")).expect("text");
    let crate::Answer::Text(scrubbed) = &text else {
        panic!("text")
    };
    assert!(crate::is_scrubbed(scrubbed));
    assert_eq!(
        crate::Answer::from_json(&form, "s1", &json!(4)),
        Ok(crate::Answer::Likert(4))
    );
    assert!(crate::Answer::from_json(&form, "s1", &json!("4")).is_err());
    assert!(crate::Answer::from_json(&form, "help", &json!("ngo")).is_err());
    assert!(crate::Answer::from_json(&form, "visit", &json!("2026-11-20T10:00:00Z")).is_err());
}

/// The example in `docs/forms.md` is a form this crate accepts, so the doc stays true.
#[test]
fn the_documented_example_form_is_valid() {
    let doc = include_str!("../../../docs/forms.md");
    let start = doc.find("```json\n").expect("a json example") + "```json\n".len();
    let end = start + doc[start..].find("```").expect("its end");
    let form = Form::from_json(&doc[start..end]).expect("the documented form");
    assert_eq!(form.sections.len(), 2);
}
