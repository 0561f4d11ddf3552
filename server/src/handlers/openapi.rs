//! The OpenAPI 3.1 description served at `/openapi.json`, built from the same constants the
//! handlers use (content types, roles). Request and response bodies are described in the
//! summaries, not as schemas, except the error body and the sync protocol's CBOR. The
//! integration suite checks that every operation listed here answers on the router, and counts
//! them, so a route added without its line here fails it.

use serde_json::{Value, json};

use super::forms::XLSX;
use super::sync::CBOR;
use crate::storage::Role;

/// Every operation: method, path, roles allowed (empty: no token), summary.
pub const OPERATIONS: &[(&str, &str, &[Role], &str)] = &[
    ("get", "/healthz", &[], "Liveness"),
    ("get", "/openapi.json", &[], "This document"),
    (
        "post",
        "/v1/datasets",
        &[Role::Admin],
        "Create a dataset { name, mode: live|demo, k?, retention_days? } (retention_days: null or left out keeps responses)",
    ),
    (
        "get",
        "/v1/datasets",
        &[Role::Admin, Role::Analyst, Role::Trainer, Role::Supervisor],
        "List datasets",
    ),
    (
        "delete",
        "/v1/datasets/{id}",
        &[Role::Admin],
        "Purge a dataset and everything in it (a live one: ?confirm=<its name>); its phones get 401 wiped",
    ),
    (
        "get",
        "/v1/datasets/{id}/retention",
        &[Role::Admin],
        "Retention dry run ?days: the setting { days }, and how many submitted responses it (or ?days) would purge now { counted_for, oldest_kept, due }; deletes nothing",
    ),
    (
        "put",
        "/v1/datasets/{id}/retention",
        &[Role::Admin],
        "Set how many days submitted responses are kept after the day they were received { days: 1..36500 | null }; a background task purges them after that",
    ),
    (
        "get",
        "/v1/datasets/{id}/form-versions",
        &[Role::Admin],
        "Every published version of each form: form, version, title, questions",
    ),
    (
        "post",
        "/v1/datasets/{id}/forms",
        &[Role::Admin],
        "Publish a new form version: form JSON, or an XLSForm workbook (Content-Type: the .xlsx media type; ?areas=a,b&form_id when the settings sheet has none) answered with { form, report }; a refused workbook's error lists every problem with its sheet, row and column",
    ),
    (
        "get",
        "/v1/datasets/{id}/forms",
        &[Role::Admin, Role::Analyst, Role::Trainer, Role::Supervisor],
        "Latest version of each form, as published",
    ),
    (
        "post",
        "/v1/datasets/{id}/enrollments",
        &[Role::Admin, Role::Trainer],
        "Issue an enrollment code { label, uses, expires_in_hours } (trainers: demo datasets only)",
    ),
    (
        "post",
        "/v1/datasets/{id}/reset",
        &[Role::Admin, Role::Trainer],
        "Reset a demo dataset { seed, responses } (409 not_demo on a live one)",
    ),
    (
        "get",
        "/v1/datasets/{id}/aggregates",
        &[Role::Admin, Role::Analyst],
        "Aggregates ?form&by&where&from&to&metric&review=approved: every combination and its totals (key `*`), counts perturbed by cell key, those under k suppressed; at most 3 dimensions, filters, date windows and review=approved (only responses a supervisor approved) together; 500 queries a token a day (429 query_budget); Accept: text/csv for CSV",
    ),
    (
        "get",
        "/v1/datasets/{id}/tallies",
        &[Role::Admin, Role::Analyst],
        "Site tallies ?by=site,week|month&metric=contacts (default), protected like the aggregates; Accept: text/csv for CSV",
    ),
    (
        "get",
        "/v1/datasets/{id}/query-log",
        &[Role::Admin],
        "The aggregate and tally queries answered on the dataset, newest first: token name, role, route, query, time",
    ),
    ("get", "/analyst", &[], "The analyst dashboard page"),
    ("get", "/admin", &[], "The admin page"),
    (
        "get",
        "/v1/datasets/{id}/quarantine",
        &[Role::Admin],
        "Documents refused by sync: code, size, SHA-256, day, and the message where kept",
    ),
    (
        "delete",
        "/v1/datasets/{id}/quarantine",
        &[Role::Admin],
        "Purge the dataset's quarantine records now; answers { purged }",
    ),
    (
        "delete",
        "/v1/datasets/{id}/responses/{response}",
        &[Role::Admin, Role::Device],
        "Withdraw a response (devices: one they wrote): deleted everywhere, a later sync of it refused as withdrawn",
    ),
    (
        "put",
        "/v1/datasets/{id}/responses/{response}/review",
        &[Role::Admin, Role::Supervisor],
        "Review a submitted response { state: approved|flagged, note? (scrubbed, at most 500 characters) }; answers { id, review, verdict, edited_since_review }",
    ),
    (
        "get",
        "/v1/datasets/{id}/responses/{response}/review",
        &[Role::Admin, Role::Supervisor],
        "Where a response's review stands, and the response as a supervisor sees it: form, version, status, area, ISO week, device (no answers)",
    ),
    (
        "get",
        "/v1/datasets/{id}/reviews",
        &[Role::Admin, Role::Supervisor],
        "Submitted responses by review standing ?state=pending (default)|approved|flagged&form&after&limit: { responses, next }",
    ),
    (
        "get",
        "/v1/datasets/{id}/devices",
        &[Role::Admin],
        "The dataset's devices: id, label, enrolled_on, last_sync_on, documents sent, revoked_on, wipe",
    ),
    (
        "post",
        "/v1/devices/{id}/revoke",
        &[Role::Admin],
        "Withdraw a device { wipe? }: its tokens get 401 revoked, or 401 wiped (the phone deletes the dataset's documents)",
    ),
    (
        "post",
        "/v1/enroll",
        &[],
        "Trade an enrollment code for a device token { code, device_token? } (device_token: enroll again as the same device), answered with { device_id, dataset, epoch, mode, token }; 429 too_many_attempts after too many wrong codes",
    ),
    (
        "post",
        "/v1/tokens",
        &[Role::Admin],
        "Issue an admin, analyst, trainer or supervisor token { role, name, dataset?, expires_in_days? }",
    ),
    (
        "get",
        "/v1/tokens",
        &[Role::Admin],
        "List tokens without their secrets: id, name, role, dataset, device, created_on, expires_on, revoked_on, last_used_on",
    ),
    (
        "delete",
        "/v1/tokens/{id}",
        &[Role::Admin],
        "Revoke a token: its next request gets 401 revoked",
    ),
    (
        "get",
        "/v1/audit",
        &[Role::Admin],
        "The audit log, newest first ?dataset&limit: actor, role, action, dataset, day",
    ),
    (
        "post",
        "/v1/sync",
        &[Role::Device],
        "Sync protocol v1 (CBOR both ways)",
    ),
    (
        "post",
        "/v2/sync",
        &[Role::Device],
        "Sync protocol v2: v1, and a reply entry may carry the document saved whole as `state`",
    ),
    (
        "post",
        "/v3/sync",
        &[Role::Device],
        "Sync protocol v3: v2 with a device's own `tally` documents, and `totals` per site in the reply",
    ),
];

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, roles, summary) in OPERATIONS {
        let mut operation = json!({
            "summary": summary,
            "x-roles": roles.iter().map(|role| role.as_str()).collect::<Vec<_>>(),
            "responses": {
                "200": { "description": "Success" },
                "4XX": { "description": "Client error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }
        });
        if !roles.is_empty() {
            operation["security"] = json!([{ "bearer": [] }]);
        }
        let ids: Vec<Value> = ["id", "response"]
            .iter()
            .filter(|name| path.contains(&format!("{{{name}}}")))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }))
            .collect();
        if !ids.is_empty() {
            operation["parameters"] = Value::Array(ids);
        }
        if path.ends_with("/sync") {
            operation["requestBody"] = json!({ "required": true, "content": { CBOR: { "schema": { "$ref": "#/components/schemas/SyncRequest" } } } });
            operation["responses"]["200"] = json!({ "description": "Sync response", "content": { CBOR: { "schema": { "$ref": "#/components/schemas/SyncResponse" } } } });
        } else if ["post", "put"].contains(method) {
            // A revocation's body ({ wipe }) may be left out.
            let required = !path.ends_with("/revoke");
            operation["requestBody"] = json!({ "required": required, "content": { "application/json": { "schema": { "type": "object" } } } });
        }
        if *method == "post" && path.ends_with("/forms") {
            operation["requestBody"]["content"][XLSX] = json!({ "schema": { "type": "string", "format": "binary", "description": "an XLSForm workbook, 2 MiB at most" } });
            operation["responses"]["201"] =
                json!({ "description": "Published: the form JSON, or for a workbook { form, report }" });
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
                "Error": { "type": "object", "required": ["error", "message"], "properties": {
                    "error": { "type": "string" }, "message": { "type": "string" },
                    "problems": { "type": "array", "description": "a refused XLSForm workbook: every problem", "items": { "type": "object", "properties": {
                        "code": { "type": "string" }, "sheet": { "type": "string" }, "row": { "type": "integer" }, "column": { "type": "string" }, "message": { "type": "string" } } } } } },
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
