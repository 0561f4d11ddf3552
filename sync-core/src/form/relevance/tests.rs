//! Skip logic as the server and the documents layer apply it.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Answer, Day, Error, Form, ResponseEdit, response};

fn outreach() -> Value {
    json!({
        "id": "outreach", "version": 1, "title": "Outreach", "areas": ["north"],
        "default_language": "en", "title_translations": { "es": "Alcance" },
        "sections": [
            { "id": "start", "label": "Consent", "translations": { "es": "Consentimiento" } },
            { "id": "work", "label": "Work", "relevant": "${consent} = 'yes'" }
        ],
        "questions": [
            { "id": "intro", "type": "note", "label": "Taking part is voluntary.", "section": "start",
              "translations": { "es": "Participar es voluntario." } },
            { "id": "consent", "type": "single", "label": "Do you agree?", "options": ["yes", "no"], "required": true,
              "section": "start", "translations": { "es": { "label": "¿Acepta?", "options": { "yes": "Sí" } } } },
            { "id": "paid", "type": "single", "label": "Were you paid?", "options": ["yes", "no"], "required": true, "section": "work" },
            { "id": "owed", "type": "integer", "label": "Weeks unpaid", "min": 0, "max": 520, "required": true,
              "relevant": "${paid} = 'no'", "section": "work" },
            { "id": "safe", "type": "likert", "label": "I feel safe", "scale": 3, "section": "work",
              "labels": ["No", "Somewhat", "Yes"],
              "translations": { "es": { "label": "Me siento seguro", "points": ["No", "Algo", "Sí"] } } }
        ]
    })
}

fn answers(pairs: &[(&str, Answer)]) -> std::collections::BTreeMap<String, Answer> {
    pairs.iter().map(|(q, a)| (q.to_string(), a.clone())).collect()
}

fn single(id: &str) -> Answer {
    Answer::Single(id.into())
}

#[test]
fn sections_and_rules_decide_what_is_asked() {
    let form = Form::from_value(outreach()).expect("valid form");
    let asked = |given: &[(&str, Answer)]| {
        form.relevant_questions(&answers(given))
            .into_iter()
            .collect::<Vec<_>>()
    };
    assert_eq!(asked(&[]), ["consent", "intro"]);
    assert_eq!(asked(&[("consent", single("no"))]), ["consent", "intro"]);
    assert_eq!(
        asked(&[("consent", single("yes"))]),
        ["consent", "intro", "paid", "safe"]
    );
    assert_eq!(
        asked(&[("consent", single("yes")), ("paid", single("no"))]),
        ["consent", "intro", "owed", "paid", "safe"]
    );
    // A hidden answer is never seen by a later rule.
    assert_eq!(
        asked(&[("consent", single("no")), ("paid", single("no"))]),
        ["consent", "intro"]
    );
}

#[test]
fn a_complete_response_answers_what_was_asked_and_nothing_else() {
    let form = Form::from_value(outreach()).expect("valid form");
    assert_eq!(
        form.check_complete(&answers(&[("consent", single("no"))])),
        Ok(())
    );
    assert_eq!(
        form.check_complete(&answers(&[("consent", single("no")), ("paid", single("yes"))])),
        Err(Error::IrrelevantAnswer {
            question: "paid".into()
        })
    );
    assert_eq!(
        form.check_complete(&answers(&[("consent", single("yes")), ("paid", single("no"))])),
        Err(Error::MissingAnswer {
            question: "owed".into()
        })
    );
}

#[test]
fn refuses_bad_rules_sections_and_translations_naming_where() {
    let refused = |path: &str, value: Value| {
        let mut form = outreach();
        *form.pointer_mut(path).expect(path) = value;
        Form::from_value(form).expect_err(path)
    };
    let bad_rule = refused("/questions/3/relevant", json!("${safe} > 1"));
    assert!(
        matches!(&bad_rule, Error::BadExpression { at, .. } if at == "question \"owed\""),
        "{bad_rule}"
    );
    assert_eq!(bad_rule.code(), "bad_expression");
    let bad_section_rule = refused("/sections/1/relevant", json!("${paid} = 'no'"));
    assert!(
        bad_section_rule.to_string().contains("section \"work\""),
        "{bad_section_rule}"
    );
    assert!(matches!(
        refused("/questions/4/section", json!("start")),
        Error::BadSection { .. }
    ));
    assert!(matches!(
        refused("/questions/2/section", json!("nowhere")),
        Error::BadSection { .. }
    ));
    assert!(matches!(
        refused(
            "/questions/1/translations/es/options",
            json!({ "maybe": "Quizás" })
        ),
        Error::BadTranslation { .. }
    ));
    assert!(matches!(
        refused("/questions/4/translations/es/points", json!(["No"])),
        Error::BadTranslation { .. }
    ));
    assert!(matches!(
        refused("/questions/4/labels", json!(["No"])),
        Error::FormShape(_)
    ));
    let mut required_note = outreach();
    required_note["questions"][0]["required"] = json!(true);
    assert!(matches!(
        Form::from_value(required_note),
        Err(Error::WrongAnswerType { .. })
    ));
}

#[test]
fn identifying_checks_read_notes_sections_and_every_translation() {
    let refused = |path: &str, value: Value| {
        let mut form = outreach();
        *form.pointer_mut(path).expect(path) = value;
        Form::from_value(form)
    };
    for (path, text) in [
        ("/sections/1/label", json!("Your phone number")),
        ("/sections/0/translations/es", json!("Su número de teléfono")),
        ("/questions/0/label", json!("Write down your full name")),
        ("/questions/4/translations/es/label", json!("Nombre completo")),
    ] {
        assert!(
            matches!(
                refused(path, text.clone()),
                Err(Error::IdentifyingQuestion { .. })
            ),
            "{path}: {text}"
        );
    }
}

#[test]
fn edits_clear_answers_that_stop_applying_and_submitted_documents_are_checked() {
    let form = Form::from_value(outreach()).expect("valid form");
    let edit = |answers: &[(&str, Answer)], submit| ResponseEdit {
        area: Some("north".into()),
        collected_on: Some(Day::parse("2026-11-20").expect("day")),
        answers: answers.iter().map(|(q, a)| (q.to_string(), a.clone())).collect(),
        cleared: Vec::new(),
        submit,
    };
    let mut doc = response::create(
        Uuid::new_v4(),
        &form,
        &edit(
            &[
                ("consent", single("yes")),
                ("paid", single("no")),
                ("owed", Answer::Integer(3)),
            ],
            false,
        ),
    )
    .expect("draft");
    response::apply_edit(&mut doc, &form, &edit(&[("consent", single("no"))], true)).expect("submitted");
    let view = response::read(&doc, &form).expect("reads");
    assert_eq!(
        view.answers,
        answers(&[("consent", single("no"))]),
        "the work answers were cleared"
    );

    // A device that kept a hidden answer anyway is refused when the response is read.
    let lax = Form::from_value({
        let mut lax = outreach();
        lax["sections"][1]["relevant"] = Value::Null;
        lax["questions"][3]["relevant"] = Value::Null;
        lax["questions"][3]["required"] = json!(false);
        lax
    })
    .expect("valid form");
    let stale = response::create(
        Uuid::new_v4(),
        &lax,
        &edit(&[("consent", single("no")), ("paid", single("yes"))], true),
    )
    .expect("lax form asks everything");
    assert_eq!(
        response::read(&stale, &form),
        Err(Error::IrrelevantAnswer {
            question: "paid".into()
        })
    );
}

#[test]
fn forms_of_the_first_shape_still_parse() {
    let old = json!({
        "id": "old", "version": 3, "title": "Old", "areas": ["north"],
        "questions": [{ "id": "q1", "type": "likert", "label": "Q", "scale": 5, "reverse": false, "translations": { "th": "คำถาม" } }]
    });
    let form = Form::from_value(old.clone()).expect("old shape");
    assert_eq!(serde_json::to_value(&form).expect("json"), old);
}
