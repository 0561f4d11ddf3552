//! Tokens expire and can be revoked, and each refusal says which (issue 19): a revoked token
//! stops at its next request on every replica, an expired phone enrolls again as itself and
//! keeps its work, and admins list tokens without ever seeing a secret.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::on_both_backends;
use crate::replicas::two_servers;
use crate::support::process::run;
use crate::support::{Backend, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    a_revoked_token_is_refused_at_its_next_request_on_every_replica,
    an_expired_token_is_refused_and_its_phone_enrolls_again_keeping_its_work,
    a_phone_enrolls_again_only_as_itself_in_its_own_dataset,
    tokens_are_listed_without_their_secrets,
    token_requests_with_hostile_fields_get_a_clear_4xx,
    the_token_commands_create_list_and_revoke,
);

/// The status and error code of a refused request.
fn refusal(reply: &crate::support::Reply) -> (u16, String) {
    (reply.status, reply.error_code())
}

async fn a_revoked_token_is_refused_at_its_next_request_on_every_replica(backend: Backend) {
    let (_db, admin, a, b) = two_servers(&backend).await;
    let (analyst, id) = a.api.token_with_id(&admin, "analyst", None).await;
    for server in [&a, &b] {
        assert_eq!(server.api.get("/v1/datasets", Some(&analyst)).await.status, 200);
    }
    let revoked = a.api.delete(&format!("/v1/tokens/{id}"), Some(&admin)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let revoked = revoked.json();
    assert_eq!(revoked["id"], id.to_string());
    assert!(revoked["revoked_on"].is_string(), "{revoked}");
    // No cache stands between a revocation and the other replica.
    for server in [&b, &a] {
        let reply = server.api.get("/v1/datasets", Some(&analyst)).await;
        assert_eq!(refusal(&reply), (401, "revoked".into()));
    }
    let again = a.api.delete(&format!("/v1/tokens/{id}"), Some(&admin)).await;
    assert_eq!(
        again.json()["revoked_on"],
        revoked["revoked_on"],
        "revoking twice changes nothing"
    );
    a.kill();
    b.kill();
}

async fn an_expired_token_is_refused_and_its_phone_enrolls_again_keeping_its_work(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let mut phone = devices.pop().expect("phone");
    let sent = phone
        .engine
        .create_response("outreach", &edit(1))
        .expect("response");
    phone.sync_fully(api).await;
    // Work the server has not seen: a change to a response it holds, and a new response.
    phone.engine.edit_response(sent, &edit(2)).expect("edit");
    let unsent = phone
        .engine
        .create_response("outreach", &edit(3))
        .expect("response");

    server
        .db
        .execute("UPDATE tokens SET expires_at = 0 WHERE device = $1", phone.id)
        .await;
    let failed = phone
        .try_sync_once(api)
        .await
        .expect_err("an expired token syncs nothing");
    assert!(
        failed.contains("401") && failed.contains("\"expired\""),
        "{failed}"
    );
    assert_eq!(phone.engine.pending_count(), 2, "the phone kept its work");

    let code = api.enrollment_code(&admin, dataset, 1).await;
    let again = api
        .post_json(
            "/v1/enroll",
            None,
            &json!({ "code": code, "device_token": phone.token }),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.text());
    let again = again.json();
    assert_eq!(again["device_id"], phone.id.to_string(), "the same device");
    phone.token = again["token"].as_str().expect("token").to_owned();
    phone.sync_fully(api).await;
    assert_eq!(phone.engine.pending_count(), 0);
    assert!(
        phone.engine.rejections().is_empty(),
        "{:?}",
        phone.engine.rejections()
    );
    let owned = "SELECT COUNT(*) FROM documents WHERE owner = $1";
    assert_eq!(server.db.count(owned, phone.id).await, 2);
    let edited = "SELECT COUNT(*) FROM answers WHERE document = $1 AND question = 's1' AND num = 3";
    assert_eq!(
        server.db.count(edited, sent).await,
        1,
        "the change to the sent response landed"
    );
    let stored = "SELECT COUNT(*) FROM responses WHERE document = $1";
    assert_eq!(server.db.count(stored, unsent).await, 1);

    // A person's expired token is refused the same way.
    let (analyst, id) = api.token_with_id(&admin, "analyst", Some(dataset)).await;
    server
        .db
        .execute("UPDATE tokens SET expires_at = 0 WHERE id = $1", id)
        .await;
    let reply = api.get("/v1/datasets", Some(&analyst)).await;
    assert_eq!(refusal(&reply), (401, "expired".into()));
}

async fn a_phone_enrolls_again_only_as_itself_in_its_own_dataset(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let other = api.create_dataset(&admin, "elsewhere", "live").await;
    let code = api.enrollment_code(&admin, dataset, 10).await;
    let enroll_with = |token: Value, code: String| async move {
        api.post_json(
            "/v1/enroll",
            None,
            &json!({ "code": code, "device_token": token }),
        )
        .await
    };

    let elsewhere = api.enrollment_code(&admin, other, 1).await;
    let reply = enroll_with(json!(devices[0].token), elsewhere.clone()).await;
    assert_eq!(refusal(&reply), (409, "other_dataset".into()));
    let analyst = api.token(&admin, "analyst", Some(dataset)).await;
    for not_a_device in [json!(analyst), json!("svt_0000"), json!("x".repeat(10_000))] {
        let reply = enroll_with(not_a_device, code.clone()).await;
        assert_eq!(refusal(&reply), (400, "invalid".into()));
    }
    for malformed in [json!(7), json!(["svt_"]), json!({ "token": "svt_" })] {
        let reply = enroll_with(malformed, code.clone()).await;
        assert_eq!(refusal(&reply), (400, "bad_json".into()));
    }
    // A withdrawn phone cannot come back as itself.
    let withdrawn = &devices[1];
    let revoke = api
        .post_json(
            &format!("/v1/devices/{}/revoke", withdrawn.id),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(revoke.status, 200, "{}", revoke.text());
    let reply = enroll_with(json!(withdrawn.token), code.clone()).await;
    assert_eq!(refusal(&reply), (409, "device_revoked".into()));
    // None of the refusals spent the codes.
    let left = "SELECT uses_left FROM enrollments WHERE dataset = $1";
    assert_eq!(server.db.count(left, other).await, 1);
    // A token revoked alone (not its device) still lets its phone enroll again.
    let phone = &mut devices[0];
    let id = token_of_device(api, &admin, phone.id).await;
    api.delete(&format!("/v1/tokens/{id}"), Some(&admin)).await;
    let reply = enroll_with(json!(phone.token), code.clone()).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    phone.token = reply.json()["token"].as_str().expect("token").to_owned();
    phone.sync_fully(api).await;
}

/// The id of the token a device holds, from the admin's list.
async fn token_of_device(api: &crate::support::Api, admin: &str, device: Uuid) -> Uuid {
    let listed = api.get("/v1/tokens", Some(admin)).await.json();
    listed
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["device"] == device.to_string())
        .and_then(|t| t["id"].as_str())
        .and_then(|id| id.parse().ok())
        .expect("the device's token is listed")
}

async fn tokens_are_listed_without_their_secrets(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let other = api.create_dataset(&admin, "other", "live").await;
    let limited = api.token(&admin, "admin", Some(other)).await;
    let (analyst, _) = api.token_with_id(&admin, "analyst", Some(dataset)).await;
    assert_eq!(api.get("/v1/datasets", Some(&analyst)).await.status, 200);
    devices[0].sync_fully(api).await;

    let reply = api.get("/v1/tokens", Some(&admin)).await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    for secret in [&admin, &limited, &analyst, &devices[0].token] {
        assert!(!text.contains(secret.as_str()), "a secret is listed");
        assert!(
            !text.contains(secret.trim_start_matches("svt_")),
            "a secret is listed"
        );
    }
    let listed = reply.json();
    let tokens = listed.as_array().expect("list");
    assert_eq!(tokens.len(), 4, "{listed}");
    let today = today();
    for token in tokens {
        let mut fields: Vec<&str> = token
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "created_on",
                "dataset",
                "device",
                "expires_on",
                "id",
                "last_used_on",
                "name",
                "revoked_on",
                "role"
            ],
            "{token}"
        );
        assert_eq!(token["created_on"], today);
    }
    let by_role = |role: &str| tokens.iter().find(|t| t["role"] == role).expect("listed");
    let device = by_role("device");
    assert_eq!(device["device"], devices[0].id.to_string());
    assert_eq!(device["last_used_on"], today);
    assert_eq!(days_between(&device["created_on"], &device["expires_on"]), 181);
    let analyst_listed = by_role("analyst");
    assert_eq!(analyst_listed["last_used_on"], today);
    assert_eq!(
        days_between(&analyst_listed["created_on"], &analyst_listed["expires_on"]),
        31
    );

    // A limited admin sees its dataset's tokens only.
    let own = api.get("/v1/tokens", Some(&limited)).await.json();
    let own = own.as_array().expect("list");
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["dataset"], other.to_string());
    // And cannot revoke another dataset's token: to it, there is none.
    let id = analyst_listed["id"].as_str().expect("id");
    let reply = api.delete(&format!("/v1/tokens/{id}"), Some(&limited)).await;
    assert_eq!(refusal(&reply), (404, "not_found".into()));
}

async fn token_requests_with_hostile_fields_get_a_clear_4xx(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    for (body, code) in [
        (
            json!({ "role": "analyst", "name": "a", "expires_in_days": 0 }),
            "invalid",
        ),
        (
            json!({ "role": "analyst", "name": "a", "expires_in_days": 3651 }),
            "invalid",
        ),
        (
            json!({ "role": "analyst", "name": "a", "expires_in_days": -1 }),
            "bad_json",
        ),
        (
            json!({ "role": "analyst", "name": "a", "expires_in_days": 1e30 }),
            "bad_json",
        ),
        (
            json!({ "role": "analyst", "name": "a", "expires_in_days": "30" }),
            "bad_json",
        ),
        (json!({ "role": "device", "name": "a" }), "invalid"),
    ] {
        let reply = api.post_json("/v1/tokens", Some(&admin), &body).await;
        assert_eq!(refusal(&reply), (400, code.into()), "{body}");
    }
    let made = api
        .post_json(
            "/v1/tokens",
            Some(&admin),
            &json!({ "role": "analyst", "name": "a", "expires_in_days": 1 }),
        )
        .await
        .json();
    assert_eq!(days_between(&json!(today()), &made["expires_on"]), 2);
    for (path, status, code) in [
        ("/v1/tokens/not-a-uuid", 400, "bad_id"),
        (
            "/v1/tokens/00000000-0000-0000-0000-000000000000",
            404,
            "not_found",
        ),
        ("/v1/tokens/%00", 400, "bad_id"),
    ] {
        let reply = api.delete(path, Some(&admin)).await;
        assert_eq!(refusal(&reply), (status, code.into()), "{path}");
    }
    let oversized = format!("Bearer {}", "a".repeat(100_000));
    let reply = reqwest::Client::new()
        .get(format!("{}/v1/tokens", api.base))
        .header("authorization", oversized)
        .send()
        .await
        .expect("request");
    assert!(reply.status().is_client_error(), "{}", reply.status());
}

async fn the_token_commands_create_list_and_revoke(backend: Backend) {
    let (db, _admin, a, b) = two_servers(&backend).await;
    b.kill();
    let url = db.url.as_str();
    let (ok, stdout, stderr) = run(&[
        "token",
        "create",
        "--role",
        "trainer",
        "--name",
        "week one",
        "--expires-in",
        "7",
        "--database",
        url,
    ]);
    assert!(ok, "{stderr}");
    let trainer = stdout.trim().to_owned();
    assert_eq!(a.api.get("/v1/datasets", Some(&trainer)).await.status, 200);

    let (ok, listed, stderr) = run(&["token", "list", "--database", url]);
    assert!(ok, "{stderr}");
    assert!(!listed.contains(&trainer), "a secret is listed");
    let line = listed
        .lines()
        .find(|l| l.contains("week one"))
        .unwrap_or_else(|| panic!("{listed}"));
    let columns: Vec<&str> = line.split('\t').collect();
    assert_eq!(columns[1], "trainer");
    assert_eq!(days_between(&json!(columns[4]), &json!(columns[5])), 8);

    let (ok, _, stderr) = run(&["token", "revoke", "--id", columns[0], "--database", url]);
    assert!(ok, "{stderr}");
    let reply = a.api.get("/v1/datasets", Some(&trainer)).await;
    assert_eq!(refusal(&reply), (401, "revoked".into()));

    for bad in [
        vec!["token", "create", "--role", "admin", "--expires-in", "0"],
        vec!["token", "create", "--role", "admin", "--expires-in", "3651"],
        vec!["token", "create", "--role", "admin", "--expires-in", "soon"],
        vec!["token", "create", "--role", "device"],
        vec!["token", "revoke", "--id", "nope"],
    ] {
        let mut args = bad.clone();
        args.extend(["--database", url]);
        let (ok, _, stderr) = run(&args);
        assert!(!ok && stderr.contains("error"), "{bad:?}: {stderr}");
    }
    let unknown = Uuid::new_v4().to_string();
    let (ok, _, stderr) = run(&["token", "revoke", "--id", &unknown, "--database", url]);
    assert!(!ok && stderr.contains("no token"), "{stderr}");
    a.kill();
}

/// Today (UTC) as the server writes days.
pub fn today() -> String {
    survey_server::clock::today().to_string()
}

fn days_between(from: &Value, to: &Value) -> i64 {
    let day = |v: &Value| {
        sync_core::Day::parse(v.as_str().expect("a day"))
            .expect("a day")
            .to_days()
    };
    day(to) - day(from)
}
