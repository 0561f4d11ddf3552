//! The OpenAPI 3.1 description served at `/openapi.json`, built from the same constants the
//! handlers use (content types, roles, error codes). The integration suite checks that every
//! operation listed here answers on the router and that every route answers here.

use serde_json::{Value, json};

use crate::sync::CBOR;

/// Every operation: method, path, roles allowed (empty: no token), summary.
pub const OPERATIONS: &[(&str, &str, &[&str], &str)] = &[
    ("get", "/healthz", &[], "Liveness"),
    (
        "get",
        "/metrics",
        &[],
        "Prometheus metrics (counts by route and rejection code only)",
    ),
    ("get", "/openapi.json", &[], "This document"),
    (
        "post",
        "/v1/datasets",
        &["admin"],
        "Create a dataset { name, mode: live|demo, k? }",
    ),
    (
        "get",
        "/v1/datasets",
        &["admin", "analyst", "trainer"],
        "List datasets",
    ),
    (
        "post",
        "/v1/datasets/{id}/forms",
        &["admin"],
        "Publish a new form version",
    ),
    (
        "get",
        "/v1/datasets/{id}/forms",
        &["admin", "analyst", "trainer"],
        "Latest version of each form, as published",
    ),
    (
        "post",
        "/v1/datasets/{id}/enrollments",
        &["admin", "trainer"],
        "Issue an enrollment code { label, uses, expires_in_hours } (trainers: demo datasets only)",
    ),
    (
        "post",
        "/v1/datasets/{id}/reset",
        &["admin", "trainer"],
        "Reset a demo dataset { seed, responses } (409 not_demo on a live one)",
    ),
    (
        "get",
        "/v1/datasets/{id}/aggregates",
        &["admin", "analyst"],
        "Aggregates ?form&by&where&from&to&metric, small cells suppressed; Accept: text/csv for CSV",
    ),
    ("get", "/analyst", &[], "The analyst dashboard page"),
    (
        "get",
        "/v1/datasets/{id}/quarantine",
        &["admin"],
        "Documents refused by sync: code, size, SHA-256, day, and the message where kept",
    ),
    (
        "delete",
        "/v1/datasets/{id}/quarantine",
        &["admin"],
        "Purge the dataset's quarantine records now; answers { purged }",
    ),
    (
        "post",
        "/v1/enroll",
        &[],
        "Trade an enrollment code for a device token { code }",
    ),
    (
        "post",
        "/v1/tokens",
        &["admin"],
        "Issue an admin, analyst or trainer token { role, name, dataset? }",
    ),
    (
        "post",
        "/v1/sync",
        &["device"],
        "Sync protocol v1 (CBOR both ways)",
    ),
    (
        "post",
        "/v2/sync",
        &["device"],
        "Sync protocol v2: v1, and a reply entry may carry the document saved whole as `state`",
    ),
    (
        "post",
        "/v3/sync",
        &["device"],
        "Sync protocol v3: v2 with a device's own `tally` documents, and `totals` per site in the reply",
    ),
];

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, roles, summary) in OPERATIONS {
        let mut operation = json!({
            "summary": summary,
            "x-roles": roles,
            "responses": {
                "200": { "description": "Success" },
                "4XX": { "description": "Client error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }
        });
        if !roles.is_empty() {
            operation["security"] = json!([{ "bearer": [] }]);
        }
        if path.contains("{id}") {
            operation["parameters"] = json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }]);
        }
        if path.ends_with("/sync") {
            operation["requestBody"] = json!({ "required": true, "content": { CBOR: { "schema": { "$ref": "#/components/schemas/SyncRequest" } } } });
            operation["responses"]["200"] = json!({ "description": "Sync response", "content": { CBOR: { "schema": { "$ref": "#/components/schemas/SyncResponse" } } } });
        } else if *method == "post" {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } });
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Survey server", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error", "message"], "properties": { "error": { "type": "string" }, "message": { "type": "string" } } },
                "DocEntry": { "type": "object", "properties": {
                    "id": { "type": "string", "format": "uuid" },
                    "kind": { "enum": ["response", "site", "form", "tally"], "description": "tally: v3 only" },
                    "heads": { "type": "array", "items": { "type": "string", "format": "binary", "description": "32 bytes" } },
                    "changes": { "type": "array", "items": { "type": "string", "format": "binary" } },
                    "state": { "type": "string", "format": "binary", "description": "v2 replies only: the saved Automerge document, in place of changes" } } },
                "SyncRequest": { "type": "object", "properties": {
                    "v": { "enum": [1, 2, 3], "description": "the N of /vN/sync" }, "dataset": { "type": "string", "format": "uuid" }, "epoch": { "type": "integer" },
                    "docs": { "type": "array", "items": { "$ref": "#/components/schemas/DocEntry" } } } },
                "SyncResponse": { "type": "object", "properties": {
                    "v": { "enum": [1, 2, 3] }, "epoch": { "type": "integer" }, "reset": { "type": "boolean" },
                    "docs": { "type": "array", "items": { "$ref": "#/components/schemas/DocEntry" } },
                    "rejected": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "code": { "enum": ["forbidden", "invalid", "malformed", "too_large", "linked_actor", "unknown_form"] },
                        "message": { "type": "string" } } } },
                    "need_all": { "type": "array", "items": { "type": "string", "format": "uuid" } },
                    "more": { "type": "boolean" },
                    "totals": { "type": "array", "description": "v3 only: each site's counts less the requesting device's own tally documents", "items": { "type": "object", "properties": {
                        "site": { "type": "string", "format": "uuid" },
                        "tallies": { "type": "object", "additionalProperties": { "type": "integer" } } } } } } }
            }
        }
    })
}
