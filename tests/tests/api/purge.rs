//! Purging a dataset (issue 20): every row of it goes, its phones are told to wipe, and other
//! datasets do not notice.

use sync_core::DocKind;
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(a_purged_dataset_leaves_no_row_behind);

async fn a_purged_dataset_leaves_no_row_behind(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let (api, admin) = (&server.api, server.admin_token().await);
    let (doomed, mut phones) = api.dataset_with_devices(&admin, "live", 2).await;
    let (kept, mut others) = api.dataset_with_devices(&admin, "live", 1).await;
    for (i, phone) in phones.iter_mut().chain(others.iter_mut()).enumerate() {
        phone
            .engine
            .create_response("outreach", &edit(i as i64))
            .expect("response");
        phone
            .engine
            .create_site(&format!("site{i}"), "Market")
            .expect("site");
        phone.sync_fully(api).await;
    }
    let gone = phones[0].engine.document_ids(DocKind::Response)[0];
    let reply = api
        .delete(&format!("/v1/datasets/{doomed}/responses/{gone}"), Some(&admin))
        .await;
    assert_eq!(reply.status, 200, "tombstones go too");
    let kept_admin = api.token(&admin, "admin", Some(kept)).await;
    let analyst = api.token(&admin, "analyst", None).await;
    let db = &server.db;
    let mut held = Vec::new();
    for (id, bytes) in db.documents().await {
        let dataset = "SELECT COUNT(*) FROM documents WHERE id = $1 AND dataset = (SELECT dataset FROM documents WHERE id = $1)";
        assert_eq!(db.count(dataset, id).await, 1);
        held.push((id, bytes));
    }

    let refused = [
        (
            format!("/v1/datasets/{doomed}"),
            admin.as_str(),
            400,
            "confirm_name",
        ),
        (
            format!("/v1/datasets/{doomed}?confirm=field"),
            admin.as_str(),
            400,
            "confirm_name",
        ),
        (
            format!("/v1/datasets/{doomed}?confirm=field%20test&x=1"),
            admin.as_str(),
            400,
            "bad_query",
        ),
        (
            format!("/v1/datasets/{doomed}?confirm=field%20test"),
            kept_admin.as_str(),
            403,
            "forbidden",
        ),
        (
            format!("/v1/datasets/{doomed}?confirm=field%20test"),
            analyst.as_str(),
            403,
            "forbidden",
        ),
        (
            format!("/v1/datasets/{doomed}?confirm=field%20test"),
            phones[0].token.as_str(),
            403,
            "forbidden",
        ),
        (
            format!("/v1/datasets/{}?confirm=field%20test", Uuid::new_v4()),
            admin.as_str(),
            404,
            "not_found",
        ),
        (
            "/v1/datasets/nope?confirm=field%20test".into(),
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
    assert_eq!(
        db.count("SELECT COUNT(*) FROM datasets WHERE id = $1", doomed)
            .await,
        1
    );

    let reply = api
        .delete(
            &format!("/v1/datasets/{doomed}?confirm=field%20test"),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["responses"], 1);

    // No row of it anywhere: not its id (the audit log says who purged it), not a byte of its
    // documents. The id is a blob in SQLite and a uuid (dumped as text) in PostgreSQL.
    let mut places = db.places_holding(doomed.as_bytes()).await;
    places.extend(db.places_holding(doomed.to_string().as_bytes()).await);
    places.dedup();
    assert_eq!(places, vec!["audit_log.dataset".to_owned()]);
    let survivors = db.documents().await;
    for (id, bytes) in &held {
        let of_kept = survivors.iter().any(|(s, _)| s == id);
        if !of_kept {
            assert_eq!(db.places_holding(bytes).await, Vec::<String>::new());
        }
    }
    assert_eq!(
        survivors.len(),
        held.len() - 4,
        "two responses (one withdrawn before) and two sites"
    );

    // Its phones are told to wipe; the other dataset carries on.
    for phone in &mut phones {
        let error = phone.try_sync_once(api).await.expect_err("refused");
        assert!(error.contains("401") && error.contains("wiped"), "{error}");
    }
    others[0]
        .engine
        .create_response("outreach", &edit(9))
        .expect("response");
    others[0].sync_fully(api).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM responses WHERE dataset = $1", kept)
            .await,
        2
    );
    let audit = api.get("/v1/audit", Some(&admin)).await.json();
    assert!(
        audit
            .as_array()
            .expect("audit")
            .iter()
            .any(|r| r["action"] == "purge_dataset")
    );
    server.stop().await;
}
