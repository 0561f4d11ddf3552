//! Trainer demo datasets: seeded resets are deterministic and atomic, trainee phones drop
//! stale documents and keep working, live datasets are never touched.

use serde_json::{Value, json};
use sync_core::DocKind;
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::process::{Pauses, ServerProcess};
use crate::support::{Api, Backend, Device, TestDb, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    the_same_seed_gives_the_same_aggregates,
    live_datasets_are_never_reset,
    a_reset_killed_midway_leaves_old_or_new_never_a_mix,
);

async fn reset(api: &Api, token: &str, dataset: Uuid, seed: u64, responses: u64) -> Value {
    let reply = api
        .post_json(
            &format!("/v1/datasets/{dataset}/reset"),
            Some(token),
            &json!({ "seed": seed, "responses": responses }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn table(api: &Api, token: &str, dataset: Uuid, query: &str) -> String {
    let reply = api
        .get(&format!("/v1/datasets/{dataset}/aggregates?{query}"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.text()
}

async fn the_same_seed_gives_the_same_aggregates(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let demo = api.create_dataset(&admin, "training", "demo").await;
    let trainer = api.token(&admin, "trainer", Some(demo)).await;
    let code = api.enrollment_code(&trainer, demo, 2).await;
    let mut trainee = Device::enroll(api, &code).await;

    let first = reset(api, &trainer, demo, 7, 400).await;
    assert_eq!(first["responses"], 400);
    let query = "form=community-stigma&by=area,gender&metric=mean:stigma";
    let a = table(api, &admin, demo, query).await;
    trainee.sync_fully(api).await;
    assert_eq!(
        trainee.engine.forms().len(),
        2,
        "the built-in forms were published"
    );
    let site = trainee.engine.document_ids(DocKind::Site)[0];
    trainee.engine.bump_tally(site, "contacts", 1).expect("bump");
    trainee
        .engine
        .create_response("outreach-contact", &outreach_edit())
        .expect("practice response");

    let second = reset(api, &trainer, demo, 7, 400).await;
    assert!(second["epoch"].as_i64() > first["epoch"].as_i64());
    assert_eq!(
        table(api, &admin, demo, query).await,
        a,
        "same seed and size, same answer byte for byte"
    );
    assert_ne!(table(api, &admin, demo, "form=community-stigma&by=area").await, {
        reset(api, &trainer, demo, 8, 400).await;
        table(api, &admin, demo, "form=community-stigma&by=area").await
    });

    // The trainee's stale practice work is dropped, never uploaded, and the phone keeps working.
    let answer = trainee.sync_once(api).await;
    assert!(answer.reset);
    trainee.sync_fully(api).await;
    assert_eq!(trainee.engine.document_ids(DocKind::Response).len(), 0);
    assert_eq!(trainee.engine.sites().len(), 8);
    assert!(
        trainee
            .engine
            .sites()
            .iter()
            .all(|(_, s)| s.tallies.values().all(|t| *t >= 0))
    );
    let bumped = trainee.engine.document_ids(DocKind::Site)[0];
    trainee
        .engine
        .bump_tally(bumped, "kits", 2)
        .expect("bump after reset");
    trainee.sync_fully(api).await;
    assert_eq!(
        trainee.engine.pending_count(),
        0,
        "the enrollment still works after resets"
    );
    server.stop().await;
}

fn outreach_edit() -> sync_core::ResponseEdit {
    sync_core::ResponseEdit {
        area: Some("north".into()),
        collected_on: sync_core::Day::parse("2026-11-20").ok(),
        answers: vec![
            ("contact_type".into(), sync_core::Answer::Single("street".into())),
            ("gender".into(), sync_core::Answer::Single("f".into())),
        ],
        cleared: Vec::new(),
        submit: true,
    }
}

async fn live_datasets_are_never_reset(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (live, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    devices[0]
        .engine
        .create_response("outreach", &edit(1))
        .expect("response");
    devices[0].sync_fully(api).await;
    for token in [admin.clone(), api.token(&admin, "trainer", Some(live)).await] {
        let reply = api
            .post_json(
                &format!("/v1/datasets/{live}/reset"),
                Some(&token),
                &json!({ "seed": 1, "responses": 10 }),
            )
            .await;
        assert_eq!((reply.status, reply.error_code()), (409, "not_demo".to_string()));
    }
    let db = server.stop().await;
    assert_eq!(
        db.count("SELECT count(*) FROM responses WHERE dataset = $1", live)
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM datasets WHERE id = $1 AND epoch = 1", live)
            .await,
        1
    );
}

/// A reset is started over HTTP and the server SIGKILLed at a known step of it: while it is
/// writing the new documents (half of them written), the dataset must hold the whole old state
/// after the restart; once it has committed (the reply not sent yet), the whole new one.
async fn a_reset_killed_midway_leaves_old_or_new_never_a_mix(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let pauses = Pauses::new();
    let mut server = ServerProcess::start_pausable(&db.url, &pauses);
    let admin = crate::support::process::run(&["token", "create", "--role", "admin", "--database", &db.url])
        .1
        .trim()
        .to_owned();
    let demo = server.api.create_dataset(&admin, "kill-me", "demo").await;
    reset(&server.api, &admin, demo, 1, 50).await;
    let old = (epoch(&db, demo).await, 50);

    for (step, expected) in [("reset-seeding", old), ("reset-committed", (old.0 + 1, 3000))] {
        pauses.arm(step);
        let api = server.api.clone();
        let token = admin.clone();
        let pending = tokio::spawn(async move {
            let body = json!({ "seed": 2, "responses": 3000 }).to_string().into_bytes();
            let path = format!("/v1/datasets/{demo}/reset");
            api.send(
                reqwest::Method::POST,
                &path,
                Some(&token),
                Some("application/json"),
                body,
            )
            .await
        });
        pauses.wait_until_paused(step).await;
        server.kill();
        let answer = pending.await.expect("request task");
        assert!(answer.is_err(), "{step}: the reset was never acknowledged");
        server = ServerProcess::start_pausable(&db.url, &pauses);
        let responses = db
            .count("SELECT count(*) FROM responses WHERE dataset = $1", demo)
            .await;
        assert_eq!((epoch(&db, demo).await, responses), expected, "killed at {step}");
        let documents = db
            .count(
                "SELECT count(*) FROM documents WHERE dataset = $1 AND kind = 'response'",
                demo,
            )
            .await;
        assert_eq!(documents, responses, "documents and their rows move together");
    }
    server.kill();
}

async fn epoch(db: &TestDb, dataset: Uuid) -> i64 {
    db.count("SELECT epoch AS count FROM datasets WHERE id = $1", dataset)
        .await
}
