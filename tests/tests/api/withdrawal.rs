//! Withdrawing a response (issue 20): its phone or an admin asks, and nothing of it is left in
//! the database but a tombstone; the aggregates drop it at the next query, and no copy of it
//! can be stored again.

use reqwest::Method;
use serde_json::Value;
use sync_core::{DocEntry, DocKind, SyncRequest, WITHDRAWN};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, Device, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    a_withdrawn_response_is_gone_and_cannot_be_sent_again,
    a_device_withdraws_only_what_it_wrote,
);

/// Responses per area in the analyst's aggregate (cells under k are not shown).
async fn by_area(api: &Api, analyst: &str, dataset: Uuid) -> Value {
    let reply = api
        .get(
            &format!("/v1/datasets/{dataset}/aggregates?form=outreach&by=area"),
            Some(analyst),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["cells"].clone()
}

fn north(cells: &Value) -> u64 {
    cells
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["key"]["area"] == "north")
        .and_then(|c| c["n"].as_u64())
        .expect("an unsuppressed north cell")
}

/// The whole document as a device would send it the first time: every change.
fn whole(device: &mut Device, id: Uuid) -> DocEntry {
    let doc = device.engine.document_mut(id).expect("document");
    let heads = doc.get_heads();
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    DocEntry::new(id, DocKind::Response, &heads, changes)
}

async fn send(api: &Api, device: &Device, entry: DocEntry) -> Vec<(Uuid, String)> {
    let request = sync_core::encode_request(&SyncRequest {
        v: 1,
        dataset: device.engine.dataset(),
        epoch: device.engine.epoch(),
        docs: vec![entry],
        totals_seen: None,
    });
    let reply = api.post_sync(Some(&device.token), request).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = sync_core::decode_response(&reply.body, &sync_core::Limits::default()).expect("answer");
    answer.rejected.into_iter().map(|r| (r.id, r.code)).collect()
}

async fn a_withdrawn_response_is_gone_and_cannot_be_sent_again(backend: Backend) {
    // Exact counts, to see the one withdrawn response leave them.
    let server = TestServer::start_suppressing_only(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    let device = &mut devices[0];
    // Even seeds are in the north: 13 there, one of which goes.
    let ids: Vec<Uuid> = (0..13)
        .map(|i| {
            device
                .engine
                .create_response("outreach", &edit(2 * i))
                .expect("response")
        })
        .collect();
    device.sync_fully(api).await;
    assert_eq!(north(&by_area(api, &analyst, dataset).await), 13);
    let gone = ids[4];
    let sent = whole(device, gone);
    let db = &server.db;
    let stored = db.bytes("SELECT bytes FROM documents WHERE id = $1", gone).await;

    let reply = api
        .delete(&format!("/v1/datasets/{dataset}/responses/{gone}"), Some(&admin))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["withdrawn"], true);

    // Nothing of it is stored but the tombstone.
    assert_eq!(db.places_holding(&stored).await, Vec::<String>::new());
    for change in &sent.changes {
        assert_eq!(db.places_holding(change).await, Vec::<String>::new());
    }
    for table in [
        "SELECT COUNT(*) FROM documents WHERE id = $1",
        "SELECT COUNT(*) FROM responses WHERE document = $1",
        "SELECT COUNT(*) FROM answers WHERE document = $1",
        "SELECT COUNT(*) FROM doc_actors WHERE document = $1",
        "SELECT COUNT(*) FROM conflicts WHERE document = $1",
    ] {
        assert_eq!(db.count(table, gone).await, 0, "{table}");
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM withdrawn WHERE document = $1", gone)
            .await,
        1
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'response'",
            dataset
        )
        .await,
        12
    );
    // The column store loaded before hears of it at the next query.
    assert_eq!(north(&by_area(api, &analyst, dataset).await), 12);

    // The phone still holds it: its next sync is told, and it deletes its copy.
    let answer = device.sync_once(api).await;
    let refused: Vec<(Uuid, &str)> = answer.rejected.iter().map(|r| (r.id, r.code.as_str())).collect();
    assert_eq!(refused, vec![(gone, WITHDRAWN)]);
    assert!(!device.engine.document_ids(DocKind::Response).contains(&gone));
    assert!(device.engine.rejections().is_empty());
    device.sync_fully(api).await;

    // A copy kept elsewhere (a file, a second phone) sending it whole is refused too, and
    // nothing of it is stored, quarantine included.
    assert_eq!(send(api, device, sent).await, vec![(gone, WITHDRAWN.to_owned())]);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM documents WHERE id = $1", gone)
            .await,
        0
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM quarantine WHERE document = $1", gone)
            .await,
        0
    );
    assert_eq!(north(&by_area(api, &analyst, dataset).await), 12);

    // The audit log says who withdrew a response, and nothing of it.
    let audit = api.get("/v1/audit", Some(&admin)).await.json();
    let records = audit.as_array().expect("audit");
    assert!(records.iter().any(|r| r["action"] == "withdraw_response"));
    assert!(!audit.to_string().contains(&gone.to_string()));
    server.stop().await;
}

async fn a_device_withdraws_only_what_it_wrote(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let (other, _) = api.dataset_with_devices(&admin, "live", 0).await;
    let other_admin = api.token(&admin, "admin", Some(other)).await;
    let trainer = api.token(&admin, "trainer", None).await;
    let mine = devices[0]
        .engine
        .create_response("outreach", &edit(1))
        .expect("response");
    let site = devices[0].engine.create_site("s1", "Site").expect("site");
    devices[0].sync_fully(api).await;
    let (a, b) = (devices[0].token.clone(), devices[1].token.clone());
    let path = |dataset: Uuid, response: &str| format!("/v1/datasets/{dataset}/responses/{response}");

    let refused = [
        (path(dataset, &mine.to_string()), b.as_str(), 404, "not_found"),
        (path(dataset, &site.to_string()), a.as_str(), 404, "not_found"),
        (path(dataset, &site.to_string()), admin.as_str(), 404, "not_found"),
        (
            path(dataset, &Uuid::new_v4().to_string()),
            admin.as_str(),
            404,
            "not_found",
        ),
        (path(other, &mine.to_string()), admin.as_str(), 404, "not_found"),
        (path(other, &mine.to_string()), a.as_str(), 403, "forbidden"),
        (
            path(dataset, &mine.to_string()),
            other_admin.as_str(),
            403,
            "forbidden",
        ),
        (
            path(dataset, &mine.to_string()),
            trainer.as_str(),
            403,
            "forbidden",
        ),
        (path(dataset, "not-a-uuid"), admin.as_str(), 400, "bad_id"),
        (
            format!("/v1/datasets/nope/responses/{mine}"),
            admin.as_str(),
            400,
            "bad_id",
        ),
    ];
    for (path, token, status, code) in refused {
        let reply = api.delete(&path, Some(token)).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, code.to_owned()),
            "{path}"
        );
    }
    let reply = api
        .send(
            Method::POST,
            &path(dataset, &mine.to_string()),
            Some(&a),
            None,
            Vec::new(),
        )
        .await
        .expect("request");
    assert_eq!(reply.status, 405);
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM documents WHERE id = $1", mine)
            .await,
        1,
        "nothing refused deleted anything"
    );

    // Its own phone withdraws it; asking again (an answer lost on the way) is no error.
    for _ in 0..2 {
        let reply = api.delete(&path(dataset, &mine.to_string()), Some(&a)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM documents WHERE id = $1", mine)
            .await,
        0
    );
    // Another dataset's path does not find the tombstone either.
    let reply = api.delete(&path(other, &mine.to_string()), Some(&admin)).await;
    assert_eq!(reply.status, 404);
    server.stop().await;
}
