//! Native tests of the wrapper's conversions: the waiting marks of the lists, state import
//! and its refusals as the app reads them, the request the app sends, and the questions shown
//! while typing. What the engine does is tested in sync-core; the `#[wasm_bindgen]` methods in
//! a browser are driven by the browser tests.

use sync_core::{
    ClientEngine, DocEntry, DocKind, Form, PROTOCOL_VERSION, REQUEST_CHANGE_BYTES, ResponseEdit,
    SyncResponse, encode_request, form_doc,
};
use uuid::Uuid;

use crate::SurveyClient;
use crate::relevance::relevant_questions;
use crate::views::{responses, waiting_ids};

const FORM: &str = r#"{ "id": "contact", "version": 1, "title": "Contact", "areas": ["north"],
  "questions": [ { "id": "s1", "type": "likert", "label": "Agree?", "scale": 5 },
                 { "id": "notes", "type": "text", "label": "Notes" } ] }"#;

fn engine_with_form() -> (ClientEngine, Form) {
    let dataset = Uuid::new_v4();
    let form = Form::from_json(FORM).expect("form parses");
    let mut doc = form_doc::create(dataset, &form).expect("form document");
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    let mut engine = ClientEngine::new(dataset, 1);
    let heads = doc.get_heads();
    engine
        .apply_response(&reply(vec![DocEntry::new(
            Uuid::new_v4(),
            DocKind::Form,
            &heads,
            changes,
        )]))
        .expect("form arrives");
    (engine, form)
}

fn reply(docs: Vec<DocEntry>) -> SyncResponse {
    SyncResponse {
        v: PROTOCOL_VERSION,
        epoch: 1,
        reset: false,
        docs,
        rejected: Vec::new(),
        need_all: Vec::new(),
        more: false,
        totals: None,
    }
}

fn answer(form: &Form, json: &str) -> ResponseEdit {
    ResponseEdit::from_json(form, &serde_json::from_str(json).expect("json")).expect("edit")
}

#[test]
fn waiting_lists_exactly_the_unconfirmed_documents() {
    let (mut engine, form) = engine_with_form();
    assert!(
        waiting_ids(&mut engine).is_empty(),
        "a received form is not waiting"
    );
    let id = engine
        .create_response(
            "contact",
            &answer(&form, r#"{"area":"north","collected_on":"2026-11-20"}"#),
        )
        .expect("created");
    assert_eq!(waiting_ids(&mut engine).into_iter().collect::<Vec<_>>(), vec![id]);
    let listed = responses(&mut engine);
    assert_eq!(listed[0]["waiting"], true);
    assert_eq!(listed[0]["status"], "draft");
    assert_eq!(
        engine.pending_count(),
        1,
        "asking does not change what is pending"
    );
}

#[test]
fn import_adds_documents_keeps_unsent_unsent_and_loses_nothing_made_since() {
    let (mut phone, form) = engine_with_form();
    let first = phone
        .create_response(
            "contact",
            &answer(
                &form,
                r#"{"area":"north","collected_on":"2026-11-20","answers":{"s1":4}}"#,
            ),
        )
        .expect("created");
    let exported = phone.save();
    // After the export: an edit to the first response and a second response.
    phone
        .edit_response(first, &answer(&form, r#"{"answers":{"notes":"later"}}"#))
        .expect("edited");
    phone
        .create_response(
            "contact",
            &answer(&form, r#"{"area":"north","collected_on":"2026-11-21"}"#),
        )
        .expect("created");

    let mut app = SurveyClient { engine: phone };
    assert_eq!(app.import_state(&exported).expect("merges"), 0, "nothing new");
    let phone = app.engine_mut();
    let view = phone.response(first).expect("readable");
    assert_eq!(view.answers.len(), 2, "the later edit survives the import");
    assert_eq!(phone.document_ids(DocKind::Response).len(), 2);

    // Into an empty engine of the same dataset (a wiped browser): the form and the response
    // come back, and the never-confirmed response is waiting to be sent.
    let mut wiped = SurveyClient {
        engine: ClientEngine::new(phone.dataset(), 1),
    };
    assert_eq!(wiped.import_state(&exported).expect("merges"), 2);
    let wiped = wiped.engine_mut();
    assert_eq!(wiped.forms().len(), 1);
    assert!(waiting_ids(wiped).contains(&first));
    assert_eq!(
        wiped.pending_count(),
        1,
        "the form is not sent back to the server"
    );
}

#[test]
fn import_refuses_another_datasets_state() {
    let (mut one, _) = engine_with_form();
    let (other, _) = engine_with_form();
    let err = one.merge_engine(other).expect_err("refused");
    assert_eq!(crate::js_error::describe(&err).0, "wrong_dataset");
}

const SKIP_FORM: &str = r#"{ "id": "skip", "version": 1, "title": "Skip", "areas": ["north"],
  "sections": [ { "id": "start", "label": "Start" },
                { "id": "work", "label": "Work", "relevant": "${abroad} = 'yes'" } ],
  "questions": [
    { "id": "consent", "type": "note", "label": "Taking part is voluntary.", "section": "start" },
    { "id": "abroad", "type": "single", "label": "Worked abroad?", "options": ["yes", "no"], "section": "start" },
    { "id": "months", "type": "integer", "label": "Months away", "min": 1, "max": 120, "section": "work" },
    { "id": "paid", "type": "single", "label": "Paid as promised?", "options": ["yes", "no"],
      "relevant": "${months} > 3", "section": "work" } ] }"#;

fn shown(answers: &str) -> Vec<String> {
    let form = Form::from_json(SKIP_FORM).expect("form parses");
    relevant_questions(&form, answers)
        .expect("answers read")
        .into_iter()
        .collect()
}

#[test]
fn the_app_is_shown_exactly_what_sync_core_asks() {
    assert_eq!(shown("{}"), ["abroad", "consent"]);
    assert_eq!(shown(r#"{"abroad":"yes"}"#), ["abroad", "consent", "months"]);
    assert_eq!(
        shown(r#"{"abroad":"yes","months":4}"#),
        ["abroad", "consent", "months", "paid"]
    );
    // An answer behind a hidden section opens nothing: it is as good as cleared.
    assert_eq!(shown(r#"{"abroad":"no","months":4}"#), ["abroad", "consent"]);
}

#[test]
fn half_typed_or_foreign_values_count_as_unanswered() {
    for answers in [
        r#"{"abroad":"yes","months":"4"}"#,
        r#"{"abroad":"yes","months":4.5}"#,
        r#"{"abroad":"yes","months":999}"#,
        r#"{"abroad":"yes","months":null}"#,
        r#"{"abroad":"yes","months":[4]}"#,
        r#"{"abroad":"yes","nope":4,"consent":"yes","":1}"#,
    ] {
        assert_eq!(shown(answers), ["abroad", "consent", "months"], "{answers}");
    }
    assert_eq!(shown(r#"{"abroad":"maybe"}"#), ["abroad", "consent"]);
}

#[test]
fn answers_that_are_not_a_json_object_are_refused() {
    let form = Form::from_json(SKIP_FORM).expect("form parses");
    for answers in ["", "[]", "\"abroad\"", "{\"abroad\":", "null", "{\"a\":1}}"] {
        assert!(relevant_questions(&form, answers).is_err(), "{answers:?}");
    }
}

#[test]
fn import_refuses_a_copy_saved_before_a_reset_and_keeps_sent_responses_deleted() {
    let (mut phone, form) = engine_with_form();
    phone.set_delete_after_send(true);
    let edit = r#"{"area":"north","collected_on":"2026-11-20","answers":{"s1":4},"submit":true}"#;
    let sent = phone
        .create_response("contact", &answer(&form, edit))
        .expect("created");
    let before_send = phone.save();
    // The server confirms it: its heads come back.
    let heads = phone.document_mut(sent).expect("doc").get_heads();
    phone
        .apply_response(&reply(vec![DocEntry::new(
            sent,
            DocKind::Response,
            &heads,
            Vec::new(),
        )]))
        .expect("confirmed");
    assert!(phone.was_sent(sent));
    let file = ClientEngine::load(&before_send).expect("loads");
    assert_eq!(phone.merge_engine(file).expect("merges"), 0);
    assert!(
        phone.document_ids(DocKind::Response).is_empty(),
        "a copy saved before sending does not bring it back"
    );

    // The trainer resets the demo data: the epoch moves on, the phone drops everything.
    let mut reset = reply(Vec::new());
    reset.reset = true;
    reset.epoch = 2;
    phone.apply_response(&reset).expect("reset");
    let file = ClientEngine::load(&before_send).expect("loads");
    let err = phone.merge_engine(file).expect_err("refused");
    assert_eq!(crate::js_error::describe(&err).0, "other_epoch");
    assert!(phone.document_ids(DocKind::Response).is_empty());
    assert_eq!(phone.pending_count(), 0, "nothing to send");
}

#[test]
fn the_app_sends_what_the_cli_sends_unless_it_names_a_size() {
    let (mut phone, form) = engine_with_form();
    for day in ["2026-11-20", "2026-11-21"] {
        let edit = format!(
            r#"{{"area":"north","collected_on":"{day}","answers":{{"notes":"{}"}}}}"#,
            "x".repeat(150)
        );
        phone
            .create_response("contact", &answer(&form, &edit))
            .expect("created");
    }
    let saved = phone.save();
    let mut app = SurveyClient::load(&saved).expect("loads");
    let mut cli = ClientEngine::load(&saved).expect("loads");
    assert_eq!(
        app.build_sync_request(None),
        encode_request(&cli.build_request(REQUEST_CHANGE_BYTES))
    );
    let mut app = SurveyClient::load(&saved).expect("loads");
    let mut cli = ClientEngine::load(&saved).expect("loads");
    let small = app.build_sync_request(Some(1));
    assert_eq!(small, encode_request(&cli.build_request(1)));
    assert!(
        small.len() < encode_request(&phone.build_request(REQUEST_CHANGE_BYTES)).len(),
        "a one-byte budget leaves the second response for the next round"
    );
}
