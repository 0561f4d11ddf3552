//! Analyst aggregates over HTTP: every combination listed and perturbed, small cells
//! suppressed, hostile query strings refused with a code, queries logged and budgeted, free
//! text never leaves, CSV marks suppression, and every sync shows in the next query. The
//! attacks of issue 17 are in `aggregates_attacks`.

use std::collections::HashMap;

use serde_json::{Value, json};
use survey_server::SyncSettings;
use sync_core::{Answer, Day, ResponseEdit};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, Rng, TestServer};

on_both_backends!(
    aggregates_list_every_cell_perturbed_and_hide_small_ones,
    bad_aggregate_queries_are_refused_with_codes,
    aggregate_queries_are_logged_for_admins_and_budgeted_per_token,
    a_sync_shows_in_the_very_next_query,
);

async fn seeded(api: &Api, admin: &str, responses: u64) -> Uuid {
    let demo = api.create_dataset(admin, "aggregates", "demo").await;
    let reply = api
        .post_json(
            &format!("/v1/datasets/{demo}/reset"),
            Some(admin),
            &json!({ "seed": 3, "responses": responses }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    demo
}

async fn shown(api: &Api, token: &str, dataset: Uuid, query: &str) -> (Value, HashMap<String, u64>) {
    let reply = api
        .get(&format!("/v1/datasets/{dataset}/aggregates?{query}"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text());
    let table = reply.json();
    let cells = table["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter(|c| c.get("suppressed").is_none())
        .map(|c| (c["key"].to_string(), c["n"].as_u64().expect("n")))
        .collect();
    (table, cells)
}

async fn aggregates_list_every_cell_perturbed_and_hide_small_ones(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let demo = seeded(api, &admin, 600).await;
    let analyst = api.token(&admin, "analyst", Some(demo)).await;

    let (table, cells) = shown(api, &analyst, demo, "form=community-stigma&by=area,age_group").await;
    assert_eq!(table["k"], 11);
    assert_eq!(table["max_adjustment"], 2);
    assert_eq!(
        table["cells"].as_array().map(Vec::len),
        Some(6 * 5),
        "five areas and four age groups, each with a total"
    );
    assert!(cells.values().all(|n| *n >= 11), "{table}");
    assert!(
        table["suppressed"].as_u64() > Some(0),
        "the seeded data has small cells: {table}"
    );
    let path = format!("/v1/datasets/{demo}/aggregates?form=community-stigma&by=area,age_group");
    let (once, twice) = (
        api.get(&path, Some(&analyst)).await.text(),
        api.get(&path, Some(&analyst)).await.text(),
    );
    assert_eq!(once, twice, "equal data, byte-equal answers");

    let csv = api.get_as(&path, Some(&analyst), "text/csv").await;
    assert_eq!(csv.status, 200);
    let text = csv.text();
    assert!(text.starts_with("area,age_group,n,count\r\n"), "{text}");
    assert!(
        text.contains("*,*,"),
        "the grand total is a row of its own: {text}"
    );
    assert!(
        text.contains("suppressed,suppressed"),
        "suppressed cells are marked, not zero"
    );

    // The keys live in the database: after a restart, or on another replica, the same noise.
    let db = server.stop().await;
    let restarted = TestServer::start_on(db, SyncSettings::default()).await;
    assert_eq!(restarted.api.get(&path, Some(&analyst)).await.text(), once);
    restarted.stop().await;
}

async fn bad_aggregate_queries_are_refused_with_codes(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let demo = seeded(api, &admin, 30).await;
    for (query, status, code) in [
        ("form=outreach-contact&by=notes", 400, "free_text"),
        (
            "form=outreach-contact&by=area&metric=mean:notes",
            400,
            "free_text",
        ),
        ("form=outreach-contact&by=nope", 400, "unknown_dimension"),
        ("form=outreach-contact", 400, "bad_query"),
        ("by=area", 400, "bad_query"),
        ("form=outreach-contact&by=area&from=yesterday", 400, "bad_query"),
        ("form=outreach-contact&by=area&where=gender", 400, "bad_query"),
        (
            "form=outreach-contact&by=area&where=gender=' OR 1=1 --",
            400,
            "unknown_value",
        ),
        (
            "form=outreach-contact&by=area,gender,age_group,services",
            400,
            "bad_query",
        ),
        ("form=no-such-form&by=area", 404, "not_found"),
        ("form=outreach-contact&by=area&metric=%ZZ", 400, "unknown_metric"),
        // More than three dimensions, filters and date windows together.
        (
            "form=outreach-contact&by=area,gender&where=contact_type=street&where=age_group=18-24",
            400,
            "bad_query",
        ),
        (
            "form=outreach-contact&by=area,gender,age_group&from=2026-06-01",
            400,
            "bad_query",
        ),
        // Hostile names and values.
        ("form=outreach-contact&by=%00", 400, "unknown_dimension"),
        ("form=outreach-contact&by=area,area", 400, "bad_query"),
        ("form=outreach-contact&by=,,,", 400, "bad_query"),
        ("form=outreach-contact&by=are%CC%81a", 400, "unknown_dimension"),
        ("form=outreach-contact&by=area&where==", 400, "unknown_dimension"),
        (
            "form=outreach-contact&by=area&where=area=%F0%9F%92%A3",
            400,
            "unknown_value",
        ),
        (
            "form=outreach-contact&by=area&where=people_present=99999999999999999999",
            400,
            "unknown_value",
        ),
        (
            "form=outreach-contact&by=area&where=week=2026-W99",
            400,
            "unknown_value",
        ),
        (
            "form=outreach-contact&by=area&to=2026-01-01&from=2026-12-01",
            400,
            "bad_query",
        ),
        ("form=outreach-contact&by=area&limit=1", 400, "bad_query"),
        (
            "form=outreach-contact&by=area&metric=mean:",
            400,
            "unknown_metric",
        ),
        (
            "form=outreach-contact&by=area&metric=mean:gender",
            400,
            "unknown_metric",
        ),
        ("form=outreach-contact&by=area&%", 400, "bad_query"),
    ] {
        let reply = api
            .get(&format!("/v1/datasets/{demo}/aggregates?{query}"), Some(&admin))
            .await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, code.to_string()),
            "{query}: {}",
            reply.text()
        );
    }
    // Random bytes in every position: never a 5xx.
    let mut rng = Rng::from_env();
    let pieces = [
        "by",
        "where",
        "from",
        "to",
        "metric",
        "form",
        "=",
        "&",
        ",",
        "%",
        "area",
        "gender",
        "*",
        "%00",
        "%FF",
        "mean:",
        "..",
        "2026-W20",
        "'",
        "\"",
        "outreach-contact",
    ];
    for _ in 0..200 {
        let query: String = (0..rng.below(12))
            .map(|_| pieces[rng.below(pieces.len() as u64) as usize])
            .collect();
        let reply = api
            .get(&format!("/v1/datasets/{demo}/aggregates?{query}"), Some(&admin))
            .await;
        assert!(reply.status < 500, "{query}: {} {}", reply.status, reply.text());
        if reply.status >= 400 {
            reply.error_code();
        }
    }
    assert_eq!(api.get("/healthz", None).await.status, 200, "still serving");
    server.stop().await;
}

/// Every answered query is in the dataset's query log for an admin; a token gets
/// `DAILY_QUERIES` answers a day, refused queries not counted.
async fn aggregate_queries_are_logged_for_admins_and_budgeted_per_token(backend: Backend) {
    use survey_server::disclosure::query_log::DAILY_QUERIES;

    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let demo = seeded(api, &admin, 40).await;
    let analyst = api.token(&admin, "analyst", Some(demo)).await;
    let path = format!("/v1/datasets/{demo}/aggregates?form=outreach-contact&by=area");
    assert_eq!(api.get(&path, Some(&analyst)).await.status, 200);
    let tallies = format!("/v1/datasets/{demo}/tallies?by=site");
    assert_eq!(api.get(&tallies, Some(&analyst)).await.status, 200);
    assert_eq!(
        api.get(&format!("{path}&by=notes"), Some(&analyst)).await.status,
        400
    );

    let log = api
        .get(&format!("/v1/datasets/{demo}/query-log"), Some(&admin))
        .await;
    assert_eq!(log.status, 200, "{}", log.text());
    let entries = log.json();
    let entries = entries.as_array().expect("entries");
    assert_eq!(entries.len(), 2, "answered queries only: {entries:?}");
    assert_eq!(entries[0]["route"], "tallies", "newest first");
    assert_eq!(entries[1]["token_name"], "test analyst");
    assert_eq!(entries[1]["role"], "analyst");
    assert_eq!(entries[1]["query"], "form=outreach-contact&by=area");
    assert_eq!(
        api.get(&format!("/v1/datasets/{demo}/query-log"), Some(&analyst))
            .await
            .status,
        403,
        "analysts do not read who asked what"
    );

    for _ in 2..DAILY_QUERIES {
        assert_eq!(api.get(&path, Some(&analyst)).await.status, 200);
    }
    let refused = api.get(&path, Some(&analyst)).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (429, "query_budget".to_string())
    );
    assert_eq!(
        api.get(&path, Some(&admin)).await.status,
        200,
        "the budget is per token"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_dashboard_is_served_locally_with_nothing_from_elsewhere() {
    let server = TestServer::start(&Backend::Sqlite).await;
    for (path, kind) in [
        ("/analyst", "text/html"),
        ("/analyst/dashboard.js", "text/javascript"),
        ("/analyst/dashboard.css", "text/css"),
    ] {
        let reply = server.api.get(path, None).await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(
            reply.content_type.starts_with(kind),
            "{path}: {}",
            reply.content_type
        );
        // The SVG namespace is a name, not a download.
        let text = reply.text().replace("http://www.w3.org/2000/svg", "");
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
    server.stop().await;
}

fn likert_answer(s1: i64, submit: bool) -> ResponseEdit {
    ResponseEdit {
        area: Some("north".into()),
        collected_on: Day::parse("2026-11-20").ok(),
        answers: vec![
            ("gender".into(), Answer::Single("f".into())),
            ("s1".into(), Answer::Likert(s1)),
        ],
        cleared: Vec::new(),
        submit,
    }
}

/// `(n, mean of s1)` of the one cell of women in the north.
async fn women_in_the_north(api: &Api, analyst: &str, dataset: Uuid) -> (u64, f64) {
    let (table, _) = shown(
        api,
        analyst,
        dataset,
        "form=outreach&by=gender&where=area=north&metric=mean:s1",
    )
    .await;
    let cell = table["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["key"]["gender"] == "f")
        .cloned()
        .unwrap_or_default();
    (
        cell["n"].as_u64().unwrap_or(0),
        cell["value"].as_f64().unwrap_or(f64::NAN),
    )
}

/// The analyst's first query loads the form's responses into memory; later syncs (new
/// responses, drafts submitted, answers changed) must show in the next query at once, not after
/// the store's 30 s lifetime.
async fn a_sync_shows_in_the_very_next_query(backend: Backend) {
    // Exact counts and means: this checks the store, not the protection.
    let server = TestServer::start_suppressing_only(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let device = &mut devices[0];
    let mut s1: Vec<i64> = (0..12).map(|i| i % 5 + 1).collect();
    let mut responses = Vec::new();
    for value in &s1 {
        responses.push(
            device
                .engine
                .create_response("outreach", &likert_answer(*value, true))
                .expect("response"),
        );
    }
    device.sync_fully(api).await;
    // Means are published to two decimals.
    let mean = |values: &[i64]| (values.iter().sum::<i64>() as f64 / values.len() as f64 * 1e2).round() / 1e2;
    assert_eq!(women_in_the_north(api, &analyst, dataset).await, (12, mean(&s1)));

    let drafts: Vec<Uuid> = [3, 4, 5]
        .iter()
        .map(|value| {
            device
                .engine
                .create_response("outreach", &likert_answer(*value, false))
                .expect("draft")
        })
        .collect();
    device.sync_fully(api).await;
    assert_eq!(
        women_in_the_north(api, &analyst, dataset).await,
        (12, mean(&s1)),
        "drafts do not count"
    );

    for (draft, value) in drafts.iter().zip([3, 4, 5]) {
        device
            .engine
            .edit_response(*draft, &likert_answer(value, true))
            .expect("submit");
        s1.push(value);
    }
    device.sync_fully(api).await;
    assert_eq!(women_in_the_north(api, &analyst, dataset).await, (15, mean(&s1)));

    let key = "SELECT record_key FROM responses WHERE document = $1";
    let first_key = server.db.count(key, responses[0]).await;
    device
        .engine
        .edit_response(responses[0], &likert_answer(5, true))
        .expect("edit");
    s1[0] = 5;
    let mut cleared = likert_answer(2, true);
    cleared.answers.truncate(1);
    cleared.cleared = vec!["s1".into()];
    device
        .engine
        .edit_response(responses[1], &cleared)
        .expect("clear");
    s1.remove(1);
    device.sync_fully(api).await;
    assert_eq!(women_in_the_north(api, &analyst, dataset).await, (14, mean(&s1)));
    assert_eq!(
        server.db.count(key, responses[0]).await,
        first_key,
        "an edited response keeps its record key"
    );
    server.stop().await;
}
