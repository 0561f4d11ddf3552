//! The quarantine keeps no personal data: a refusal about what a document says keeps neither
//! its bytes nor its message, every record is dated by the day only, and none outlives the
//! retention or an admin's purge.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc as _};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use survey_server::clock;
use survey_server::retention::purge_expired_quarantine;
use survey_server::storage::{QuarantineEntry, QuarantinePayload};
use survey_server::{RetentionSettings, SyncSettings};
use sync_core::{Day, DocEntry, DocKind, Form, SyncRequest, SyncResponse, form_doc, response};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::db::contains;
use crate::support::{Api, Backend, Device, FORM_JSON, TestDb, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    a_refusal_about_content_keeps_no_personal_data,
    a_forbidden_write_keeps_its_payload,
    records_are_kept_through_the_retention_days_only,
    expired_records_are_purged_in_the_background,
    admins_purge_a_dataset_quarantine_now,
);

const PHONE: &str = "0812345678";

fn form() -> Form {
    Form::from_json(FORM_JSON).expect("form")
}

/// Uncompressed, as the server keeps them (it inflates compressed changes when it decodes a
/// request), so what is sent and what is kept compare byte for byte.
fn changes_of(doc: &mut AutoCommit, since: &[automerge::ChangeHash]) -> Vec<Vec<u8>> {
    doc.get_changes(since)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

async fn send(api: &Api, device: &Device, entry: DocEntry) -> (Vec<u8>, SyncResponse) {
    let request = sync_core::encode_request(&SyncRequest {
        v: 1,
        dataset: device.engine.dataset(),
        epoch: device.engine.epoch(),
        docs: vec![entry],
        totals_seen: None,
    });
    let reply = api.post_sync(Some(&device.token), request.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = sync_core::decode_response(&reply.body, &sync_core::Limits::default()).expect("answer");
    (request, answer)
}

/// The entry as the server encodes it for its hash and payload.
fn cbor(entry: &DocEntry) -> Vec<u8> {
    let mut raw = Vec::new();
    ciborium::ser::into_writer(entry, &mut raw).expect("CBOR");
    raw
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn listed(api: &Api, admin: &str, dataset: Uuid) -> Vec<Value> {
    let reply = api
        .get(&format!("/v1/datasets/{dataset}/quarantine"), Some(admin))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json().as_array().expect("a list").clone()
}

async fn a_refusal_about_content_keeps_no_personal_data(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, devices) = api.dataset_with_devices(&admin, "live", 1).await;

    // A hostile client skips the phone's scrubbing and writes a phone number into the notes,
    // in a change of its own (small enough to go out uncompressed).
    let mut doc = response::create(dataset, &form(), &edit(1)).expect("response");
    let before = doc.get_heads();
    let answers = match doc.get(ROOT, "answers").expect("get") {
        Some((_, id)) => id,
        None => panic!("a response has answers"),
    };
    doc.put(&answers, "notes", format!("call her on {PHONE}"))
        .expect("put");
    doc.commit();
    let smuggled = changes_of(&mut doc, &before);
    let id = Uuid::new_v4();
    let entry = DocEntry::new(id, DocKind::Response, &doc.get_heads(), changes_of(&mut doc, &[]));
    let first_day = clock::today();
    let (sent, answer) = send(api, &devices[0], entry.clone()).await;
    assert!(
        contains(&sent, PHONE.as_bytes()),
        "the attack is real: the number travels in the request"
    );
    let rejected: Vec<(Uuid, &str)> = answer.rejected.iter().map(|r| (r.id, r.code.as_str())).collect();
    assert_eq!(rejected, vec![(id, "invalid")]);

    // Nothing of it anywhere in the database: not the number, not the change that carried
    // it, not the entry.
    let db = &server.db;
    let raw = cbor(&entry);
    for (what, needle) in [
        ("the number", PHONE.as_bytes()),
        ("the change", smuggled[0].as_slice()),
        ("the entry", raw.as_slice()),
    ] {
        assert_eq!(db.places_holding(needle).await, Vec::<String>::new(), "{what}");
        for (path, bytes) in db.sqlite_files() {
            assert!(!contains(&bytes, needle), "{what} is in {}", path.display());
        }
    }
    let documents = "SELECT COUNT(*) FROM documents WHERE id = $1";
    assert_eq!(db.count(documents, id).await, 0);
    let kept = "SELECT COUNT(*) FROM quarantine WHERE document = $1 AND raw IS NULL AND message IS NULL";
    assert_eq!(
        db.count(kept, id).await,
        1,
        "one record, without payload or message"
    );

    // What the record holds: code, size, hash, device and day.
    let rows = listed(api, &admin, dataset).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["document"], id.to_string());
    assert_eq!(row["code"], "invalid");
    let size: usize = entry.changes.iter().map(|c| c.len()).sum();
    assert_eq!(row["size"].as_u64(), Some(size as u64));
    assert_eq!(row["sha256"], hex(&Sha256::digest(&raw)));
    assert_eq!(row["payload_kept"], false);
    assert_eq!(row["message"], Value::Null);
    let days = [first_day.to_string(), clock::today().to_string()];
    assert!(days.iter().any(|d| row["received_on"] == d.as_str()), "{row}");
    assert!(!row.to_string().contains(PHONE));
}

async fn a_forbidden_write_keeps_its_payload(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let mut forged = form_doc::create(dataset, &form()).expect("form doc");
    let id = Uuid::new_v4();
    let entry = DocEntry::new(
        id,
        DocKind::Form,
        &forged.get_heads(),
        changes_of(&mut forged, &[]),
    );
    let (_, answer) = send(api, &devices[0], entry.clone()).await;
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(answer.rejected[0].code, "forbidden");

    let raw = server
        .db
        .bytes("SELECT raw FROM quarantine WHERE document = $1", id)
        .await;
    assert_eq!(raw, cbor(&entry), "kept as received, for an admin to replay");
    let rows = listed(api, &admin, dataset).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["code"], "forbidden");
    assert_eq!(row["payload_kept"], true);
    assert_eq!(row["message"], answer.rejected[0].message.as_str());
    assert_eq!(row["sha256"], hex(&Sha256::digest(&raw)));
    let size: usize = entry.changes.iter().map(|c| c.len()).sum();
    assert_eq!(row["size"].as_u64(), Some(size as u64));
    assert!(row.get("received_at").is_none(), "no time finer than the day");
    let day = row["received_on"].as_str().expect("day");
    Day::parse(day).expect("YYYY-MM-DD");
}

/// A record as sync writes it, of `dataset`, received on `day`; with a payload when `kept`.
pub fn record(dataset: Uuid, day: Day, kept: bool) -> QuarantineEntry {
    QuarantineEntry {
        id: Uuid::new_v4(),
        dataset,
        device: Uuid::new_v4(),
        document: Uuid::new_v4(),
        code: if kept { "forbidden" } else { "invalid" }.into(),
        size: 3,
        sha256: [7; 32],
        payload: kept.then(|| QuarantinePayload {
            message: "refused".into(),
            raw: vec![1, 2, 3],
        }),
        received_on: day,
    }
}

/// The quarantine's records by document, in the order of `records`: which are still there.
async fn still_there(db: &TestDb, records: &[QuarantineEntry]) -> Vec<bool> {
    let mut there = Vec::new();
    for record in records {
        let sql = "SELECT COUNT(*) FROM quarantine WHERE document = $1";
        there.push(db.count(sql, record.document).await == 1);
    }
    there
}

async fn records_are_kept_through_the_retention_days_only(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let storage = server.state.storage.as_ref();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    // Days to come, which the server's own purge (on today's date) leaves alone.
    let start = clock::today().to_days() + 1000;
    let day = |n: i64| Day::from_days(start + n);
    let records = [
        record(a, day(0), true),
        record(b, day(0), false),
        record(a, day(1), false),
        record(b, day(31), true),
    ];
    for r in &records {
        storage.quarantine(r).await.expect("quarantine");
    }
    // Kept through the 30th day after the day it came in, gone on the 31st, in every dataset.
    let purged = purge_expired_quarantine(storage, 30, day(31))
        .await
        .expect("purge");
    assert_eq!(purged, 2);
    assert_eq!(
        still_there(&server.db, &records).await,
        [false, false, true, true]
    );
    let purged = purge_expired_quarantine(storage, 30, day(31))
        .await
        .expect("purge");
    assert_eq!(purged, 0, "nothing more is due");
}

async fn expired_records_are_purged_in_the_background(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let server = TestServer::start_configured(db, SyncSettings::default(), |state| {
        state.retention = RetentionSettings {
            quarantine_days: 30,
            purge_every: Duration::from_millis(20),
        };
    })
    .await;
    let storage = server.state.storage.as_ref();
    let today = clock::today().to_days();
    let dataset = Uuid::new_v4();
    let records = [
        record(dataset, Day::from_days(today - 31), true),
        record(dataset, Day::from_days(today - 400), false),
        record(dataset, Day::from_days(today - 30), true),
        record(dataset, Day::from_days(today), false),
    ];
    for r in &records {
        storage.quarantine(r).await.expect("quarantine");
    }
    let expected = [false, false, true, true];
    let mut there = still_there(&server.db, &records).await;
    for _ in 0..1500 {
        if there[..2] == expected[..2] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        there = still_there(&server.db, &records).await;
    }
    assert_eq!(there, expected, "the expired records go, the others stay");
    server.stop().await;
}

async fn admins_purge_a_dataset_quarantine_now(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let other = api.create_dataset(&admin, "other", "live").await;
    let today = clock::today();
    let records = [
        record(dataset, today, true),
        record(dataset, today, false),
        record(other, today, true),
    ];
    for r in &records {
        server.state.storage.quarantine(r).await.expect("quarantine");
    }
    let path = format!("/v1/datasets/{dataset}/quarantine");
    let purge = |token: Option<String>| {
        let path = path.clone();
        async move {
            api.send(Method::DELETE, &path, token.as_deref(), None, Vec::new())
                .await
                .expect("DELETE")
        }
    };

    let refused = [
        (None, 401),
        (Some(api.token(&admin, "analyst", None).await), 403),
        (Some(api.token(&admin, "trainer", None).await), 403),
        (Some(devices[0].token.clone()), 403),
        (Some(api.token(&admin, "admin", Some(other)).await), 403),
    ];
    for (token, status) in refused {
        let reply = purge(token).await;
        assert_eq!(reply.status, status, "{}", reply.text());
        reply.error_code();
    }
    assert_eq!(still_there(&server.db, &records).await, [true, true, true]);

    let reply = purge(Some(admin.clone())).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["purged"], 2);
    assert_eq!(
        still_there(&server.db, &records).await,
        [false, false, true],
        "the other dataset's records stay"
    );
    let audit = "SELECT COUNT(*) FROM audit_log WHERE dataset = $1 AND action = 'purge_quarantine'";
    assert_eq!(server.db.count(audit, dataset).await, 1);

    let unknown = api
        .send(
            Method::DELETE,
            &format!("/v1/datasets/{}/quarantine", Uuid::new_v4()),
            Some(&admin),
            None,
            Vec::new(),
        )
        .await
        .expect("DELETE");
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (404, "not_found")
    );
    let bad = api
        .send(
            Method::DELETE,
            "/v1/datasets/nope/quarantine",
            Some(&admin),
            None,
            Vec::new(),
        )
        .await
        .expect("DELETE");
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "bad_id"));
}
