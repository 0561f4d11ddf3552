//! Retention of responses (issue 20): a dataset keeps its submitted responses so many days
//! after the day the server received them submitted, then the purge takes them as a
//! withdrawal does; an admin can count beforehand what a setting would purge. The server's
//! day is set by hand here (`Clock::on`), so days pass without waiting.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use survey_server::clock;
use survey_server::clock::Clock;
use survey_server::retention::{purge_expired_quarantine, purge_expired_responses};
use survey_server::{RetentionSettings, SyncSettings};
use sync_core::{DocKind, WITHDRAWN};
use uuid::Uuid;

use crate::on_both_backends;
use crate::quarantine::record;
use crate::support::{Api, Backend, Device, TestDb, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    retention_purges_what_is_older_than_the_setting_and_nothing_newer,
    the_background_task_purges_expired_responses,
    retention_settings_are_checked,
    every_deletion_is_audited_without_content,
);

/// A server whose day is `day` until the test moves it, with exact aggregate counts.
async fn server_on(backend: &Backend, day: i64, purge_every: Duration) -> TestServer {
    let db = TestDb::create(backend).await;
    TestServer::start_configured(db, SyncSettings::default(), |state| {
        state.clock = Clock::on(sync_core::Day::from_days(day));
        state.disclosure = survey_server::disclosure::Disclosure::SuppressOnly;
        state.retention = RetentionSettings {
            purge_every,
            ..RetentionSettings::default()
        };
    })
    .await
}

/// Far from the real today, so that nothing here depends on it.
fn first_day() -> i64 {
    clock::today().to_days() + 5000
}

fn responses(device: &mut Device, count: i64) -> Vec<Uuid> {
    (0..count)
        .map(|i| {
            device
                .engine
                .create_response("outreach", &edit(2 * i))
                .expect("response")
        })
        .collect()
}

async fn put_retention(api: &Api, token: &str, dataset: Uuid, body: &Value) -> crate::support::Reply {
    api.send(
        Method::PUT,
        &format!("/v1/datasets/{dataset}/retention"),
        Some(token),
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await
    .expect("PUT")
}

async fn dry_run(api: &Api, token: &str, dataset: Uuid, query: &str) -> Value {
    let reply = api
        .get(&format!("/v1/datasets/{dataset}/retention{query}"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn north(api: &Api, analyst: &str, dataset: Uuid) -> u64 {
    let reply = api
        .get(
            &format!("/v1/datasets/{dataset}/aggregates?form=outreach&by=area"),
            Some(analyst),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["key"]["area"] == "north")
        .and_then(|c| c["n"].as_u64())
        .expect("an unsuppressed north cell")
}

async fn stored_responses(db: &TestDb, dataset: Uuid) -> i64 {
    db.count(
        "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'response'",
        dataset,
    )
    .await
}

async fn retention_purges_what_is_older_than_the_setting_and_nothing_newer(backend: Backend) {
    let day0 = first_day();
    let server = server_on(&backend, day0, Duration::from_secs(3600)).await;
    let (api, admin, db) = (&server.api, server.admin_token().await, &server.db);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let device = &mut devices[0];

    // Day 0: twelve responses submitted, and a draft.
    let old = responses(device, 12);
    let draft = device
        .engine
        .create_response(
            "outreach",
            &sync_core::ResponseEdit {
                submit: false,
                ..edit(0)
            },
        )
        .expect("draft");
    device.sync_fully(api).await;
    let old_bytes = db
        .bytes("SELECT bytes FROM documents WHERE id = $1", old[0])
        .await;
    // Day 10: eleven more, the draft submitted, and one of day 0's edited (it keeps its day).
    server.state.clock.set(sync_core::Day::from_days(day0 + 10));
    let new = responses(device, 11);
    device
        .engine
        .edit_response(draft, &edit(0))
        .expect("submit the draft");
    device.engine.edit_response(old[1], &edit(4)).expect("edit");
    device.sync_fully(api).await;
    assert_eq!(north(api, &analyst, dataset).await, 24);

    let reply = put_retention(api, &admin, dataset, &json!({ "days": 30 })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["retention_days"], 30);

    // Kept through day 30 after the day received.
    let today = |n: i64| sync_core::Day::from_days(day0 + n);
    server.state.clock.set(today(30));
    let status = dry_run(api, &admin, dataset, "").await;
    assert_eq!(
        (status["days"].as_i64(), status["due"].as_u64()),
        (Some(30), Some(0))
    );
    let (storage, cache) = (server.state.storage.as_ref(), server.state.aggregates.as_ref());
    assert_eq!(
        purge_expired_responses(storage, cache, today(30))
            .await
            .expect("purge"),
        0
    );
    assert_eq!(stored_responses(db, dataset).await, 24);

    // Day 31: day 0's twelve are due; a shorter setting being considered would take more.
    server.state.clock.set(today(31));
    let status = dry_run(api, &admin, dataset, "").await;
    assert_eq!(status["due"], 12);
    assert_eq!(status["oldest_kept"], today(1).to_string());
    assert_eq!(dry_run(api, &admin, dataset, "?days=21").await["due"], 12);
    let shorter = dry_run(api, &admin, dataset, "?days=20").await;
    assert_eq!(
        (shorter["counted_for"].as_i64(), shorter["due"].as_u64()),
        (Some(20), Some(24))
    );
    assert_eq!(
        stored_responses(db, dataset).await,
        24,
        "a dry run deletes nothing"
    );

    assert_eq!(
        purge_expired_responses(storage, cache, today(31))
            .await
            .expect("purge"),
        12
    );
    assert_eq!(stored_responses(db, dataset).await, 12);
    for id in &old {
        for table in [
            "SELECT COUNT(*) FROM documents WHERE id = $1",
            "SELECT COUNT(*) FROM responses WHERE document = $1",
            "SELECT COUNT(*) FROM answers WHERE document = $1",
            "SELECT COUNT(*) FROM doc_actors WHERE document = $1",
        ] {
            assert_eq!(db.count(table, *id).await, 0, "{table}");
        }
        let tombstone = "SELECT COUNT(*) FROM withdrawn WHERE document = $1";
        assert_eq!(db.count(tombstone, *id).await, 1);
    }
    assert_eq!(db.places_holding(&old_bytes).await, Vec::<String>::new());
    for id in new.iter().chain([&draft]) {
        assert_eq!(
            db.count("SELECT COUNT(*) FROM responses WHERE document = $1", *id)
                .await,
            1
        );
    }
    assert_eq!(
        north(api, &analyst, dataset).await,
        12,
        "the aggregates drop them"
    );
    assert_eq!(dry_run(api, &admin, dataset, "").await["due"], 0);
    assert_eq!(
        purge_expired_responses(storage, cache, today(31))
            .await
            .expect("purge"),
        0
    );

    // The phone still holds them: it is told they are gone, and drops them.
    let answer = device.sync_once(api).await;
    let mut refused: Vec<Uuid> = answer
        .rejected
        .iter()
        .filter(|r| r.code == WITHDRAWN)
        .map(|r| r.id)
        .collect();
    refused.sort();
    let mut expected = old.clone();
    expected.sort();
    assert_eq!(refused, expected);
    let held = device.engine.document_ids(DocKind::Response);
    assert!(old.iter().all(|id| !held.contains(id)));
    assert_eq!(held.len(), 12);
    device.sync_fully(api).await;
    assert_eq!(stored_responses(db, dataset).await, 12);

    // No setting: nothing more goes, however old.
    let reply = put_retention(api, &admin, dataset, &json!({ "days": null })).await;
    assert_eq!(reply.json()["retention_days"], Value::Null);
    assert_eq!(
        purge_expired_responses(storage, cache, today(5000))
            .await
            .expect("purge"),
        0
    );
    assert_eq!(dry_run(api, &admin, dataset, "").await["due"], 0);
    assert_eq!(dry_run(api, &admin, dataset, "?days=1").await["due"], 12);
    server.stop().await;
}

async fn the_background_task_purges_expired_responses(backend: Backend) {
    let day0 = first_day();
    let server = server_on(&backend, day0, Duration::from_millis(20)).await;
    let (api, admin, db) = (&server.api, server.admin_token().await, &server.db);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let other = api.create_dataset(&admin, "kept", "live").await;
    responses(&mut devices[0], 3);
    devices[0].sync_fully(api).await;
    let reply = put_retention(api, &admin, dataset, &json!({ "days": 1 })).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    server.state.clock.set(sync_core::Day::from_days(day0 + 2));
    let mut left = stored_responses(db, dataset).await;
    for _ in 0..1500 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        left = stored_responses(db, dataset).await;
    }
    assert_eq!(left, 0, "the expired responses go");
    let audit = api
        .get(&format!("/v1/audit?dataset={dataset}"), Some(&admin))
        .await
        .json();
    assert!(
        audit
            .as_array()
            .expect("audit")
            .iter()
            .any(|r| r["action"] == "purge_expired_responses"),
        "{audit}"
    );
    let untouched = api
        .get(&format!("/v1/audit?dataset={other}"), Some(&admin))
        .await
        .json();
    assert_eq!(untouched.as_array().map(Vec::len), Some(1), "{untouched}");
    server.stop().await;
}

async fn retention_settings_are_checked(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let dataset = api.create_dataset(&admin, "checked", "live").await;
    let other = api.create_dataset(&admin, "other", "live").await;
    assert_eq!(
        put_retention(api, &admin, dataset, &json!({ "days": 90 }))
            .await
            .status,
        200
    );

    let bad_days = [
        json!({ "days": -1 }),
        json!({ "days": 0 }),
        json!({ "days": 36_501 }),
        json!({ "days": i64::MAX }),
        json!({ "days": u64::MAX }),
        json!({ "days": 1e300 }),
        json!({ "days": 30.5 }),
        json!({ "days": "30" }),
        json!({ "days": true }),
        json!({ "days": [30] }),
        json!({ "days": { "n": 30 } }),
    ];
    for body in &bad_days {
        let reply = put_retention(api, &admin, dataset, body).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "invalid"),
            "{body}"
        );
    }
    for body in [
        json!({}),
        json!({ "days": 30, "purge": true }),
        json!(30),
        json!("days"),
    ] {
        let reply = put_retention(api, &admin, dataset, &body).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "bad_json"),
            "{body}"
        );
    }
    let path = format!("/v1/datasets/{dataset}/retention");
    let not_json = api
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some("text/plain"),
            b"30".to_vec(),
        )
        .await
        .expect("PUT");
    assert_eq!(not_json.status, 415);
    let huge = api
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some("application/json"),
            format!("{{\"days\": 1{}}}", "0".repeat(5000)).into_bytes(),
        )
        .await
        .expect("PUT");
    assert_eq!(huge.status, 400, "{}", huge.text());
    for query in [
        "?days=-1",
        "?days=0",
        "?days=abc",
        "?days=99999999999999999999999",
        "?days=1e3",
        "?dayz=1",
        "?days=1&days=2",
    ] {
        let reply = api.get(&format!("{path}{query}"), Some(&admin)).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "bad_query"),
            "{query}"
        );
    }
    for bad in [
        "/v1/datasets/nope/retention",
        "/v1/datasets/1%27%20OR%201=1/retention",
    ] {
        assert_eq!(api.get(bad, Some(&admin)).await.status, 400, "{bad}");
    }
    let unknown = format!("/v1/datasets/{}/retention", Uuid::new_v4());
    assert_eq!(api.get(&unknown, Some(&admin)).await.status, 404);
    let reply = put_retention(api, &admin, Uuid::new_v4(), &json!({ "days": 3 })).await;
    assert_eq!(reply.status, 404);

    // Only admins, and a limited admin only its own dataset.
    let (code_dataset, devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let device_token = devices[0].token.clone();
    assert_ne!(code_dataset, dataset);
    let others = [
        api.token(&admin, "analyst", Some(dataset)).await,
        api.token(&admin, "trainer", None).await,
        api.token(&admin, "admin", Some(other)).await,
        device_token,
    ];
    for token in &others {
        assert_eq!(
            put_retention(api, token, dataset, &json!({ "days": 1 }))
                .await
                .status,
            403
        );
        assert_eq!(api.get(&path, Some(token)).await.status, 403);
    }
    assert_eq!(
        put_retention(api, "nonsense", dataset, &json!({ "days": 1 }))
            .await
            .status,
        401
    );
    assert_eq!(api.get(&path, None).await.status, 401);
    let limited = api.token(&admin, "admin", Some(dataset)).await;
    assert_eq!(dry_run(api, &limited, dataset, "").await["days"], 90);

    // Nothing refused changed the setting.
    let datasets = api.get("/v1/datasets", Some(&admin)).await.json();
    let this = datasets
        .as_array()
        .expect("datasets")
        .iter()
        .find(|d| d["id"] == dataset.to_string())
        .expect("dataset")
        .clone();
    assert_eq!(this["retention_days"], 90);

    // At creation, checked the same way.
    for days in [json!(-5), json!(0), json!("x"), json!(1e9)] {
        let reply = api
            .post_json(
                "/v1/datasets",
                Some(&admin),
                &json!({ "name": "new", "mode": "live", "retention_days": days }),
            )
            .await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "invalid"),
            "{days}"
        );
    }
    let reply = api
        .post_json(
            "/v1/datasets",
            Some(&admin),
            &json!({ "name": "kept a year", "mode": "live", "retention_days": 365 }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["retention_days"], 365);
    server.stop().await;
}

async fn every_deletion_is_audited_without_content(backend: Backend) {
    let day0 = first_day();
    let server = server_on(&backend, day0, Duration::from_secs(3600)).await;
    let (api, admin, db) = (&server.api, server.admin_token().await, &server.db);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let ids = responses(&mut devices[0], 3);
    devices[0].sync_fully(api).await;
    let storage = server.state.storage.as_ref();

    // Withdrawal by the phone.
    let withdrawn = api
        .delete(
            &format!("/v1/datasets/{dataset}/responses/{}", ids[0]),
            Some(&devices[0].token),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text());
    // The quarantine, by an admin and by its retention.
    storage
        .quarantine(&record(dataset, sync_core::Day::from_days(day0), true))
        .await
        .expect("quarantine");
    let purged = api
        .delete(&format!("/v1/datasets/{dataset}/quarantine"), Some(&admin))
        .await;
    assert_eq!(purged.status, 200);
    storage
        .quarantine(&record(dataset, sync_core::Day::from_days(day0), false))
        .await
        .expect("quarantine");
    let expired = purge_expired_quarantine(storage, 30, sync_core::Day::from_days(day0 + 31)).await;
    assert_eq!(expired.expect("purge"), 1);
    // Retention.
    put_retention(api, &admin, dataset, &json!({ "days": 5 })).await;
    let today = sync_core::Day::from_days(day0 + 6);
    let cache = server.state.aggregates.as_ref();
    assert_eq!(
        purge_expired_responses(storage, cache, today)
            .await
            .expect("purge"),
        2
    );

    let actions = |log: &Value| -> Vec<(String, String, String)> {
        log.as_array()
            .expect("audit")
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                (text("action"), text("actor"), text("role"))
            })
            .collect()
    };
    let log = api
        .get(&format!("/v1/audit?dataset={dataset}"), Some(&admin))
        .await
        .json();
    let listed = actions(&log);
    for expected in [
        ("withdraw_response", "device"),
        ("purge_quarantine", "admin"),
        ("purge_expired_quarantine", "server"),
        ("set_retention", "admin"),
        ("purge_expired_responses", "server"),
    ] {
        assert!(
            listed
                .iter()
                .any(|(action, _, role)| (action.as_str(), role.as_str()) == expected),
            "{expected:?} in {listed:?}"
        );
    }
    // Nothing in the audit log names a response or holds what it said.
    for id in &ids {
        let places = db.places_holding(id.as_bytes()).await;
        assert!(places.iter().all(|p| !p.starts_with("audit_log")), "{places:?}");
    }
    for needle in ["gave 0 kits", "gave 2 kits"] {
        let places = db.places_holding(needle.as_bytes()).await;
        assert!(
            places.iter().all(|p| !p.starts_with("audit_log")),
            "{needle}: {places:?}"
        );
    }

    // The dataset's purge, last: read from the unlimited log.
    let confirm = format!("/v1/datasets/{dataset}?confirm=field%20test");
    assert_eq!(api.delete(&confirm, Some(&admin)).await.status, 200);
    let log = api.get("/v1/audit", Some(&admin)).await.json();
    assert!(
        actions(&log).iter().any(|(a, _, _)| a == "purge_dataset"),
        "{log}"
    );
    server.stop().await;
}
