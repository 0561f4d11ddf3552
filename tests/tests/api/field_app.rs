//! The field app is served at the root of the origin, with the types browsers insist on, and
//! nothing else in its folder (or outside it) can be fetched.

use std::fs;

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use tempfile::TempDir;

use crate::support::{Backend, TestServer};

/// A web root shaped like `clients/web` after `scripts/build-wasm`, with a secret next to it
/// and a test folder inside it that must stay unreachable.
fn web_root() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for folder in ["app", "pkg", "vendor", "tests", "tests/node_modules"] {
        fs::create_dir_all(root.join(folder)).expect("folder");
    }
    let files: [(&str, &[u8]); 12] = [
        ("index.html", b"<!doctype html><title>Field app</title>"),
        ("sw.js", b"self.addEventListener('fetch', () => {});"),
        ("style.css", b"body { margin: 0 }"),
        ("manifest.webmanifest", b"{}"),
        ("icon.svg", b"<svg/>"),
        ("app/main.js", b"export const app = 1;"),
        ("vendor/reader.js", b"self.reader = 1;"),
        ("vendor/reader.LICENSE", b"licence text"),
        ("pkg/survey_wasm.js", b"export default function init() {}"),
        ("pkg/survey_wasm_bg.wasm", b"\0asm\x01\0\0\0 plain"),
        ("pkg/survey_wasm_bg.wasm.gz", b"pretend-gzip"),
        ("tests/run.sh", b"#!/bin/sh\necho secret"),
    ];
    for (name, body) in files {
        fs::write(root.join(name), body).expect("write");
    }
    fs::write(root.join("tests/node_modules/x.js"), b"secret").expect("write");
    fs::write(root.join("app/notes.txt"), b"secret").expect("write");
    fs::write(root.join("pkg/.hidden.js"), b"secret").expect("write");
    dir
}

#[tokio::test]
async fn serves_the_app_shell_with_browser_types() {
    let root = web_root();
    let server = TestServer::start_with_web_root(&Backend::Sqlite, root.path()).await;
    let cases = [
        ("/", "text/html; charset=utf-8", "index.html"),
        ("/index.html", "text/html; charset=utf-8", "index.html"),
        ("/sw.js", "text/javascript; charset=utf-8", "sw.js"),
        ("/style.css", "text/css; charset=utf-8", "style.css"),
        (
            "/manifest.webmanifest",
            "application/manifest+json",
            "manifest.webmanifest",
        ),
        ("/icon.svg", "image/svg+xml", "icon.svg"),
        ("/app/main.js", "text/javascript; charset=utf-8", "app/main.js"),
        (
            "/vendor/reader.js",
            "text/javascript; charset=utf-8",
            "vendor/reader.js",
        ),
        (
            "/pkg/survey_wasm.js",
            "text/javascript; charset=utf-8",
            "pkg/survey_wasm.js",
        ),
        (
            "/pkg/survey_wasm_bg.wasm",
            "application/wasm",
            "pkg/survey_wasm_bg.wasm",
        ),
    ];
    for (path, content_type, file) in cases {
        let reply = server
            .api
            .send(reqwest::Method::GET, path, None, None, vec![])
            .await
            .expect("request");
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.content_type, content_type, "{path}");
        assert_eq!(
            reply.body,
            fs::read(root.path().join(file)).expect("file"),
            "{path}"
        );
    }
    // The API's own routes still win over the root file route.
    let health = server
        .api
        .send(reqwest::Method::GET, "/healthz", None, None, vec![])
        .await
        .expect("request");
    assert_eq!(health.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn revalidation_and_gzip() {
    let root = web_root();
    let server = TestServer::start_with_web_root(&Backend::Sqlite, root.path()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/pkg/survey_wasm_bg.wasm", server.api.base);

    let first = client.get(&url).send().await.expect("request");
    let etag = first.headers()[ETAG].clone();
    assert!(
        first.headers().get(CONTENT_ENCODING).is_none(),
        "gzip only when asked for"
    );
    let again = client
        .get(&url)
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);

    let gz = client
        .get(&url)
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(gz.headers()[CONTENT_TYPE], "application/wasm");
    assert_eq!(gz.bytes().await.expect("body").as_ref(), b"pretend-gzip");
    let refused = client
        .get(&url)
        .header(ACCEPT_ENCODING, "gzip;q=0")
        .send()
        .await
        .expect("request");
    assert!(refused.headers().get(CONTENT_ENCODING).is_none());

    // A rebuilt file gets a new tag, so phones fetch it.
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(
        root.path().join("pkg/survey_wasm_bg.wasm"),
        b"\0asm\x01\0\0\0 rebuilt",
    )
    .expect("file");
    let rebuilt = client
        .get(&url)
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .expect("request");
    assert_eq!(rebuilt.status(), 200);
    assert_eq!(
        rebuilt.bytes().await.expect("body").as_ref(),
        b"\0asm\x01\0\0\0 rebuilt"
    );
    server.stop().await;
}

#[tokio::test]
async fn nothing_else_is_reachable() {
    let root = web_root();
    let server = TestServer::start_with_web_root(&Backend::Sqlite, root.path()).await;
    let client = reqwest::Client::new();
    let base = &server.api.base;
    for path in [
        "/tests/run.sh",
        "/tests/node_modules/x.js",
        "/run.sh",
        "/app/notes.txt",
        "/vendor/reader.LICENSE",
        "/vendor/..%2Fapp%2Fmain.js",
        "/app/..%2F..%2Fetc%2Fpasswd.js",
        "/app/%2e%2e%2ftests%2frun.sh",
        "/pkg/.hidden.js",
        "/pkg/survey_wasm_bg.wasm.gz",
        "/pkg/missing.js",
        "/app/",
        "/%00.js",
        "/analyst/../tests/run.sh",
    ] {
        let reply = client.get(format!("{base}{path}")).send().await.expect("request");
        assert_eq!(reply.status(), 404, "{path}");
        let body: serde_json::Value =
            serde_json::from_slice(&reply.bytes().await.expect("body")).expect("JSON error body");
        assert_eq!(body["error"], "not_found", "{path}");
    }
    let still = client.get(format!("{base}/")).send().await.expect("request");
    assert_eq!(still.status(), 200, "the server keeps serving");
    server.stop().await;
}

#[tokio::test]
async fn an_unbuilt_engine_is_a_clear_404() {
    let root = web_root();
    fs::remove_file(root.path().join("pkg/survey_wasm_bg.wasm")).expect("file");
    let server = TestServer::start_with_web_root(&Backend::Sqlite, root.path()).await;
    let reply = server
        .api
        .send(
            reqwest::Method::GET,
            "/pkg/survey_wasm_bg.wasm",
            None,
            None,
            vec![],
        )
        .await
        .expect("request");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), "not_found");
    server.stop().await;
}
