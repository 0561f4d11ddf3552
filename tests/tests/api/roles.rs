//! Every endpoint with no token, each role, and tokens limited to another dataset.

use reqwest::Method;
use serde_json::json;
use sync_core::{SyncRequest, encode_request};

use crate::on_both_backends;
use crate::support::{Backend, Device, FORM_JSON, TestServer};

on_both_backends!(role_by_endpoint_matrix);

/// A request and the status expected for each caller, in `CALLERS` order.
type Row = (Method, String, &'static str, Vec<u8>, [u16; 7]);

const CALLERS: [&str; 7] = [
    "none",
    "admin",
    "analyst",
    "trainer",
    "device",
    "admin@other",
    "trainer@other",
];

async fn role_by_endpoint_matrix(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let live = api.create_dataset(&admin, "live", "live").await;
    let demo = api.create_dataset(&admin, "demo", "demo").await;
    let other = api.create_dataset(&admin, "other", "demo").await;
    let doomed = api.create_dataset(&admin, "doomed", "demo").await;
    api.publish_form(&admin, live, FORM_JSON).await;
    let code = api.enrollment_code(&admin, live, 2).await;
    let device = Device::enroll(api, &code).await;
    // Withdrawn in the matrix, so the first device keeps its token throughout.
    let withdrawn = Device::enroll(api, &code).await;
    let withdrawn = withdrawn.id;
    let (_, victim) = api.token_with_id(&admin, "analyst", Some(live)).await;
    let tokens = [
        None,
        Some(admin.clone()),
        Some(api.token(&admin, "analyst", None).await),
        Some(api.token(&admin, "trainer", None).await),
        Some(device.token.clone()),
        Some(api.token(&admin, "admin", Some(other)).await),
        Some(api.token(&admin, "trainer", Some(other)).await),
    ];
    let sync_body = encode_request(&SyncRequest {
        v: 1,
        dataset: live,
        epoch: 1,
        docs: Vec::new(),
        totals_seen: None,
    });
    let form_v = |v: i64| -> Vec<u8> {
        let mut form: serde_json::Value = serde_json::from_str(FORM_JSON).expect("form");
        form["version"] = json!(v);
        form.to_string().into_bytes()
    };
    let enrollment = json!({ "label": "phones", "uses": 1, "expires_in_hours": 2 })
        .to_string()
        .into_bytes();
    let reset = json!({ "seed": 7, "responses": 0 }).to_string().into_bytes();
    let new_token = json!({ "role": "analyst", "name": "a", "dataset": live })
        .to_string()
        .into_bytes();

    // (method, path, content type, body, expected status per caller in CALLERS order)
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        (Method::GET, "/healthz".into(), "", vec![], [200, 200, 200, 200, 200, 200, 200]),
        // Metrics are served on their own listener only.
        (Method::GET, "/metrics".into(), "", vec![], [404, 404, 404, 404, 404, 404, 404]),
        (Method::GET, "/openapi.json".into(), "", vec![], [200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/v1/datasets".into(), "", vec![], [401, 200, 200, 200, 403, 200, 200]),
        (Method::POST, "/v1/datasets".into(), "application/json", br#"{"name":"n","mode":"live"}"#.to_vec(), [401, 201, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/v1/datasets/{live}/forms"), "application/json", form_v(2), [401, 201, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/forms"), "", vec![], [401, 200, 200, 200, 403, 403, 403]),
        (Method::POST, format!("/v1/datasets/{live}/enrollments"), "application/json", enrollment.clone(), [401, 201, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/v1/datasets/{demo}/enrollments"), "application/json", enrollment.clone(), [401, 201, 403, 201, 403, 403, 403]),
        (Method::POST, format!("/v1/datasets/{live}/reset"), "application/json", reset.clone(), [401, 409, 403, 409, 403, 403, 403]),
        (Method::POST, format!("/v1/datasets/{demo}/reset"), "application/json", reset.clone(), [401, 200, 403, 200, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/quarantine"), "", vec![], [401, 200, 403, 403, 403, 403, 403]),
        (Method::DELETE, format!("/v1/datasets/{live}/quarantine"), "", vec![], [401, 200, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/aggregates?form=outreach&by=area"), "", vec![], [401, 200, 200, 403, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/tallies?by=site"), "", vec![], [401, 200, 200, 403, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/query-log"), "", vec![], [401, 200, 403, 403, 403, 403, 403]),
        (Method::POST, "/v1/tokens".into(), "application/json", new_token, [401, 201, 403, 403, 403, 403, 403]),
        (Method::GET, "/v1/tokens".into(), "", vec![], [401, 200, 403, 403, 403, 200, 403]),
        (Method::DELETE, format!("/v1/tokens/{victim}"), "", vec![], [401, 200, 403, 403, 403, 404, 403]),
        (Method::DELETE, format!("/v1/datasets/{doomed}"), "", vec![], [401, 200, 403, 403, 403, 403, 403]),
        (Method::DELETE, format!("/v1/datasets/{live}/responses/{victim}"), "", vec![], [401, 404, 403, 403, 404, 403, 403]),
        (Method::PUT, format!("/v1/datasets/{live}/responses/{victim}/review"), "application/json", br#"{"state":"approved"}"#.to_vec(), [401, 404, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/responses/{victim}/review"), "", vec![], [401, 404, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/reviews"), "", vec![], [401, 200, 403, 403, 403, 403, 403]),
        (Method::GET, format!("/v1/datasets/{live}/devices"), "", vec![], [401, 200, 403, 403, 403, 403, 403]),
        (Method::POST, format!("/v1/devices/{withdrawn}/revoke"), "", vec![], [401, 200, 403, 403, 403, 404, 403]),
        (Method::GET, "/v1/audit".into(), "", vec![], [401, 200, 403, 403, 403, 200, 403]),
        (Method::POST, "/v1/enroll".into(), "application/json", br#"{"code":"NOPE-NOPE"}"#.to_vec(), [401, 401, 401, 401, 401, 401, 401]),
        (Method::POST, "/v1/sync".into(), "application/cbor", sync_body, [401, 403, 403, 403, 200, 403, 403]),
    ];

    let mut failures = Vec::new();
    for (method, path, content_type, body, expected) in rows {
        for (i, token) in tokens.iter().enumerate() {
            let content_type = (!content_type.is_empty()).then_some(content_type);
            let reply = api
                .send(
                    method.clone(),
                    &path,
                    token.as_deref(),
                    content_type,
                    body.clone(),
                )
                .await
                .expect("request");
            if reply.status != expected[i] {
                failures.push(format!(
                    "{method} {path} as {}: {} ({})",
                    CALLERS[i],
                    reply.status,
                    reply.text()
                ));
            }
            if reply.status >= 400 {
                reply.error_code();
            }
        }
    }
    assert!(
        failures.is_empty(),
        "unexpected statuses:\n{}",
        failures.join("\n")
    );

    // The scheme of the Authorization header is case-insensitive (RFC 9110).
    let reply = reqwest::Client::new()
        .get(format!("{}/v1/datasets", api.base))
        .header("authorization", format!("bearer {admin}"))
        .send()
        .await
        .expect("request");
    assert_eq!(reply.status().as_u16(), 200);

    // A token limited to another dataset sees only that one in the list.
    let listed = api.get("/v1/datasets", tokens[5].as_deref()).await.json();
    let ids: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, vec![other.to_string().as_str()]);
    // Every admin and trainer action is in the audit log.
    assert!(
        server
            .db
            .count("SELECT COUNT(*) FROM audit_log WHERE dataset = $1", demo)
            .await
            >= 4
    );
}
