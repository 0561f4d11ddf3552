//! JSON and CSV answers are gzipped for clients that ask for it, and only for them.

use std::io::Read as _;

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, Reply, TestServer};

on_both_backends!(json_and_csv_answers_are_gzipped_when_asked);

fn gunzip(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(reply.body.as_slice())
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

fn encoding(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get("content-encoding")
        .map(|v| v.to_str().expect("text"))
}

async fn json_and_csv_answers_are_gzipped_when_asked(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let demo = api.create_dataset(&admin, "gzip", "demo").await;
    let reset = api
        .post_json(
            &format!("/v1/datasets/{demo}/reset"),
            Some(&admin),
            &json!({ "seed": 3, "responses": 200 }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.text());

    let table = format!("/v1/datasets/{demo}/aggregates?form=community-stigma&by=area,age_group");
    for (path, accept, kind) in [
        ("/openapi.json".to_owned(), "application/json", "application/json"),
        (table.clone(), "application/json", "application/json"),
        (table, "text/csv", "text/csv"),
    ] {
        let plain = api.get_with(&path, Some(&admin), &[("accept", accept)]).await;
        assert_eq!(plain.status, 200, "{}", plain.text());
        assert!(
            plain.content_type.starts_with(kind),
            "{path}: {}",
            plain.content_type
        );
        assert_eq!(encoding(&plain), None, "{path}: gzip only when asked for");
        assert!(
            plain.body.len() > 512,
            "{path}: {} bytes, too small to be compressed",
            plain.body.len()
        );

        let zipped = api
            .get_with(
                &path,
                Some(&admin),
                &[("accept", accept), ("accept-encoding", "gzip")],
            )
            .await;
        assert_eq!(zipped.status, 200);
        assert_eq!(encoding(&zipped), Some("gzip"), "{path}");
        assert!(zipped.body.len() < plain.body.len(), "{path}");
        assert_eq!(gunzip(&zipped), plain.body, "{path}: the same answer");

        let refused = api
            .get_with(
                &path,
                Some(&admin),
                &[("accept", accept), ("accept-encoding", "gzip;q=0")],
            )
            .await;
        assert_eq!(encoding(&refused), None, "{path}");
    }

    // Small answers are not worth it; errors are small.
    let small = api
        .get_with("/healthz", None, &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(encoding(&small), None);
}
