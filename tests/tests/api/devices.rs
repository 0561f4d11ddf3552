//! An admin sees a dataset's phones and withdraws a lost one (issue 19): its tokens stop at
//! once, and with a wipe its next request tells it to delete what it holds; what it sent
//! stays on the server.

use serde_json::json;

use crate::on_both_backends;
use survey_server::SyncSettings;

use crate::support::{Api, Backend, TestServer};
use crate::sync_scenarios::edit;
use crate::tokens::today;

on_both_backends!(
    devices_are_listed_with_days_and_what_they_sent,
    a_withdrawn_device_is_refused_and_a_wiped_one_told_to_wipe,
    device_revocations_with_hostile_input_get_a_clear_4xx,
);

async fn devices_are_listed_with_days_and_what_they_sent(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    for seed in 0..3 {
        devices[0]
            .engine
            .create_response("outreach", &edit(seed))
            .expect("response");
    }
    devices[0].engine.create_site("pier", "Pier").expect("site");
    devices[0].sync_fully(api).await;

    let reply = api
        .get(&format!("/v1/datasets/{dataset}/devices"), Some(&admin))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(!reply.text().contains("127.0.0.1"), "no address is listed");
    let listed = reply.json();
    let listed = listed.as_array().expect("list");
    assert_eq!(listed.len(), 2);
    for phone in listed {
        let mut fields: Vec<&str> = phone
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "documents",
                "enrolled_on",
                "id",
                "label",
                "last_sync_on",
                "revoked_on",
                "wipe"
            ],
            "{phone}"
        );
        assert_eq!(phone["label"], "test phones");
        assert_eq!(phone["enrolled_on"], today());
        assert_eq!(phone["last_sync_on"], today());
        assert_eq!(phone["revoked_on"], json!(null));
    }
    let of = |device: &crate::support::Device| {
        listed
            .iter()
            .find(|d| d["id"] == device.id.to_string())
            .expect("listed")
            .clone()
    };
    assert_eq!(of(&devices[0])["documents"], 3, "responses it sent, not sites");
    assert_eq!(of(&devices[1])["documents"], 0);

    let other = api.create_dataset(&admin, "other", "live").await;
    let limited = api.token(&admin, "admin", Some(other)).await;
    let reply = api
        .get(&format!("/v1/datasets/{dataset}/devices"), Some(&limited))
        .await;
    assert_eq!(reply.status, 403);
    let none = api
        .get(&format!("/v1/datasets/{other}/devices"), Some(&limited))
        .await;
    assert_eq!(none.json(), json!([]));
}

async fn a_withdrawn_device_is_refused_and_a_wiped_one_told_to_wipe(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 3).await;
    for device in &mut devices {
        device
            .engine
            .create_response("outreach", &edit(1))
            .expect("response");
        device.sync_fully(api).await;
    }
    let token = admin.as_str();
    let revoke = |id: uuid::Uuid, body: Option<serde_json::Value>| async move {
        let path = format!("/v1/devices/{id}/revoke");
        match body {
            Some(body) => api.post_json(&path, Some(token), &body).await,
            None => api
                .send(reqwest::Method::POST, &path, Some(token), None, Vec::new())
                .await
                .expect("POST"),
        }
    };
    let reply = revoke(devices[0].id, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "id": devices[0].id, "revoked": true, "wipe": false })
    );
    let reply = revoke(devices[1].id, Some(json!({ "wipe": true }))).await;
    assert_eq!(reply.json()["wipe"], true);
    // A wipe, once asked for, stays asked for.
    let reply = revoke(devices[1].id, Some(json!({ "wipe": false }))).await;
    assert_eq!(reply.status, 200);

    let codes: Vec<String> = next_sync_outcomes(&mut devices, api).await;
    assert_eq!(codes, ["401 revoked", "401 wiped", "200"]);
    let listed = api
        .get(&format!("/v1/datasets/{dataset}/devices"), Some(&admin))
        .await
        .json();
    let wiped = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["id"] == devices[1].id.to_string())
        .expect("listed")
        .clone();
    assert_eq!(wiped["wipe"], true);
    assert_eq!(wiped["revoked_on"], today());
    assert_eq!(wiped["documents"], 1, "what it sent stays on the server");
    let audit = api.get("/v1/audit?limit=3", Some(&admin)).await.json();
    let actions: Vec<&str> = audit
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(actions, ["revoke_device", "revoke_device:wipe", "revoke_device"]);
}

/// Each device's next sync: `200`, or the status and error code it got.
async fn next_sync_outcomes(
    devices: &mut [crate::support::Device],
    api: &crate::support::Api,
) -> Vec<String> {
    let mut out = Vec::new();
    for device in devices {
        out.push(match device.try_sync_once(api).await {
            Ok(_) => "200".to_owned(),
            Err(failure) => {
                let (status, body) = failure.split_once(": ").expect("status: body");
                let body: serde_json::Value = serde_json::from_str(body).expect("JSON error");
                format!(
                    "{} {}",
                    status.trim_start_matches("status "),
                    body["error"].as_str().expect("code")
                )
            }
        });
    }
    out
}

async fn device_revocations_with_hostile_input_get_a_clear_4xx(backend: Backend) {
    let settings = SyncSettings {
        max_body_bytes: 16 << 10,
        ..SyncSettings::default()
    };
    let server = TestServer::start_with(&backend, settings).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let path = format!("/v1/devices/{}/revoke", devices[0].id);
    for (content_type, body, status, code) in [
        (Some("application/json"), r#"{"wipe":"yes"}"#, 400, "bad_json"),
        (
            Some("application/json"),
            r#"{"wipe":true,"and":"more"}"#,
            400,
            "bad_json",
        ),
        (Some("application/json"), r#"{"wipe":"#, 400, "bad_json"),
        (Some("application/json"), "true", 400, "bad_json"),
        (
            Some("text/plain"),
            r#"{"wipe":true}"#,
            415,
            "unsupported_media_type",
        ),
        (None, r#"{"wipe":true}"#, 415, "unsupported_media_type"),
    ] {
        let reply = api
            .send(
                reqwest::Method::POST,
                &path,
                Some(&admin),
                content_type,
                body.as_bytes().to_vec(),
            )
            .await
            .expect("POST");
        assert_eq!(reply.status, status, "{content_type:?} {body}: {}", reply.text());
        assert_eq!(reply.error_code(), code, "{body}");
    }
    let huge = format!(r#"{{"wipe":true,"pad":"{}"}}"#, "x".repeat(32 << 10));
    // On a connection of its own: after a 413 the server closes it without reading the body.
    let reply = Api::new(api.base.clone())
        .send(
            reqwest::Method::POST,
            &path,
            Some(&admin),
            Some("application/json"),
            huge.into_bytes(),
        )
        .await
        .expect("POST");
    assert_eq!((reply.status, reply.error_code().as_str()), (413, "too_large"));
    // Nothing above withdrew the device.
    let mut phone = devices.into_iter().next().expect("phone");
    phone.sync_fully(api).await;

    for (path, status, code) in [
        ("/v1/devices/not-a-uuid/revoke", 400, "bad_id"),
        (
            "/v1/devices/00000000-0000-0000-0000-000000000000/revoke",
            404,
            "not_found",
        ),
    ] {
        let reply = api.post_json(path, Some(&admin), &json!({})).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (status, code),
            "{path}"
        );
    }
    let reply = api.get("/v1/datasets/not-a-uuid/devices", Some(&admin)).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (400, "bad_id"));
    let missing = uuid::Uuid::new_v4();
    let reply = api
        .get(&format!("/v1/datasets/{missing}/devices"), Some(&admin))
        .await;
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"));
}
