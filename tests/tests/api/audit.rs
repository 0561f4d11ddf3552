//! The audit log, read back by admins (issue 19): who, what, which dataset, which day; never
//! what a form or a token said.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, FORM_JSON, TestServer};
use crate::tokens::today;

on_both_backends!(
    the_audit_log_says_who_did_what_and_which_day,
    audit_queries_with_hostile_input_get_a_clear_4xx,
);

async fn the_audit_log_says_who_did_what_and_which_day(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let live = api.create_dataset(&admin, "live", "live").await;
    api.publish_form(&admin, live, FORM_JSON).await;
    let other = api.create_dataset(&admin, "other", "live").await;
    let (limited, id) = api.token_with_id(&admin, "admin", Some(other)).await;
    api.delete(&format!("/v1/tokens/{id}"), Some(&admin)).await;
    let (limited_still, _) = api.token_with_id(&admin, "admin", Some(other)).await;
    assert_eq!(api.get("/v1/audit", Some(&limited)).await.status, 401);

    let reply = api.get("/v1/audit", Some(&admin)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    assert!(!text.contains("Outreach contact log"), "no form content");
    assert!(!text.contains(&limited), "no token");
    let log = reply.json();
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "create_token:admin",
            "revoke_token:admin",
            "create_token:admin",
            "create_dataset",
            "publish_form",
            "create_dataset",
            // The test's own admin token, made as `survey-server token create` makes one.
            "create_token:admin",
        ],
        "newest first"
    );
    assert_eq!(
        log[0],
        json!({ "actor": "test admin", "role": "admin", "action": "create_token:admin", "dataset": other, "day": today() })
    );

    let one = api
        .get(&format!("/v1/audit?dataset={live}&limit=1"), Some(&admin))
        .await
        .json();
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    assert_eq!(one[0]["action"], "publish_form");
    // A limited admin reads its own dataset's records, and no other's.
    let own = api.get("/v1/audit", Some(&limited_still)).await.json();
    assert!(
        own.as_array()
            .expect("log")
            .iter()
            .all(|e| e["dataset"] == other.to_string()),
        "{own}"
    );
    assert_eq!(own.as_array().map(Vec::len), Some(4));
    let reply = api
        .get(&format!("/v1/audit?dataset={live}"), Some(&limited_still))
        .await;
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"));
}

async fn audit_queries_with_hostile_input_get_a_clear_4xx(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    for query in [
        "limit=0",
        "limit=1001",
        "limit=-5",
        "limit=abc",
        "limit=99999999999999999999",
        "dataset=not-a-uuid",
        "dataset=",
        "unknown=1",
        "limit=1&limit=2",
        "%zz",
    ] {
        let reply = api.get(&format!("/v1/audit?{query}"), Some(&admin)).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "bad_query"),
            "{query}"
        );
    }
    let reply = api.get("/v1/audit?limit=1000", Some(&admin)).await;
    assert_eq!(reply.status, 200);
}
