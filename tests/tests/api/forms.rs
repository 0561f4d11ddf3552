//! Forms with skip logic, sections, notes and translations: checked when published, and a
//! submitted response must answer exactly what its form asked.

use serde_json::{Value, json};
use sync_core::{Answer, Day, DocEntry, DocKind, Form, ResponseEdit, response};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, TestServer};

on_both_backends!(skip_logic_is_checked_when_published_and_when_synced);

fn skip_form() -> Value {
    json!({
        "id": "skip-logic", "version": 1, "title": "Outreach", "areas": ["north"],
        "default_language": "en", "title_translations": { "es": "Alcance" },
        "sections": [
            { "id": "start", "label": "Consent" },
            { "id": "work", "label": "Work", "relevant": "${consent} = 'yes'", "translations": { "es": "Trabajo" } }
        ],
        "questions": [
            { "id": "intro", "type": "note", "label": "Taking part is voluntary.", "section": "start" },
            { "id": "consent", "type": "single", "label": "Do you agree?", "options": ["yes", "no"], "required": true, "section": "start" },
            { "id": "paid", "type": "single", "label": "Were you paid?", "options": ["yes", "no"], "required": true, "section": "work" },
            { "id": "owed", "type": "integer", "label": "Weeks unpaid", "min": 0, "max": 520, "required": true,
              "relevant": "${paid} = 'no'", "section": "work" }
        ]
    })
}

fn edit(answers: &[(&str, &str)]) -> ResponseEdit {
    ResponseEdit {
        area: Some("north".into()),
        collected_on: Some(Day::parse("2026-11-20").expect("day")),
        answers: answers
            .iter()
            .map(|(q, a)| (q.to_string(), Answer::Single(a.to_string())))
            .collect(),
        cleared: Vec::new(),
        submit: true,
    }
}

async fn skip_logic_is_checked_when_published_and_when_synced(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let forms = format!("/v1/datasets/{dataset}/forms");

    for (path, rule, named) in [
        ("/questions/3/relevant", "${owed} > 1", "question \\\"owed\\\""),
        ("/questions/3/relevant", "${nobody} = 'x'", "nobody"),
        (
            "/sections/1/relevant",
            "${consent} > 'yes'",
            "section \\\"work\\\"",
        ),
        ("/questions/3/relevant", &"not(".repeat(40), "deeper"),
    ] {
        let mut form = skip_form();
        *form.pointer_mut(path).expect(path) = json!(rule);
        let reply = api.post_json(&forms, Some(&admin), &form).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "bad_expression"),
            "{rule}"
        );
        assert!(reply.text().contains(named), "{rule}: {}", reply.text());
    }
    let mut hidden_phone = skip_form();
    hidden_phone["sections"][1]["translations"]["es"] = json!("Su número de teléfono");
    let reply = api.post_json(&forms, Some(&admin), &hidden_phone).await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "identifying_question")
    );

    api.publish_form(&admin, dataset, &skip_form().to_string()).await;
    let device = &mut devices[0];
    device.sync_fully(api).await;

    // The engine clears what stops applying, so an honest device's response is accepted.
    let id = device
        .engine
        .create_response("skip-logic", &edit(&[("consent", "yes"), ("paid", "yes")]))
        .expect("response");
    let mut changed = edit(&[("consent", "no")]);
    changed.area = None;
    device.engine.edit_response(id, &changed).expect("edit");
    assert_eq!(device.engine.response(id).expect("view").answers.len(), 1);
    device.sync_fully(api).await;
    assert!(
        device.engine.rejections().is_empty(),
        "{:?}",
        device.engine.rejections()
    );

    // One that answers a hidden question, or skips one it was asked, is refused.
    let lax = {
        let mut lax = skip_form();
        lax["sections"][1]["relevant"] = Value::Null;
        lax["questions"][2]["required"] = json!(false);
        lax["questions"][3]["required"] = json!(false);
        lax["questions"][3]["relevant"] = Value::Null;
        Form::from_value(lax).expect("lax form")
    };
    for (answers, code) in [
        (&[("consent", "no"), ("paid", "yes")][..], "irrelevant_answer"),
        (&[("consent", "yes"), ("paid", "no")][..], "invalid"),
    ] {
        let mut doc = response::create(dataset, &lax, &edit(answers)).expect("forged");
        let doc_id = Uuid::new_v4();
        let changes = doc
            .get_changes(&[])
            .into_iter()
            .map(|mut c| c.bytes().into_owned())
            .collect();
        let entry = DocEntry::new(doc_id, DocKind::Response, &doc.get_heads(), changes);
        let answer = device.send_entries(api, 1, vec![entry]).await;
        let refused = answer.rejected.iter().find(|r| r.id == doc_id).expect("refused");
        assert_eq!(refused.code, code, "{answers:?}");
    }
}
