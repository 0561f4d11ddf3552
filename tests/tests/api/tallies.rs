//! Site tallies for analysts: what phones bump shows by site, week and month, protected like
//! the aggregates, as JSON and CSV, on both backends.

use serde_json::{Value, json};
use sync_core::{Day, DocKind};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, TestServer};

on_both_backends!(
    tallies_by_site_and_week_show_what_phones_bumped,
    seeded_tallies_spread_over_the_fieldwork_weeks,
    bad_tally_queries_are_refused_with_codes,
);

async fn tallies(api: &Api, token: &str, dataset: Uuid, query: &str) -> Value {
    let reply = api
        .get(&format!("/v1/datasets/{dataset}/tallies?{query}"), Some(token))
        .await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text());
    reply.json()
}

/// The cell whose key is `key` (every dimension of the table named).
fn cell<'a>(table: &'a Value, key: &Value) -> &'a Value {
    table["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["key"] == *key)
        .unwrap_or_else(|| panic!("no cell {key} in {table}"))
}

async fn tallies_by_site_and_week_show_what_phones_bumped(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let busy = devices[0]
        .engine
        .create_site("pier", "Fishing pier")
        .expect("site");
    let quiet = devices[0].engine.create_site("camp", "Work camp").expect("site");
    devices[0].sync_fully(api).await;
    devices[1].sync_fully(api).await;
    // Two phones bump the busy site offline; one person is met at the quiet one.
    devices[0].engine.bump_tally(busy, "contacts", 30).expect("bump");
    devices[1].engine.bump_tally(busy, "contacts", 25).expect("bump");
    devices[1].engine.bump_tally(quiet, "contacts", 1).expect("bump");
    devices[1].engine.bump_tally(busy, "kits", 40).expect("bump");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    assert_eq!(devices[1].engine.document_ids(DocKind::Site).len(), 2);

    let week = Day::from_days(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64
            / 86_400,
    )
    .iso_week_key();
    let table = tallies(api, &analyst, dataset, "by=site,week").await;
    assert_eq!(table["by"], json!(["site", "week"]));
    assert_eq!(table["metric"], "contacts");
    assert_eq!(
        table["cells"].as_array().map(Vec::len),
        Some(3 * 2),
        "two sites, one week, totals"
    );
    let pier = cell(&table, &json!({ "site": "pier", "week": week }));
    let n = pier["n"].as_u64().expect("the busy site shows");
    assert!(n.abs_diff(55) <= 2, "55 contacts, perturbed a little: {pier}");
    assert_eq!(
        cell(&table, &json!({ "site": "camp", "week": week })),
        &json!({ "key": { "site": "camp", "week": week }, "suppressed": true }),
        "one person met is a small cell"
    );
    let again = tallies(api, &analyst, dataset, "by=site").await;
    assert_eq!(
        cell(&again, &json!({ "site": "pier" }))["n"],
        pier["n"],
        "the same rows, the same count in another query"
    );
    let kits = tallies(api, &analyst, dataset, "by=site&metric=kits").await;
    assert!(
        cell(&kits, &json!({ "site": "pier" }))["n"]
            .as_u64()
            .is_some_and(|n| n.abs_diff(40) <= 2)
    );

    // Later bumps add to the week they are stored in.
    devices[0].engine.bump_tally(busy, "contacts", 20).expect("bump");
    devices[0].sync_fully(api).await;
    let later = tallies(api, &analyst, dataset, "by=site,month").await;
    let month = later["cells"][0]["key"]["month"].clone();
    let n = cell(&later, &json!({ "site": "pier", "month": month }))["n"].as_u64();
    assert!(n.is_some_and(|n| n.abs_diff(75) <= 2), "{later}");

    let csv = api
        .get_as(
            &format!("/v1/datasets/{dataset}/tallies?by=site,week"),
            Some(&analyst),
            "text/csv",
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("site,week,n,contacts\r\n"), "{text}");
    assert!(
        text.contains(&format!("camp,{week},suppressed,suppressed\r\n")),
        "{text}"
    );
    server.stop().await;
}

async fn seeded_tallies_spread_over_the_fieldwork_weeks(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let demo = api.create_dataset(&admin, "tallies", "demo").await;
    let reset = || async {
        let reply = api
            .post_json(
                &format!("/v1/datasets/{demo}/reset"),
                Some(&admin),
                &json!({ "seed": 4, "responses": 2000 }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    };
    reset().await;
    let table = tallies(api, &admin, demo, "by=week").await;
    let cells = table["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 26 + 1, "26 fieldwork weeks and the total");
    assert_eq!(cells[0]["key"]["week"], "2026-W19");
    let shown = cells.iter().filter(|c| c["n"].is_u64()).count();
    assert!(shown > 20, "most weeks have enough contacts to show: {table}");
    let by_site_and_month = api
        .get(
            &format!("/v1/datasets/{demo}/tallies?by=site,month"),
            Some(&admin),
        )
        .await
        .text();
    reset().await;
    assert_eq!(
        api.get(
            &format!("/v1/datasets/{demo}/tallies?by=site,month"),
            Some(&admin)
        )
        .await
        .text(),
        by_site_and_month,
        "the same seed and size give the same tallies, noise included"
    );
    server.stop().await;
}

async fn bad_tally_queries_are_refused_with_codes(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let demo = api.create_dataset(&admin, "tallies", "demo").await;
    for (query, code) in [
        ("", "bad_query"),
        ("by=area", "bad_query"),
        ("by=nope", "unknown_dimension"),
        ("by=site,week,month", "bad_query"),
        ("by=week,week", "bad_query"),
        ("by=site&metric=%00", "unknown_metric"),
        ("by=site&where=site=pier", "bad_query"),
        ("by=%FF%FE", "unknown_dimension"),
    ] {
        let reply = api
            .get(&format!("/v1/datasets/{demo}/tallies?{query}"), Some(&admin))
            .await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, code.to_string()),
            "{query}: {}",
            reply.text()
        );
    }
    server.stop().await;
}
