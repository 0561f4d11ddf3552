//! Hostile and malformed input: always the right 4xx with a JSON error, and the server keeps
//! serving.

use reqwest::Method;
use serde_json::{Value, json};
use survey_server::SyncSettings;

use crate::on_both_backends;
use crate::support::{Api, Backend, TestServer};

on_both_backends!(
    bad_sync_bodies_get_4xx,
    bad_v2_sync_bodies_get_4xx_and_apply_nothing,
    hostile_text_and_paths_get_4xx_or_are_stored_verbatim
);

const BODY_LIMIT: usize = 64 * 1024;
const SQL: &str = "x'); DROP TABLE datasets; -- \" OR 1=1 /*";

async fn expect(api: &Api, reply: crate::support::Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.error_code(), code, "{}", reply.text());
    assert!(
        reply.content_type.starts_with("application/json"),
        "{}",
        reply.content_type
    );
    // A fresh client: after a 413 the server closes that connection without reading the body.
    let fresh = Api::new(api.base.clone());
    assert_eq!(
        fresh.get("/healthz", None).await.status,
        200,
        "server still serving"
    );
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("cbor");
    out
}

async fn bad_sync_bodies_get_4xx(backend: Backend) {
    let settings = SyncSettings {
        max_body_bytes: BODY_LIMIT,
        ..SyncSettings::default()
    };
    let server = TestServer::start_with(&backend, settings).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let token = devices[0].token.clone();
    let token = Some(token.as_str());
    // Each request on its own connection: after a 413 the server closes the connection without
    // reading the body, and a pooled client could send the next request into that closing
    // connection (seen as a flaky `IncompleteMessage`).
    let send = |content_type: Option<&'static str>, body: Vec<u8>| {
        let api = Api::new(api.base.clone());
        let token = token.map(str::to_owned);
        async move {
            api.send(Method::POST, "/v1/sync", token.as_deref(), content_type, body)
                .await
                .expect("request")
        }
    };

    expect(
        api,
        send(Some("application/cbor"), b"\xff\x00garbage".to_vec()).await,
        400,
        "malformed",
    )
    .await;
    expect(
        api,
        send(Some("application/cbor"), Vec::new()).await,
        400,
        "malformed",
    )
    .await;
    expect(
        api,
        send(Some("application/json"), b"{}".to_vec()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    expect(
        api,
        send(None, b"x".to_vec()).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let future = cbor(&json!({ "v": 2, "dataset": dataset.to_string(), "epoch": 1, "docs": [] }));
    expect(
        api,
        send(Some("application/cbor"), future).await,
        400,
        "unsupported_version",
    )
    .await;
    let wrong_shape = cbor(&json!({ "v": 1, "dataset": "not a uuid", "epoch": -1, "docs": "x" }));
    expect(
        api,
        send(Some("application/cbor"), wrong_shape).await,
        400,
        "malformed",
    )
    .await;
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let deep = cbor(&json!({ "v": 1, "x": deep }));
    assert!(send(Some("application/cbor"), deep).await.status == 400);
    expect(
        api,
        send(Some("application/cbor"), vec![0; BODY_LIMIT + 1]).await,
        413,
        "too_large",
    )
    .await;
    let bad_head = cbor(&json!({ "v": 1, "dataset": dataset.to_string(), "epoch": 1,
        "docs": [{ "id": uuid::Uuid::new_v4().to_string(), "kind": "site", "heads": [[1, 2]], "changes": [] }] }));
    assert_eq!(send(Some("application/cbor"), bad_head).await.status, 400);
    let bad_kind = cbor(&json!({ "v": 1, "dataset": dataset.to_string(), "epoch": 1,
        "docs": [{ "id": uuid::Uuid::new_v4().to_string(), "kind": "x'; DROP TABLE documents; --", "heads": [], "changes": [] }] }));
    expect(
        api,
        send(Some("application/cbor"), bad_kind).await,
        400,
        "malformed",
    )
    .await;
    expect(
        api,
        api.post_sync(Some("Bearer nonsense"), Vec::new()).await,
        401,
        "unauthorized",
    )
    .await;
    expect(
        api,
        api.post_sync(Some(&"t".repeat(2_000)), Vec::new()).await,
        401,
        "unauthorized",
    )
    .await;

    // After all that, an ordinary sync still works.
    let api = &Api::new(api.base.clone());
    // SQL-looking free text inside documents is just text.
    let site = devices[0].engine.create_site("ok", SQL).expect("site");
    let mut answers = crate::sync_scenarios::edit(1);
    answers.answers.retain(|(q, _)| q != "notes");
    answers
        .answers
        .push(("notes".into(), sync_core::Answer::Text(SQL.into())));
    let response = devices[0]
        .engine
        .create_response("outreach", &answers)
        .expect("response");
    devices[0].sync_fully(api).await;
    assert!(
        devices[0].engine.rejections().is_empty(),
        "{:?}",
        devices[0].engine.rejections()
    );
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM responses WHERE document = $1", response)
            .await,
        1
    );
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM site_tallies WHERE document = $1", site)
            .await,
        5
    );
}

async fn hostile_text_and_paths_get_4xx_or_are_stored_verbatim(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let admin = Some(admin.as_str());
    let long = "é".repeat(5_000);

    // Datasets: SQL-looking names are just text; over-long ones are refused.
    let created = api
        .post_json("/v1/datasets", admin, &json!({ "name": SQL, "mode": "demo" }))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let dataset = created.json()["id"].as_str().expect("id").to_owned();
    let listed = api.get("/v1/datasets", admin).await.json();
    assert!(listed.as_array().expect("list").iter().any(|d| d["name"] == SQL));
    for (body, code) in [
        (json!({ "name": long, "mode": "live" }), "invalid"),
        (json!({ "name": "", "mode": "live" }), "invalid"),
        (json!({ "name": "line\nbreak", "mode": "live" }), "invalid"),
        (json!({ "name": "n", "mode": "live", "k": 2 }), "invalid"),
        (json!({ "name": "n", "mode": SQL }), "bad_json"),
        (json!({ "name": "n", "mode": "live", "extra": SQL }), "bad_json"),
        (json!([SQL]), "bad_json"),
    ] {
        expect(api, api.post_json("/v1/datasets", admin, &body).await, 400, code).await;
    }
    let raw = api
        .send(
            Method::POST,
            "/v1/datasets",
            admin,
            Some("application/json"),
            b"{\"name\": ".to_vec(),
        )
        .await
        .expect("request");
    expect(api, raw, 400, "bad_json").await;
    let untyped = api
        .send(
            Method::POST,
            "/v1/datasets",
            admin,
            None,
            br#"{"name":"n","mode":"live"}"#.to_vec(),
        )
        .await
        .expect("request");
    expect(api, untyped, 415, "unsupported_media_type").await;

    // Forms: ids are identifiers, titles are text.
    let mut form: Value = serde_json::from_str(crate::support::FORM_JSON).expect("form");
    form["title"] = json!(SQL);
    let forms_path = format!("/v1/datasets/{dataset}/forms");
    assert_eq!(api.post_json(&forms_path, admin, &form).await.status, 201);
    assert_eq!(api.get(&forms_path, admin).await.json()[0]["title"], SQL);
    for (key, value) in [
        ("id", json!(SQL)),
        ("id", json!(long)),
        ("title", json!("")),
        ("version", json!(SQL)),
    ] {
        let mut bad = form.clone();
        bad[key] = value;
        bad["version"] = if key == "version" {
            bad["version"].clone()
        } else {
            json!(5)
        };
        let reply = api.post_json(&forms_path, admin, &bad).await;
        assert_eq!(reply.status, 400, "{key}: {}", reply.text());
        reply.error_code();
    }
    let mut identifying = form.clone();
    identifying["version"] = json!(6);
    identifying["questions"][0] = json!({ "id": "phone", "type": "text", "label": "Phone number" });
    expect(
        api,
        api.post_json(&forms_path, admin, &identifying).await,
        400,
        "identifying_question",
    )
    .await;

    // Enrollment labels, codes and token names.
    let enroll_path = format!("/v1/datasets/{dataset}/enrollments");
    let ok = api
        .post_json(
            &enroll_path,
            admin,
            &json!({ "label": SQL, "uses": 1, "expires_in_hours": 1 }),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text());
    for body in [
        json!({ "label": long, "uses": 1, "expires_in_hours": 1 }),
        json!({ "label": "l", "uses": 0, "expires_in_hours": 1 }),
        json!({ "label": "l", "uses": 1, "expires_in_hours": 100_000 }),
        json!({ "label": "l", "uses": SQL, "expires_in_hours": 1 }),
    ] {
        let reply = api.post_json(&enroll_path, admin, &body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
    }
    for code in [SQL, long.as_str(), ""] {
        expect(
            api,
            api.post_json("/v1/enroll", None, &json!({ "code": code })).await,
            401,
            "invalid_code",
        )
        .await;
    }
    let named = api
        .post_json("/v1/tokens", admin, &json!({ "role": "analyst", "name": SQL }))
        .await;
    assert_eq!(named.status, 201);
    expect(
        api,
        api.post_json("/v1/tokens", admin, &json!({ "role": "analyst", "name": long }))
            .await,
        400,
        "invalid",
    )
    .await;
    expect(
        api,
        api.post_json("/v1/tokens", admin, &json!({ "role": "device", "name": "d" }))
            .await,
        400,
        "invalid",
    )
    .await;
    expect(
        api,
        api.post_json("/v1/tokens", admin, &json!({ "role": SQL, "name": "d" }))
            .await,
        400,
        "bad_json",
    )
    .await;

    // Paths.
    for path in [
        "/v1/datasets/not-a-uuid/forms",
        "/v1/datasets/1%27%20OR%20%271%27=%271/forms",
        "/v1/datasets/%00/quarantine",
    ] {
        expect(api, api.get(path, admin).await, 400, "bad_id").await;
    }
    let long_path = format!("/v1/datasets/{}/forms", "a".repeat(4000));
    expect(api, api.get(&long_path, admin).await, 400, "bad_id").await;
    let unknown = format!("/v1/datasets/{}/forms", uuid::Uuid::new_v4());
    expect(api, api.get(&unknown, admin).await, 404, "not_found").await;
    expect(api, api.get("/v1/nothing/here", admin).await, 404, "not_found").await;
    let wrong_method = api
        .send(Method::DELETE, "/v1/datasets", admin, None, Vec::new())
        .await
        .expect("request");
    expect(api, wrong_method, 405, "method_not_allowed").await;
}

/// `/v2/sync` takes v2 bodies only, and a device may not send a document saved whole.
async fn bad_v2_sync_bodies_get_4xx_and_apply_nothing(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices_speaking(&admin, "live", 1, 2).await;
    let device = &mut devices[0];
    let site = device.engine.create_site("dock", "Dock").expect("site");
    let token = Some(device.token.clone());
    let send = |body: Vec<u8>| {
        let api = Api::new(api.base.clone());
        let token = token.clone();
        async move {
            api.send(
                Method::POST,
                "/v2/sync",
                token.as_deref(),
                Some("application/cbor"),
                body,
            )
            .await
            .expect("POST /v2/sync")
        }
    };

    let mut request = device.engine.build_request(1 << 20);
    assert_eq!(request.v, 2);
    // The site's changes, but also a state: the whole request is refused.
    let saved = device.engine.document_mut(site).expect("site").save();
    request.docs[0].state = Some(serde_bytes::ByteBuf::from(saved));
    let with_state = sync_core::encode_request(&request);
    expect(api, send(with_state).await, 400, "malformed").await;
    let documents = "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'site'";
    assert_eq!(server.db.count(documents, dataset).await, 0, "nothing applied");

    request.docs[0].state = None;
    request.v = 1;
    let v1_body = sync_core::encode_request(&request);
    expect(api, send(v1_body).await, 400, "unsupported_version").await;
    let future = cbor(&json!({ "v": 3, "dataset": dataset.to_string(), "epoch": 1, "docs": [] }));
    expect(api, send(future).await, 400, "unsupported_version").await;
    expect(
        api,
        send(b"\xa1\x61v\x02 trailing junk".to_vec()).await,
        400,
        "malformed",
    )
    .await;
    let bad_state = cbor(&json!({ "v": 2, "dataset": dataset.to_string(), "epoch": 1,
        "docs": [{ "id": site.to_string(), "kind": "site", "heads": [], "changes": [], "state": "not bytes" }] }));
    expect(api, send(bad_state).await, 400, "malformed").await;

    // The same device then syncs normally over v2.
    device.sync_fully(api).await;
    assert_eq!(server.db.count(documents, dataset).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_limit_comes_from_the_command_line() {
    let db = crate::support::TestDb::create(&Backend::Sqlite).await;
    let (ok, admin, stderr) =
        crate::support::process::run(&["token", "create", "--role", "admin", "--database", &db.url]);
    assert!(ok, "{stderr}");
    let (server, _) =
        crate::support::process::ServerProcess::start_with(&db.url, &["--max-body-bytes", "1000"]);
    let api = &server.api;
    let (_, devices) = api.dataset_with_devices(admin.trim(), "live", 1).await;
    let token = Some(devices[0].token.as_str());
    expect(api, api.post_sync(token, vec![0; 1001]).await, 413, "too_large").await;
    // At the limit the body is read, and refused for what it is rather than its size.
    expect(api, api.post_sync(token, vec![0; 1000]).await, 400, "malformed").await;
    server.kill();
}
