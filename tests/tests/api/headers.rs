//! Every response carries the security headers: pages, scripts, styles, JSON, CSV, errors.

use crate::on_both_backends;
use crate::support::{Backend, FORM_JSON, Reply, TestServer};

on_both_backends!(every_response_carries_the_security_headers);

const EXPECTED: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

fn check(what: &str, reply: &Reply, failures: &mut Vec<String>) {
    for (name, value) in EXPECTED {
        let sent: Vec<&str> = reply
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("(not text)"))
            .collect();
        if sent != [value] {
            failures.push(format!("{what} ({}): {name} is {sent:?}", reply.status));
        }
    }
}

async fn every_response_carries_the_security_headers(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let dataset = api.create_dataset(&admin, "headers", "live").await;
    api.publish_form(&admin, dataset, FORM_JSON).await;
    let aggregates = format!("/v1/datasets/{dataset}/aggregates?form=outreach&by=area");

    let mut failures = Vec::new();
    let pages = [
        ("/", 200, "text/html"),
        ("/analyst", 200, "text/html"),
        ("/app/main.js", 200, "text/javascript"),
        ("/analyst/dashboard.js", 200, "text/javascript"),
        ("/analyst/dashboard.css", 200, "text/css"),
        ("/healthz", 200, ""),
        ("/no/such/route", 404, "application/json"),
        ("/v1/datasets", 401, "application/json"),
    ];
    for (path, status, content_type) in pages {
        let reply = api.get(path, None).await;
        assert_eq!(reply.status, status, "{path}");
        assert!(
            reply.content_type.starts_with(content_type),
            "{path}: {}",
            reply.content_type
        );
        check(path, &reply, &mut failures);
    }
    let json = api.get("/v1/datasets", Some(&admin)).await;
    assert_eq!(json.status, 200);
    check("datasets as JSON", &json, &mut failures);
    let csv = api.get_as(&aggregates, Some(&admin), "text/csv").await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    check("aggregates as CSV", &csv, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
