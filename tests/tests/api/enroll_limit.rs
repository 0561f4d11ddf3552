//! `POST /v1/enroll` takes no token, so strangers can send it codes (issue 19: 400 wrong codes
//! in 0.17 s). Wrong codes spend a budget, past which the answer is 429 with `Retry-After`;
//! they are counted in the metrics; and they never take the write lock syncs wait on.

use std::sync::Arc;

use serde_json::json;
use survey_server::SyncSettings;
use survey_server::enroll_attempts::EnrollAttempts;

use crate::on_both_backends;
use crate::support::{Api, Backend, TestDb, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    wrong_enrollment_codes_meet_429s_while_syncs_keep_committing,
    right_enrollment_codes_never_spend_the_budget,
);

const WRONG_CODES: usize = 100;
const PHONES: usize = 4;
const RESPONSES_EACH: i64 = 5;

async fn limited_server(backend: &Backend, per_minute: u32) -> TestServer {
    let db = TestDb::create(backend).await;
    TestServer::start_configured(db, SyncSettings::default(), |state| {
        state.enroll_attempts = Arc::new(EnrollAttempts::per_minute(per_minute));
    })
    .await
}

async fn wrong_enrollment_codes_meet_429s_while_syncs_keep_committing(backend: Backend) {
    let server = limited_server(&backend, 10).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, devices) = api.dataset_with_devices(&admin, "live", PHONES).await;

    let guesses: Vec<_> = (0..WRONG_CODES)
        .map(|i| {
            let api = Api::new(api.base.clone());
            tokio::spawn(async move {
                api.post_json(
                    "/v1/enroll",
                    None,
                    &json!({ "code": format!("WRNG-{i:04}-AAAA-BBBB") }),
                )
                .await
            })
        })
        .collect();
    let syncs: Vec<_> = devices
        .into_iter()
        .enumerate()
        .map(|(p, mut phone)| {
            let api = api.clone();
            tokio::spawn(async move {
                for i in 0..RESPONSES_EACH {
                    let seed = p as i64 * 100 + i;
                    phone
                        .engine
                        .create_response("outreach", &edit(seed))
                        .expect("response");
                    phone.try_sync_once(&api).await?;
                }
                Ok::<_, String>(phone)
            })
        })
        .collect();

    let (mut refused, mut throttled) = (0, 0);
    for guess in guesses {
        let reply = guess.await.expect("task");
        match (reply.status, reply.error_code().as_str()) {
            (401, "invalid_code") => refused += 1,
            (429, "too_many_attempts") => {
                let wait: u64 = reply
                    .headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .expect("Retry-After in whole seconds");
                assert!(wait >= 1);
                throttled += 1;
            }
            other => panic!("a wrong code got {other:?}"),
        }
    }
    for sync in syncs {
        let mut phone = sync.await.expect("task").expect("every sync went through");
        phone.sync_fully(api).await;
    }
    assert!(throttled > 0, "no 429 among {WRONG_CODES} wrong codes");
    assert!(refused >= 10, "the budget allowed {refused} wrong codes");
    let stored = "SELECT COUNT(*) FROM responses WHERE dataset = $1";
    assert_eq!(
        server.db.count(stored, dataset).await,
        PHONES as i64 * RESPONSES_EACH
    );

    let metrics = server.metrics.get("/metrics", None).await.text();
    assert!(
        metrics.contains(&format!("survey_enroll_wrong_codes_total {refused}\n")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("survey_enroll_throttled_total {throttled}\n")),
        "{metrics}"
    );
}

async fn right_enrollment_codes_never_spend_the_budget(backend: Backend) {
    let server = limited_server(&backend, 2).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let dataset = api.create_dataset(&admin, "training day", "live").await;
    let code = api.enrollment_code(&admin, dataset, 10).await;
    for _ in 0..10 {
        let reply = api.post_json("/v1/enroll", None, &json!({ "code": code })).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }
    let used_up = api.post_json("/v1/enroll", None, &json!({ "code": code })).await;
    assert_eq!(
        (used_up.status, used_up.error_code().as_str()),
        (401, "invalid_code")
    );
    for body in [
        json!({ "code": "x".repeat(100_000) }),
        json!({ "code": 7 }),
        json!({}),
    ] {
        let reply = api.post_json("/v1/enroll", None, &body).await;
        assert!(
            matches!(reply.status, 400 | 401 | 429),
            "{body}: {}",
            reply.text()
        );
        reply.error_code();
    }
}

/// SQLite only: there another process can hold the one write lock. A wrong code is answered
/// while it is held; had it waited for the lock, it would have failed after the 30 s busy
/// timeout.
mod sqlite_only {
    use serde_json::json;
    use sqlx::Connection as _;

    use crate::support::{Backend, TestServer};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_enrollment_code_is_answered_while_another_process_holds_the_write_lock() {
        let server = TestServer::start(&Backend::Sqlite).await;
        let admin = server.admin_token().await;
        server.api.create_dataset(&admin, "d", "live").await;
        let mut other = sqlx::SqliteConnection::connect(&server.db.url)
            .await
            .expect("connect");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .expect("write lock");
        let reply = server
            .api
            .post_json("/v1/enroll", None, &json!({ "code": "WRNG-CODE-AAAA-BBBB" }))
            .await;
        assert_eq!((reply.status, reply.error_code().as_str()), (401, "invalid_code"));
        sqlx::query("ROLLBACK")
            .execute(&mut other)
            .await
            .expect("release");
    }
}
