//! A device whose sign-in expired enrolls again and loses nothing; a device withdrawn with a
//! wipe deletes what it holds (issue 19); a withdrawn response leaves the phone and the server
//! (issue 20).

use serde_json::json;
use uuid::Uuid;

use crate::end_to_end::{FORM, GOOD_ANSWERS, enrolled};
use crate::support::TestServer;

#[test]
fn an_expired_device_enrolls_again_with_a_new_code_and_keeps_its_work() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 2);
    let phone = enrolled(&server, &fixture.code);
    let file = phone.answers_file("a.json", GOOD_ANSWERS);
    phone
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    phone.run(&["sync"]).ok();
    phone
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    let device: Uuid = phone.status()["device"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("device id");

    server.execute("UPDATE tokens SET expires_at = 0 WHERE device = $1", device);
    phone.run(&["sync"]).fails(1, "survey renew --code");
    assert_eq!(phone.status()["pending"], 1, "the unsent response is still there");

    phone
        .run(&["renew", "--code", "WRNG-CODE-AAAA-BBBB"])
        .fails(1, "not accepted");
    let run = phone.run(&["renew", "--code", &fixture.code]).ok();
    assert!(
        run.stdout.contains("nothing collected on this device was lost"),
        "{run:#?}"
    );
    let status = phone.status();
    assert_eq!(status["pending"], 0);
    assert_eq!(status["device"], device.to_string(), "the same device");
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 2);
}

#[test]
fn a_device_withdrawn_with_a_wipe_deletes_what_it_holds() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 3);
    let phone = enrolled(&server, &fixture.code);
    let file = phone.answers_file("a.json", GOOD_ANSWERS);
    phone
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    phone.run(&["sync"]).ok();
    phone
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    let device = phone.status()["device"].as_str().expect("device id").to_owned();

    let _: serde_json::Value = server
        .client()
        .post_json(
            &format!("/v1/devices/{device}/revoke"),
            Some(&server.admin_token),
            &json!({ "wipe": true }),
        )
        .expect("withdrawn");
    let run = phone.run(&["sync"]).fails(1, "asked it to delete its data");
    assert!(run.stderr.contains("1 not sent"), "{run:#?}");
    assert!(!phone.state_path().exists(), "the state file is gone");
    phone.run(&["status"]).fails(1, "not enrolled");
    assert_eq!(
        server.stored_responses(fixture.dataset, "contact-log").len(),
        1,
        "what it sent stays on the server"
    );
    // It can join again, as a new device, with a new code.
    phone
        .run(&["enroll", "--server", &server.url, "--code", &fixture.code])
        .ok();
    assert_ne!(phone.status()["device"], device);
}

#[test]
fn a_withdrawn_response_leaves_the_phone_and_the_server() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 2);
    let phone = enrolled(&server, &fixture.code);
    let file = phone.answers_file("a.json", GOOD_ANSWERS);
    for _ in 0..2 {
        phone
            .run(&["collect", "--form", "contact-log", "--answers", &file])
            .ok();
    }
    phone.run(&["sync"]).ok();
    let listed = phone.run(&["responses"]).ok().stdout;
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");

    let run = phone.run(&["withdraw", "--response", ids[0]]).ok();
    assert!(run.stdout.contains("from the server"), "{run:#?}");
    assert!(!phone.run(&["responses"]).ok().stdout.contains(ids[0]));
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 1);
    phone.run(&["withdraw", "--response", ids[0]]).fails(1, ids[0]);
    phone
        .run(&["withdraw", "--response", "not-a-uuid"])
        .fails(2, "invalid");
    // Nothing waits to be told: the next sync sends nothing and keeps the other response.
    phone.run(&["sync"]).ok();
    assert!(phone.run(&["responses"]).ok().stdout.contains(ids[1]));
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 1);
}
