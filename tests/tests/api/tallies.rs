//! Site tallies for analysts: what phones bump shows by site, week and month, protected like
//! the aggregates, as JSON and CSV, on both backends; phones of every protocol counting offline
//! add up exactly, on every phone and in the analysts' tables.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sync_core::{Day, DocKind};
use uuid::Uuid;

use crate::on_both_backends;
use survey_server::aggregates::TOTAL;

use crate::support::{Api, Backend, Device, TestServer};

on_both_backends!(
    tallies_by_site_and_week_show_what_phones_bumped,
    seeded_tallies_spread_over_the_fieldwork_weeks,
    bad_tally_queries_are_refused_with_codes,
    phones_of_every_protocol_counting_offline_add_up_for_analysts,
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

/// Nine phones, three of each protocol, count at two sites offline over three rounds, with
/// corrections, and come back in a different order each round. v1 and v2 phones bump the shared
/// site documents, v3 phones their own tally documents, and the server adds the tally documents
/// to the sites for the older phones. Every phone shows the exact sums, and so do the analysts'
/// tallies (on a server that suppresses small cells but does not perturb, so counts compare
/// exactly). What the server writes for phones is the sums and nothing else: the totals of a v3
/// reply, and its own changes to the site documents, which pass the checks a phone's would.
async fn phones_of_every_protocol_counting_offline_add_up_for_analysts(backend: Backend) {
    let server = TestServer::start_suppressing_only(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 9).await;
    for (i, device) in devices.iter_mut().enumerate() {
        device.engine.set_protocol(i as u64 % 3 + 1).expect("protocol");
    }
    let sites = [
        devices[0].engine.create_site("pier", "Pier").expect("site"),
        devices[0].engine.create_site("camp", "Camp").expect("site"),
    ];
    for device in &mut devices {
        device.sync_fully(api).await;
    }

    let mut expected: BTreeMap<(Uuid, &str), i64> = BTreeMap::new();
    for round in 0..3 {
        for (i, device) in devices.iter_mut().enumerate() {
            let bumps = [
                (sites[0], "contacts", 3 + i as i64 + round),
                (sites[0], "kits", 2),
                (sites[1], "contacts", 4),
                (sites[0], "contacts", -1),
            ];
            for (site, metric, by) in bumps {
                device.engine.bump_tally(site, metric, by).expect("bump");
                *expected.entry((site, metric)).or_default() += by;
            }
        }
        let order: Vec<usize> = (0..devices.len()).map(|i| (i * 4 + round as usize) % 9).collect();
        for i in order {
            devices[i].sync_fully(api).await;
        }
    }
    for _ in 0..2 {
        for device in &mut devices {
            device.sync_fully(api).await;
        }
    }

    for ((site, metric), total) in &expected {
        for device in &devices {
            assert_eq!(
                tally(device, *site, metric),
                *total,
                "{metric} on a v{} phone",
                device.engine.protocol()
            );
        }
        assert_eq!(server.db.site_total(*site, metric).await, *total);
    }
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    for metric in ["contacts", "kits"] {
        for by in ["site", "site,week", "site,month"] {
            let table = tallies(api, &analyst, dataset, &format!("by={by}&metric={metric}")).await;
            for (code, site) in [("pier", sites[0]), ("camp", sites[1])] {
                let want = expected.get(&(site, metric)).copied().unwrap_or(0);
                let shown: i64 = table["cells"]
                    .as_array()
                    .expect("cells")
                    .iter()
                    .filter(|c| c["key"]["site"] == code)
                    .filter(|c| {
                        c["key"]
                            .as_object()
                            .is_some_and(|k| k.values().all(|v| v != TOTAL))
                    })
                    .map(|c| c["n"].as_i64().unwrap_or_else(|| panic!("{c} shown")))
                    .sum();
                assert_eq!(shown, want, "{metric} at {code} by {by}: {table}");
            }
        }
    }

    // A v3 reply's totals (asked for whole, naming none held): a digest, the metrics, and per
    // site its id and one count per metric, nothing else.
    let v3 = devices
        .iter_mut()
        .find(|d| d.engine.protocol() == 3)
        .expect("a v3 phone");
    let mut request = v3.engine.build_request(1 << 20);
    request.totals_seen = None;
    let request = sync_core::encode_request(&request);
    let reply = api
        .send(
            reqwest::Method::POST,
            "/v3/sync",
            Some(&v3.token),
            Some("application/cbor"),
            request,
        )
        .await
        .expect("transport");
    let body: ciborium::Value = ciborium::de::from_reader(&reply.body[..]).expect("cbor");
    let field = |map: &ciborium::Value, key: &str| {
        map.as_map()
            .expect("map")
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v.clone())
    };
    let totals = field(&body, "totals").expect("totals");
    let keys: Vec<&str> = totals
        .as_map()
        .expect("map")
        .iter()
        .filter_map(|(k, _)| k.as_text())
        .collect();
    assert_eq!(keys, ["digest", "metrics", "sites"], "{totals:?}");
    assert_eq!(
        field(&totals, "digest")
            .and_then(|d| d.into_bytes().ok())
            .map(|d| d.len()),
        Some(16)
    );
    let metrics = field(&totals, "metrics").expect("metrics");
    let metrics = metrics.as_array().expect("a list");
    for metric in metrics {
        assert!(
            sync_core::site::DEFAULT_METRICS.contains(&metric.as_text().expect("metric")),
            "{metric:?}"
        );
    }
    let sent = field(&totals, "sites").expect("sites");
    let sites_sent = sent.as_array().expect("a list");
    assert_eq!(sites_sent.len(), 2);
    for entry in sites_sent {
        let [id, counts] = entry.as_array().expect("a pair").as_slice() else {
            panic!("{entry:?}");
        };
        assert_eq!(id.as_bytes().map(Vec::len), Some(16), "{entry:?}");
        let counts = counts.as_array().expect("counts");
        assert_eq!(counts.len(), metrics.len());
        assert!(counts.iter().all(ciborium::Value::is_integer), "{counts:?}");
    }

    // The site documents as stored, with the server's own changes: every change after the
    // first only counts, with a 16-byte actor and no time, and the whole history passes the
    // checks a phone's changes get.
    for site in sites {
        let bytes = server
            .db
            .bytes("SELECT bytes FROM documents WHERE id = $1", site)
            .await;
        let mut doc = sync_core::load_document(&bytes).expect("stored site");
        let changes = doc.get_changes(&[]);
        assert!(changes.len() > 1);
        for change in &changes {
            assert_eq!(change.actor_id().to_bytes().len(), 16);
            assert_eq!(change.timestamp(), 0);
        }
        for change in &changes[1..] {
            let expanded = change.decode();
            assert!(
                expanded
                    .operations
                    .iter()
                    .all(|op| matches!(op.action, automerge::legacy::OpType::Increment(_))),
                "{expanded:?}"
            );
        }
        let raw: Vec<Vec<u8>> = changes.iter().map(|c| c.raw_bytes().to_vec()).collect();
        let sync_core::MergeOutcome::Merged(mut replayed) =
            sync_core::merge_incoming(None, &raw).expect("merge")
        else {
            panic!("the stored history is whole");
        };
        replayed
            .validate(DocKind::Site, None)
            .expect("every change passes");
    }
    let site_writers = "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'tally'";
    assert_eq!(
        server.db.count(site_writers, dataset).await,
        3 * 2,
        "one per v3 phone and site"
    );
    server.stop().await;
}

fn tally(device: &Device, site: Uuid, metric: &str) -> i64 {
    let sites = device.engine.sites();
    let (_, view) = sites.iter().find(|(id, _)| *id == site).expect("site");
    view.tallies.get(metric).copied().unwrap_or(0)
}
