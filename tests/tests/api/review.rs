//! Supervisors' reviews (issue 20): who may review, concurrent reviews converging, a phone's
//! late edit reopening a review, scrubbed notes stored nowhere in the clear, aggregates of
//! approved responses only, and hostile input.

use reqwest::Method;
use serde_json::{Value, json};
use sync_core::{ResponseEdit, load_document, review};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, Device, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    supervisors_and_admins_review_and_no_one_else,
    concurrent_reviews_converge_and_a_late_edit_reopens_a_review,
    a_phone_number_in_a_note_is_stored_nowhere,
    aggregates_of_approved_responses_are_exact_and_protected,
    hostile_review_requests_get_clear_refusals,
);

fn review_path(dataset: Uuid, response: impl std::fmt::Display) -> String {
    format!("/v1/datasets/{dataset}/responses/{response}/review")
}

async fn put_review(
    api: &Api,
    token: &str,
    dataset: Uuid,
    response: Uuid,
    body: &Value,
) -> crate::support::Reply {
    put_raw(
        api,
        token,
        &review_path(dataset, response),
        body.to_string().into_bytes(),
    )
    .await
}

async fn put_raw(api: &Api, token: &str, path: &str, body: Vec<u8>) -> crate::support::Reply {
    api.send(Method::PUT, path, Some(token), Some("application/json"), body)
        .await
        .expect("PUT")
}

/// A live dataset with one phone that sent `count` submitted responses (even seeds in the
/// north), and a supervisor limited to it.
async fn reviewed_dataset(api: &Api, admin: &str, count: i64) -> (Uuid, Device, Vec<Uuid>, String) {
    let (dataset, mut devices) = api.dataset_with_devices(admin, "live", 1).await;
    let mut device = devices.remove(0);
    let ids = (0..count)
        .map(|i| {
            device
                .engine
                .create_response("outreach", &edit(i))
                .expect("response")
        })
        .collect();
    device.sync_fully(api).await;
    let supervisor = api.token(admin, "supervisor", Some(dataset)).await;
    (dataset, device, ids, supervisor)
}

async fn listed(api: &Api, token: &str, dataset: Uuid, state: &str) -> Vec<String> {
    let reply = api
        .get(
            &format!("/v1/datasets/{dataset}/reviews?state={state}"),
            Some(token),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn supervisors_and_admins_review_and_no_one_else(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, mut device, ids, supervisor) = reviewed_dataset(api, &admin, 2).await;
    let (other, mut others) = api.dataset_with_devices(&admin, "live", 1).await;
    let foreign = others[0]
        .engine
        .create_response("outreach", &edit(3))
        .expect("response");
    others[0].sync_fully(api).await;
    let draft = device
        .engine
        .create_response(
            "outreach",
            &ResponseEdit {
                submit: false,
                ..edit(5)
            },
        )
        .expect("draft");
    let site = device.engine.create_site("s9", "Site").expect("site");
    device.sync_fully(api).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let trainer = api.token(&admin, "trainer", None).await;
    let other_supervisor = api.token(&admin, "supervisor", Some(other)).await;
    let approve = json!({ "state": "approved" });

    for (token, who) in [
        (&analyst, "analyst"),
        (&trainer, "trainer"),
        (&device.token, "device"),
        (&other_supervisor, "supervisor of another dataset"),
    ] {
        for reply in [
            put_review(api, token, dataset, ids[0], &approve).await,
            api.get(&review_path(dataset, ids[0]), Some(token)).await,
            api.get(&format!("/v1/datasets/{dataset}/reviews"), Some(token))
                .await,
        ] {
            assert_eq!(
                (reply.status, reply.error_code()),
                (403, "forbidden".into()),
                "{who}"
            );
        }
    }
    let reply = api
        .send(
            Method::PUT,
            &review_path(dataset, ids[0]),
            None,
            Some("application/json"),
            approve.to_string().into_bytes(),
        )
        .await
        .expect("PUT");
    assert_eq!(reply.status, 401);
    // A supervisor reads nothing an analyst or admin reads.
    for path in [
        format!("/v1/datasets/{dataset}/aggregates?form=outreach&by=area"),
        format!("/v1/datasets/{dataset}/tallies"),
        format!("/v1/datasets/{dataset}/devices"),
        format!("/v1/datasets/{dataset}/quarantine"),
        "/v1/audit".into(),
        "/v1/tokens".into(),
    ] {
        assert_eq!(api.get(&path, Some(&supervisor)).await.status, 403, "{path}");
    }

    // Unknown, foreign, site and draft ids.
    for (id, status, code) in [
        (Uuid::new_v4(), 404, "not_found"),
        (foreign, 404, "not_found"),
        (site, 404, "not_found"),
        (draft, 409, "not_submitted"),
    ] {
        let reply = put_review(api, &supervisor, dataset, id, &approve).await;
        assert_eq!((reply.status, reply.error_code()), (status, code.into()), "{id}");
    }
    assert_eq!(
        api.get(&review_path(dataset, foreign), Some(&supervisor))
            .await
            .status,
        404
    );

    // Pending, then approved by the supervisor and flagged by an admin. Supervisors' tokens
    // come from the command line too.
    let (ok, stdout, stderr) = crate::support::process::run(&[
        "token",
        "create",
        "--role",
        "supervisor",
        "--dataset",
        &dataset.to_string(),
        "--database",
        &server.db.url,
    ]);
    assert!(ok, "{stderr}");
    let pending = listed(api, stdout.trim(), dataset, "pending").await;
    assert_eq!(pending.len(), 2, "drafts are not awaiting review");
    let reply = put_review(api, &supervisor, dataset, ids[0], &approve).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["review"], "approved");
    assert_eq!(reply.json()["edited_since_review"], false);
    let reply = put_review(
        api,
        &admin,
        dataset,
        ids[1],
        &json!({ "state": "flagged", "note": "ask about consent" }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        listed(api, &supervisor, dataset, "approved").await,
        vec![ids[0].to_string()]
    );
    assert_eq!(
        listed(api, &supervisor, dataset, "flagged").await,
        vec![ids[1].to_string()]
    );
    assert!(listed(api, &supervisor, dataset, "pending").await.is_empty());

    // What a supervisor sees of a response: where, which week, which phone; no answer.
    let seen = api.get(&review_path(dataset, ids[1]), Some(&supervisor)).await;
    assert_eq!(seen.status, 200, "{}", seen.text());
    let seen = seen.json();
    assert_eq!(seen["review"], "flagged");
    assert_eq!(seen["verdict"]["note"], "ask about consent");
    assert_eq!(seen["response"]["area"], "south");
    assert_eq!(seen["response"]["week"], "2026-W47");
    assert_eq!(seen["response"]["device"], device.id.to_string());
    let text = seen.to_string();
    for answer in ["gave 1 kits", "clinic", "2026-11-20", "\"answers\""] {
        assert!(!text.contains(answer), "{answer} in {text}");
    }

    // Every review is audited, by role and verdict, without ids or notes.
    let audit = api.get("/v1/audit", Some(&admin)).await.json();
    let actions: Vec<(&str, &str)> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter(|r| {
            r["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("review_response"))
        })
        .map(|r| {
            (
                r["role"].as_str().expect("role"),
                r["action"].as_str().expect("action"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("admin", "review_response:flagged"),
            ("supervisor", "review_response:approved")
        ]
    );
    let audit = audit.to_string();
    assert!(!audit.contains("consent") && !audit.contains(&ids[1].to_string()));

    // A withdrawn response is gone for reviewers too, its review with it.
    let reply = api
        .delete(
            &format!("/v1/datasets/{dataset}/responses/{}", ids[1]),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        put_review(api, &supervisor, dataset, ids[1], &approve)
            .await
            .status,
        404
    );
    assert_eq!(
        api.get(&review_path(dataset, ids[1]), Some(&supervisor))
            .await
            .status,
        404
    );
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM reviews WHERE document = $1", ids[1])
            .await,
        0
    );
    server.stop().await;
}

async fn concurrent_reviews_converge_and_a_late_edit_reopens_a_review(backend: Backend) {
    let server = TestServer::start_suppressing_only(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, mut device, ids, supervisor) = reviewed_dataset(api, &admin, 1).await;
    let second = api.token(&admin, "supervisor", Some(dataset)).await;
    let response = ids[0];

    // Eight reviews at once from two supervisors.
    let verdicts: Vec<(String, &str)> = (0..8)
        .map(|i| {
            let state = if i % 2 == 0 { "approved" } else { "flagged" };
            (format!("verdict number {i}"), state)
        })
        .collect();
    let tasks: Vec<_> = verdicts
        .iter()
        .enumerate()
        .map(|(i, (note, state))| {
            let api = api.clone();
            let token = if i % 2 == 0 {
                supervisor.clone()
            } else {
                second.clone()
            };
            let body = json!({ "state": state, "note": note });
            tokio::spawn(async move { put_review(&api, &token, dataset, response, &body).await })
        })
        .collect();
    for task in tasks {
        let reply = task.await.expect("task");
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let seen = api
        .get(&review_path(dataset, response), Some(&supervisor))
        .await
        .json();
    let winner = (
        seen["verdict"]["note"].as_str().expect("note").to_owned(),
        seen["verdict"]["state"].as_str().expect("state"),
    );
    assert!(
        verdicts
            .iter()
            .any(|(note, state)| (note.as_str(), *state) == (winner.0.as_str(), winner.1)),
        "state and note come from one review: {winner:?}"
    );
    assert_eq!(seen["review"], winner.1);

    // The stored review document holds all eight, merged, and reads as the answer says.
    let bytes = server
        .db
        .bytes("SELECT bytes FROM reviews WHERE document = $1", response)
        .await;
    let mut doc = load_document(&bytes).expect("review document");
    let record = review::read(&doc).expect("review");
    assert_eq!(record.review.note.as_deref(), Some(winner.0.as_str()));
    let changes = doc.get_changes(&[]);
    let notes: Vec<String> = verdicts.iter().map(|(note, _)| note.clone()).collect();
    for note in &notes {
        assert!(
            changes
                .iter()
                .any(|c| format!("{:?}", c.decode()).contains(note.as_str())),
            "{note} is in the history"
        );
    }
    let column = server
        .db
        .count(
            "SELECT COUNT(*) FROM responses WHERE document = $1 AND review = 'approved'",
            response,
        )
        .await;
    assert_eq!(column, i64::from(winner.1 == "approved"));
    let audited = server
        .db
        .count(
            "SELECT COUNT(*) FROM audit_log WHERE dataset = $1 AND action LIKE 'review_response:%'",
            dataset,
        )
        .await;
    assert_eq!(audited, 8);

    // Approved now; then the phone, offline and unaware, corrects an answer.
    let reply = put_review(
        api,
        &supervisor,
        dataset,
        response,
        &json!({ "state": "approved" }),
    )
    .await;
    assert_eq!(reply.json()["review"], "approved");
    device
        .engine
        .edit_response(
            response,
            &ResponseEdit {
                answers: vec![("s1".into(), sync_core::Answer::Likert(2))],
                ..Default::default()
            },
        )
        .expect("late edit");
    device.sync_fully(api).await;
    let seen = api
        .get(&review_path(dataset, response), Some(&supervisor))
        .await
        .json();
    assert_eq!(seen["review"], "pending", "{seen}");
    assert_eq!(seen["edited_since_review"], true);
    assert_eq!(seen["verdict"]["state"], "approved", "the verdict stays readable");
    assert_eq!(
        listed(api, &supervisor, dataset, "pending").await,
        vec![response.to_string()]
    );
    // The phone never holds a review: nothing of it went out with the sync.
    let held = device.engine.document_mut(response).expect("doc").save();
    let notes_on_phone = notes
        .iter()
        .any(|n| crate::support::db::contains(&held, n.as_bytes()));
    assert!(!notes_on_phone);

    // Reviewing again covers the edit.
    let reply = put_review(api, &second, dataset, response, &json!({ "state": "flagged" })).await;
    assert_eq!(reply.json()["review"], "flagged");
    assert_eq!(reply.json()["edited_since_review"], false);
    server.stop().await;
}

async fn a_phone_number_in_a_note_is_stored_nowhere(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, _device, ids, supervisor) = reviewed_dataset(api, &admin, 1).await;
    let phone = "+44 7700 900461";
    let reply = put_review(
        api,
        &supervisor,
        dataset,
        ids[0],
        &json!({ "state": "flagged", "note": format!("respondent asked to be called on {phone} tonight") }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let note = reply.json()["verdict"]["note"].as_str().expect("note").to_owned();
    assert_eq!(note, "respondent asked to be called on [phone] tonight");
    let db = server.stop().await;
    for needle in ["7700 900461", "7700900461", "447700900461"] {
        assert_eq!(
            db.places_holding(needle.as_bytes()).await,
            Vec::<String>::new(),
            "{needle}"
        );
        for (file, bytes) in db.sqlite_files() {
            assert!(
                !crate::support::db::contains(&bytes, needle.as_bytes()),
                "{needle} in {}",
                file.display()
            );
        }
    }
    // The scrubbed note itself is kept, in the review document only.
    assert_eq!(
        db.places_holding(b"respondent asked to be called on [phone] tonight")
            .await,
        vec!["reviews.bytes".to_owned()]
    );
}

/// The count of the north cell, or `None` when it is not shown.
fn north(table: &Value) -> Option<u64> {
    table["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["key"]["area"] == "north")
        .and_then(|c| c["n"].as_u64())
}

async fn aggregates_of_approved_responses_are_exact_and_protected(backend: Backend) {
    let server = TestServer::start_suppressing_only(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    // 28 responses: 14 in the north (even seeds).
    let (dataset, _device, ids, supervisor) = reviewed_dataset(api, &admin, 28).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let query = |extra: &str| format!("/v1/datasets/{dataset}/aggregates?form=outreach&by=area{extra}");
    let all = api.get(&query(""), Some(&analyst)).await.json();
    assert_eq!(north(&all), Some(14));
    // Nothing approved yet: every cell under k.
    let approved = api.get(&query("&review=approved"), Some(&analyst)).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(north(&approved.json()), None);

    // Twelve of the north approved, one flagged.
    let north_ids: Vec<Uuid> = ids.iter().step_by(2).copied().collect();
    for id in &north_ids[..12] {
        let reply = put_review(api, &supervisor, dataset, *id, &json!({ "state": "approved" })).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    put_review(
        api,
        &supervisor,
        dataset,
        north_ids[12],
        &json!({ "state": "flagged" }),
    )
    .await;
    let approved = api.get(&query("&review=approved"), Some(&analyst)).await.json();
    assert_eq!(north(&approved), Some(12));
    assert_eq!(north(&api.get(&query(""), Some(&analyst)).await.json()), Some(14));
    // Cross-tabs and CSV take it too.
    let cross = api.get(&query(",gender&review=approved"), Some(&analyst)).await;
    assert_eq!(cross.status, 200, "{}", cross.text());
    let csv = api
        .get_as(&query("&review=approved"), Some(&analyst), "text/csv")
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.text().lines().any(|l| l.starts_with("north,12")),
        "{}",
        csv.text()
    );
    // It counts toward the variables of a query, and is logged against the budget.
    let too_many = api
        .get(&query(",gender,help&review=approved"), Some(&analyst))
        .await;
    assert_eq!(
        (too_many.status, too_many.error_code()),
        (400, "bad_query".into())
    );
    for bad in ["&review=flagged", "&review=pending", "&review="] {
        let reply = api.get(&query(bad), Some(&analyst)).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "bad_query".into()),
            "{bad}"
        );
    }
    let log = api
        .get(&format!("/v1/datasets/{dataset}/query-log"), Some(&admin))
        .await
        .json();
    assert!(log.to_string().contains("review=approved"));
    // Site tallies are not responses: nothing to restrict.
    let tallies = api
        .get(
            &format!("/v1/datasets/{dataset}/tallies?review=approved"),
            Some(&analyst),
        )
        .await;
    assert_eq!(tallies.status, 400, "{}", tallies.text());
    server.stop().await;

    // On a server that perturbs, the same question is answered within the cell-key bound.
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, _device, ids, supervisor) = reviewed_dataset(api, &admin, 28).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    // All 14 of the north: perturbed by at most 2, it stays above k = 11.
    for id in ids.iter().step_by(2) {
        put_review(api, &supervisor, dataset, *id, &json!({ "state": "approved" })).await;
    }
    let path = format!("/v1/datasets/{dataset}/aggregates?form=outreach&by=area&review=approved");
    let shown = north(&api.get(&path, Some(&analyst)).await.json()).expect("north shown");
    assert!(shown.abs_diff(14) <= 2, "{shown}");
    server.stop().await;
}

async fn hostile_review_requests_get_clear_refusals(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, _device, ids, supervisor) = reviewed_dataset(api, &admin, 1).await;
    let path = review_path(dataset, ids[0]);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "bad_json"),
        (b"".to_vec(), 400, "bad_json"),
        (b"[]".to_vec(), 400, "bad_json"),
        (br#"{"state": 1}"#.to_vec(), 400, "bad_json"),
        (
            br#"{"state": "approved", "answers": {"s1": 5}}"#.to_vec(),
            400,
            "bad_json",
        ),
        (br#"{"note": "no state"}"#.to_vec(), 400, "bad_json"),
        (br#"{"state": "pending"}"#.to_vec(), 400, "bad_review_state"),
        (br#"{"state": "APPROVED"}"#.to_vec(), 400, "bad_review_state"),
        (
            br#"{"state": "approved\u0000"}"#.to_vec(),
            400,
            "bad_review_state",
        ),
        (
            json!({ "state": "flagged", "note": "n".repeat(501) })
                .to_string()
                .into_bytes(),
            400,
            "note_too_long",
        ),
        (
            json!({ "state": "flagged", "note": "\u{1F600}".repeat(501) })
                .to_string()
                .into_bytes(),
            400,
            "note_too_long",
        ),
        (
            json!({ "state": "flagged", "note": "x".repeat(8 << 20) })
                .to_string()
                .into_bytes(),
            413,
            "too_large",
        ),
    ];
    for (body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        let reply = put_raw(api, &supervisor, &path, body).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, code.into()),
            "{shown}"
        );
    }
    let reply = api
        .send(
            Method::PUT,
            &path,
            Some(&supervisor),
            Some("text/plain"),
            br#"{"state":"approved"}"#.to_vec(),
        )
        .await
        .expect("PUT");
    assert_eq!(reply.status, 415);
    for bad in ["not-a-uuid", "../reviews"] {
        let reply = put_raw(
            api,
            &supervisor,
            &format!("/v1/datasets/{dataset}/responses/{bad}/review"),
            br#"{"state":"approved"}"#.to_vec(),
        )
        .await;
        assert!(matches!(reply.status, 400 | 404), "{bad}: {}", reply.status);
    }
    for query in [
        "state=bogus",
        "limit=0",
        "limit=100000",
        "after=nope",
        "colour=red",
        "state=pending&state=approved",
    ] {
        let reply = api
            .get(
                &format!("/v1/datasets/{dataset}/reviews?{query}"),
                Some(&supervisor),
            )
            .await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
        assert!(
            ["bad_query", "bad_review_state"].contains(&reply.error_code().as_str()),
            "{query}"
        );
    }
    // None of it left a review, and a note of only spaces is none.
    assert_eq!(
        listed(api, &supervisor, dataset, "pending").await,
        vec![ids[0].to_string()]
    );
    let reply = put_review(
        api,
        &supervisor,
        dataset,
        ids[0],
        &json!({ "state": "approved", "note": "   " }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["verdict"]["note"], Value::Null);
    // Paging: one a page, `next` leading on.
    let page = api
        .get(
            &format!("/v1/datasets/{dataset}/reviews?state=approved&limit=1"),
            Some(&supervisor),
        )
        .await
        .json();
    assert_eq!(page["next"], ids[0].to_string());
    let page = api
        .get(
            &format!("/v1/datasets/{dataset}/reviews?state=approved&after={}", ids[0]),
            Some(&supervisor),
        )
        .await
        .json();
    assert_eq!(page["responses"], json!([]));
    server.stop().await;
}
