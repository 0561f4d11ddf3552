//! Native tests of what the wrapper adds to the engine: the waiting list and state import.
//! (The `#[wasm_bindgen]` methods themselves are driven by the browser test.)

use sync_core::{
    ClientEngine, DocEntry, DocKind, Form, PROTOCOL_VERSION, ResponseEdit, SyncResponse, form_doc,
};
use uuid::Uuid;

use crate::merge_state::merge_into;
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
        totals: Vec::new(),
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

    let mut file = ClientEngine::load(&exported).expect("loads");
    assert_eq!(
        merge_into(&mut phone, &mut file).expect("merges"),
        0,
        "nothing new"
    );
    let view = phone.response(first).expect("readable");
    assert_eq!(view.answers.len(), 2, "the later edit survives the import");
    assert_eq!(phone.document_ids(DocKind::Response).len(), 2);

    // Into an empty engine of the same dataset (a wiped browser): the form and the response
    // come back, and the never-confirmed response is waiting to be sent.
    let mut wiped = ClientEngine::new(phone.dataset(), 1);
    let mut file = ClientEngine::load(&exported).expect("loads");
    assert_eq!(merge_into(&mut wiped, &mut file).expect("merges"), 2);
    assert_eq!(wiped.forms().len(), 1);
    assert!(waiting_ids(&mut wiped).contains(&first));
    assert_eq!(
        wiped.pending_count(),
        1,
        "the form is not sent back to the server"
    );
}

#[test]
fn import_refuses_another_datasets_state() {
    let (mut one, _) = engine_with_form();
    let (mut other, _) = engine_with_form();
    let err = merge_into(&mut one, &mut other).expect_err("refused");
    assert_eq!(crate::js_error::describe(&err).0, "wrong_dataset");
}
