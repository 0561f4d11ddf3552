//! Analyst aggregates over HTTP: small cells suppressed, differencing attacks fail, free text
//! never leaves, CSV marks suppression, and every sync shows in the next query.

use std::collections::HashMap;

use serde_json::{Value, json};
use sync_core::{Answer, Day, ResponseEdit};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, TestServer};

on_both_backends!(
    aggregates_hide_small_cells_and_resist_differencing,
    bad_aggregate_queries_are_refused_with_codes,
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

async fn aggregates_hide_small_cells_and_resist_differencing(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let demo = seeded(api, &admin, 600).await;
    let analyst = api.token(&admin, "analyst", Some(demo)).await;

    let (table, cells) = shown(api, &analyst, demo, "form=community-stigma&by=area,age_group").await;
    assert_eq!(table["k"], 11);
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

    // Filter removed, period moved: every difference is 0 or at least k.
    for (narrow, wide) in [
        (
            "form=community-stigma&by=gender&where=area=north",
            "form=community-stigma&by=gender",
        ),
        (
            "form=community-stigma&by=age_group&where=area=west&where=gender=m",
            "form=community-stigma&by=age_group&where=gender=m",
        ),
        (
            "form=outreach-contact&by=services&where=contact_type=online",
            "form=outreach-contact&by=services",
        ),
        (
            "form=community-stigma&by=area&from=2026-06-08",
            "form=community-stigma&by=area&from=2026-06-01",
        ),
        (
            "form=community-stigma&by=gender&to=2026-09-30",
            "form=community-stigma&by=gender&to=2026-10-01",
        ),
    ] {
        let (_, a) = shown(api, &analyst, demo, narrow).await;
        let (_, b) = shown(api, &analyst, demo, wide).await;
        for (key, n) in &a {
            if let Some(m) = b.get(key) {
                assert!(m - n == 0 || m - n >= 11, "{narrow} vs {wide}: {key} {n} vs {m}");
            }
        }
    }

    let csv = api
        .get_as(
            &format!("/v1/datasets/{demo}/aggregates?form=community-stigma&by=area,age_group"),
            Some(&analyst),
            "text/csv",
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.text();
    assert!(text.starts_with("area,age_group,n,count\r\n"), "{text}");
    assert!(
        text.contains("suppressed,suppressed"),
        "suppressed cells are marked, not zero"
    );
    server.stop().await;
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
    assert_eq!(api.get("/healthz", None).await.status, 200, "still serving");
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
    let server = TestServer::start(&backend).await;
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
    // Means are published to three decimals.
    let mean = |values: &[i64]| (values.iter().sum::<i64>() as f64 / values.len() as f64 * 1e3).round() / 1e3;
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
    server.stop().await;
}
