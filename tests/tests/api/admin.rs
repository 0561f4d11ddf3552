//! Forms, enrollment, tokens, OpenAPI and metrics.

use serde_json::json;

use crate::on_both_backends;
use crate::support::process::{ServerProcess, run};
use crate::support::{Backend, Device, FORM_JSON, TestDb, TestServer};

on_both_backends!(
    form_versions_reach_devices,
    enrollment_codes_are_single_use_and_typo_tolerant,
    serve_demo_prints_working_credentials,
);

async fn form_versions_reach_devices(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let path = format!("/v1/datasets/{dataset}/forms");

    let again = api
        .post_json(
            &path,
            Some(&admin),
            &serde_json::from_str(FORM_JSON).expect("form"),
        )
        .await;
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (409, "version_exists")
    );
    let mut v2: serde_json::Value = serde_json::from_str(FORM_JSON).expect("form");
    v2["version"] = json!(2);
    v2["x-note"] = json!("kept as published");
    assert_eq!(api.post_json(&path, Some(&admin), &v2).await.status, 201);
    let listed = api.get(&path, Some(&admin)).await.json();
    assert_eq!(listed, json!([v2]), "latest version of each form, as published");

    devices[0].sync_fully(api).await;
    let engine = &devices[0].engine;
    assert!(engine.form("outreach", Some(1)).is_ok());
    assert_eq!(engine.form("outreach", None).map(|f| f.version), Ok(2));
}

async fn enrollment_codes_are_single_use_and_typo_tolerant(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let dataset = api.create_dataset(&admin, "d", "live").await;
    let code = api.enrollment_code(&admin, dataset, 1).await;
    let typed = code.to_lowercase().replace('-', " ");
    let device = Device::enroll(api, &typed).await;
    assert_eq!(device.engine.dataset(), dataset);
    let again = api.post_json("/v1/enroll", None, &json!({ "code": code })).await;
    assert_eq!((again.status, again.error_code().as_str()), (401, "invalid_code"));
    // The answer names the dataset's mode: phones delete what they sent by default when live.
    let demo = api.create_dataset(&admin, "training", "demo").await;
    for (dataset, mode) in [(dataset, "live"), (demo, "demo")] {
        let code = api.enrollment_code(&admin, dataset, 1).await;
        let reply = api.post_json("/v1/enroll", None, &json!({ "code": code })).await;
        assert_eq!(reply.status, 201);
        assert_eq!(reply.json()["mode"], mode);
    }
}

#[tokio::test]
async fn openapi_lists_every_route_and_every_listed_route_exists() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let api = &server.api;
    let document = api.get("/openapi.json", None).await.json();
    let paths = document["paths"].as_object().expect("paths");
    let some_id = uuid::Uuid::new_v4().to_string();
    let mut operations = 0;
    for (path, methods) in paths {
        for method in methods.as_object().expect("methods").keys() {
            operations += 1;
            let url = path.replace("{id}", &some_id).replace("{response}", &some_id);
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let reply = api
                .send(method.clone(), &url, None, None, Vec::new())
                .await
                .expect("request");
            assert!(
                ![404, 405].contains(&reply.status),
                "{method} {path}: {}",
                reply.status
            );
        }
    }
    // The router's own test checks the document against the route table; this count is the
    // reminder that a new route changes the published API.
    assert_eq!(
        operations, 33,
        "a new route needs its #[utoipa::path] in handlers::openapi"
    );
}

#[tokio::test]
async fn metrics_count_syncs_and_latency_by_route() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    devices[0].engine.create_site("s", "S").expect("site");
    devices[0].sync_fully(api).await;
    let reply = server.metrics.get("/metrics", None).await;
    assert!(reply.content_type.starts_with("text/plain"));
    let text = reply.text();
    assert!(text.contains("survey_sync_requests_total 2"), "{text}");
    assert!(text.contains("survey_documents_merged_total 1"), "{text}");
    assert!(
        text.contains("survey_http_request_duration_seconds_count{route=\"/v3/sync\"} 2"),
        "{text}"
    );
}

async fn serve_demo_prints_working_credentials(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let (server, printed) = ServerProcess::start_with(&db.url, &["--demo"]);
    let value = |label: &str| -> String {
        printed
            .iter()
            .find_map(|line| line.strip_prefix(label))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_else(|| panic!("no {label:?} in {printed:?}"))
    };
    let (admin, trainer, code) = (
        value("admin token:"),
        value("trainer token:"),
        value("enrollment code:"),
    );
    let api = &server.api;
    let datasets = api.get("/v1/datasets", Some(&admin)).await.json();
    let demo = datasets[0]["id"].as_str().expect("demo dataset").to_owned();
    assert_eq!(datasets[0]["mode"], "demo");
    let forms = api
        .get(&format!("/v1/datasets/{demo}/forms"), Some(&trainer))
        .await
        .json();
    assert_eq!(forms[0]["id"], "community-stigma");
    let mut phone = Device::enroll(api, &code).await;
    phone.sync_fully(api).await;
    assert_eq!(phone.engine.forms().len(), 2, "the built-in forms reach phones");
    assert_eq!(phone.engine.sites().len(), 8, "and the seeded outreach sites");
    let reset = api
        .post_json(
            &format!("/v1/datasets/{demo}/reset"),
            Some(&trainer),
            &json!({ "seed": 1, "responses": 0 }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.text());

    // The demo admin is limited to the demo dataset: it sees no other, and makes none.
    let (ok, stdout, stderr) = run(&["token", "create", "--role", "admin", "--database", &db.url]);
    assert!(ok, "{stderr}");
    let real_admin = stdout.trim();
    api.create_dataset(real_admin, "live work", "live").await;
    let listed = api.get("/v1/datasets", Some(&admin)).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let made = api
        .post_json(
            "/v1/datasets",
            Some(&admin),
            &json!({ "name": "mine", "mode": "live" }),
        )
        .await;
    assert_eq!(made.status, 403, "{}", made.text());
    server.kill();

    // A second start reuses the demo dataset.
    let (server, _) = ServerProcess::start_with(&db.url, &["--demo"]);
    let datasets = server.api.get("/v1/datasets", Some(&admin)).await.json();
    assert_eq!(datasets.as_array().map(Vec::len), Some(1));
    server.kill();
}

#[test]
fn migrate_creates_the_sqlite_file_and_its_folder() {
    let folder = std::env::temp_dir().join(format!("survey-migrate-{}", uuid::Uuid::new_v4().simple()));
    let file = folder.join("nested").join("survey.db");
    let url = format!("sqlite://{}", file.display());
    let (ok, stdout, stderr) = run(&["migrate", "--database", &url]);
    assert!(ok, "{stderr}");
    assert!(stdout.is_empty(), "migrate prints nothing on stdout");
    assert!(file.exists());
    let (ok, _, stderr) = run(&["migrate", "--database", &url]);
    assert!(ok, "migrating twice is a no-op: {stderr}");
    let (ok, _, stderr) = run(&["migrate", "--database", "mysql://nope"]);
    assert!(!ok && stderr.contains("sqlite://"), "{stderr}");
    let _ = std::fs::remove_dir_all(folder);
}
