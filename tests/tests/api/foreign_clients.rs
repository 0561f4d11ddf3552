//! Documents a phone built on the JS Automerge library sends, typed by the library itself
//! (sync-core/tests/fixtures/js/js-defaults.mjs): the ones the platform reads are stored and
//! counted with their whole numbers as meant (a 0 the library wrote as a float counts as 0), the
//! others are refused whole.

use serde_json::Value;
use survey_server::storage::{AuditEntry, Dataset, Mode};
use sync_core::{Answer, Day, Limits, ResponseEdit, decode_response};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, Device, TestServer};

on_both_backends!(javascript_documents_are_stored_or_refused_whole_and_their_zeros_counted);

const REQUEST: &[u8] = include_bytes!("../../../sync-core/tests/fixtures/js/defaults_v1.cbor");
const SIDECAR: &str = include_str!("../../../sync-core/tests/fixtures/js/defaults_v1.json");
const FORM: &str = include_str!("../../../sync-core/tests/fixtures/js/form.json");
/// The smallest k the API allows; with it five women who met nobody make a visible cell.
const K: i64 = 5;

const ACCEPTED: &[&str] = &[
    "zero",
    "negative_zero",
    "one",
    "negative",
    "form_version_float",
    "explicit_types",
    "edited_twice",
    "concurrent_edits",
    "site",
];
const REFUSED: &[(&str, &str)] = &[
    ("fraction", "invalid"),
    ("form_version_fraction", "invalid"),
    ("largest_safe", "invalid"),
    ("form_version_largest_safe", "unknown_form"),
    ("negative_out_of_range", "invalid"),
    ("beyond_safe", "invalid"),
    ("nan", "invalid"),
    ("infinity", "invalid"),
    ("int_in_literal", "invalid"),
    ("counter_answer", "invalid"),
    ("null_answer", "invalid"),
    ("date", "invalid"),
    ("message", "invalid"),
    ("author", "invalid"),
    ("site_plain_numbers", "invalid"),
];

fn case_id(sidecar: &Value, case: &str) -> Uuid {
    sidecar["docs"]
        .as_array()
        .expect("docs")
        .iter()
        .find(|d| d["case"] == case)
        .and_then(|d| d["id"].as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no case {case}"))
}

/// The cell of women who met nobody: `(suppressed, n)`, n 0 when suppressed or absent.
async fn women_who_met_nobody(api: &Api, analyst: &str, dataset: Uuid) -> (bool, u64) {
    let path = format!("/v1/datasets/{dataset}/aggregates?form=js-fixture&by=gender&where=contacts=0");
    let reply = api.get(&path, Some(analyst)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let table = reply.json();
    assert_eq!(table["k"], K);
    let cell = table["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["key"]["gender"] == "f")
        .cloned()
        .unwrap_or_default();
    (cell["suppressed"] == true, cell["n"].as_u64().unwrap_or(0))
}

async fn javascript_documents_are_stored_or_refused_whole_and_their_zeros_counted(backend: Backend) {
    // Exact counts: this checks what is counted, not how it is shown.
    let server = TestServer::start_suppressing_only(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let sidecar: Value = serde_json::from_str(SIDECAR).expect("sidecar");
    // The fixtures name their dataset, so it is made with that id.
    let dataset: Uuid = sidecar["dataset"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("dataset");
    let audit = AuditEntry {
        actor_name: "test".into(),
        actor_role: "admin".into(),
        action: "create_dataset".into(),
        dataset: Some(dataset),
    };
    let made = Dataset {
        id: dataset,
        name: "JS phones".into(),
        mode: Mode::Live,
        k: K,
        epoch: sidecar["epoch"].as_i64().expect("epoch"),
    };
    server
        .state
        .storage
        .create_dataset(&made, &audit)
        .await
        .expect("dataset");
    api.publish_form(&admin, dataset, FORM).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let code = api.enrollment_code(&admin, dataset, 1).await;
    let mut phone = Device::enroll(api, &code).await;
    phone.sync_fully(api).await;

    // One woman who met nobody, from a Rust phone: alone, her cell is hidden.
    let rust_answer = ResponseEdit {
        area: Some("north".into()),
        collected_on: Day::parse("2026-11-20").ok(),
        answers: vec![
            ("gender".into(), Answer::Single("f".into())),
            ("contacts".into(), Answer::Integer(0)),
        ],
        cleared: Vec::new(),
        submit: true,
    };
    phone
        .engine
        .create_response("js-fixture", &rust_answer)
        .expect("response");
    phone.sync_fully(api).await;
    assert_eq!(women_who_met_nobody(api, &analyst, dataset).await, (true, 0));

    let reply = api.post_sync(Some(&phone.token), REQUEST.to_vec()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = decode_response(&reply.body, &Limits::default()).expect("answer");
    let db = &server.db;
    for (case, code) in REFUSED {
        let id = case_id(&sidecar, case);
        let refused = answer.rejected.iter().find(|r| r.id == id);
        assert_eq!(refused.map(|r| r.code.as_str()), Some(*code), "{case}");
        for table in [
            "SELECT COUNT(*) FROM documents WHERE id = $1",
            "SELECT COUNT(*) FROM doc_actors WHERE document = $1",
            "SELECT COUNT(*) FROM responses WHERE document = $1",
            "SELECT COUNT(*) FROM answers WHERE document = $1",
            "SELECT COUNT(*) FROM site_tallies WHERE document = $1",
        ] {
            assert_eq!(db.count(table, id).await, 0, "{case}: {table}");
        }
    }
    for case in ACCEPTED {
        let id = case_id(&sidecar, case);
        assert!(
            answer.rejected.iter().all(|r| r.id != id),
            "{case}: {:?}",
            answer.rejected
        );
        assert_eq!(
            db.count("SELECT COUNT(*) FROM documents WHERE id = $1", id).await,
            1,
            "{case}"
        );
    }
    assert_eq!(answer.rejected.len(), REFUSED.len(), "{:?}", answer.rejected);

    let contacts = "SELECT num FROM answers WHERE document = $1 AND question = 'contacts'";
    let change = "SELECT num FROM answers WHERE document = $1 AND question = 'change'";
    for (case, sql, value) in [
        ("zero", contacts, 0),
        ("negative_zero", contacts, 0),
        ("negative", change, -3),
        ("explicit_types", contacts, 7),
        ("edited_twice", change, -1),
    ] {
        assert_eq!(db.count(sql, case_id(&sidecar, case)).await, value, "{case}");
    }
    let site = case_id(&sidecar, "site");
    let total = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'contacts'";
    assert_eq!(db.count(total, site).await, 2);

    // Four JS responses of women who met nobody (two with 0 written as a float, one with -0, one
    // edited to 0) join the Rust phone's: the cell reaches k and shows; had any refused
    // document counted, it would show more.
    assert_eq!(women_who_met_nobody(api, &analyst, dataset).await, (false, 5));
    server.stop().await;
}
