//! The field worker's story: enroll, see the forms, collect, tally, sync, check the status;
//! and a second phone whose tallies add up with the first's.

use uuid::Uuid;

use crate::support::{Device, TestServer};

pub const FORM: &str = r#"{
  "id": "contact-log", "version": 1, "title": "Outreach contact log", "areas": ["north", "south"],
  "questions": [
    { "id": "gender", "type": "single", "label": "Gender", "options": ["f", "m", "x"], "required": true },
    { "id": "s1", "type": "likert", "label": "Felt safe at work", "scale": 5 },
    { "id": "help", "type": "multi", "label": "Help wanted", "options": ["ngo", "police", "health"] },
    { "id": "contacts", "type": "integer", "label": "People met", "min": 0, "max": 500 },
    { "id": "notes", "type": "text", "label": "Notes", "max_len": 200 }
  ] }"#;

pub const GOOD_ANSWERS: &str = r#"{ "area": "north", "collected_on": "2026-11-20",
  "answers": { "gender": "f", "s1": 4, "help": ["ngo", "health"], "contacts": 12, "notes": "met at the bus stop" },
  "submit": true }"#;

/// The response id `survey collect` reports.
fn saved_id(stdout: &str) -> Uuid {
    let word = stdout
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("no id in {stdout:?}"));
    Uuid::parse_str(word).unwrap_or_else(|_| panic!("no id in {stdout:?}"))
}

/// An enrolled device that keeps what it sent, as the tests that look at sent responses need
/// (`sent.rs` tests deleting them).
pub fn enrolled(server: &TestServer, code: &str) -> Device {
    let device = Device::new();
    device
        .run(&["enroll", "--server", &server.url, "--code", code, "--keep-sent"])
        .ok();
    device
}

#[test]
fn enroll_forms_collect_tally_sync_status() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 2);
    let phone = Device::new();

    let run = phone
        .run(&["enroll", "--server", &server.url, "--code", &fixture.code])
        .ok();
    assert!(run.stdout.contains("Enrolled"), "{run:#?}");
    assert!(run.stdout.contains("Fetched 1 form"), "{run:#?}");

    let run = phone.run(&["forms"]).ok();
    assert!(
        run.stdout.contains("contact-log  v1  Outreach contact log"),
        "{run:#?}"
    );
    let run = phone.run(&["forms", "--form", "contact-log"]).ok();
    let form: serde_json::Value = serde_json::from_str(&run.stdout).expect("form JSON");
    assert_eq!(form["questions"].as_array().map(Vec::len), Some(5));

    let file = phone.answers_file("a1.json", GOOD_ANSWERS);
    let first = saved_id(
        &phone
            .run(&["collect", "--form", "contact-log", "--answers", &file])
            .ok()
            .stdout,
    );
    let draft = r#"{ "area": "south", "collected_on": "2026-11-21", "answers": { "s1": 2 } }"#;
    let run = phone
        .run_with_input(
            &["collect", "--form", "contact-log", "--answers", "-"],
            Some(draft),
        )
        .ok();
    assert!(run.stdout.contains("as a draft"), "{run:#?}");
    let second = saved_id(&run.stdout);

    phone
        .run(&["site", "add", "market", "--name", "Central market"])
        .ok();
    let run = phone
        .run(&["tally", "--site", "market", "--metric", "kits", "--by", "3"])
        .ok();
    assert!(run.stdout.contains("kits is now 3"), "{run:#?}");

    let status = phone.status();
    assert_eq!(status["pending"], 3, "{status}");
    assert_eq!(status["responses"], 2, "{status}");
    assert_eq!(status["dataset"], fixture.dataset.to_string());
    assert!(status["last_sync"].is_u64(), "enroll synced the forms: {status}");

    let run = phone.run(&["sync"]).ok();
    assert!(run.stdout.contains("Synced: 3 documents sent"), "{run:#?}");
    let status = phone.status();
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(status["rejections"], serde_json::json!([]), "{status}");
    assert!(status["last_sync_error"].is_null(), "{status}");

    let stored = server.stored_responses(fixture.dataset, "contact-log");
    let mut ids: Vec<Uuid> = stored.iter().map(|r| r.document).collect();
    ids.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(ids, expected, "each response stored exactly once");

    // Syncing again sends nothing new and stores nothing twice.
    let run = phone.run(&["sync"]).ok();
    assert!(run.stdout.contains("Synced: 0 documents sent"), "{run:#?}");
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 2);

    let run = phone.run(&["status"]).ok();
    assert!(run.stdout.contains("to sync:    0 documents"), "{run:#?}");
    assert!(run.stdout.contains("UTC"), "{run:#?}");
}

#[test]
fn tallies_from_two_phones_add_up() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 2);
    let first = enrolled(&server, &fixture.code);
    first
        .run(&["site", "add", "station", "--name", "Railway station"])
        .ok();
    first.run(&["sync"]).ok();
    let second = enrolled(&server, &fixture.code);
    let run = second.run(&["site", "list"]).ok();
    assert!(run.stdout.contains("station  Railway station"), "{run:#?}");

    // Both offline at the same time.
    first
        .run(&["tally", "--site", "station", "--metric", "contacts", "--by", "4"])
        .ok();
    second
        .run(&["tally", "--site", "station", "--metric", "contacts", "--by", "5"])
        .ok();
    second
        .run(&["tally", "--site", "station", "--metric", "contacts", "--by", "-1"])
        .ok();
    first.run(&["sync"]).ok();
    second.run(&["sync"]).ok();
    first.run(&["sync"]).ok();

    for phone in [&first, &second] {
        let run = phone.run(&["site", "list"]).ok();
        assert!(run.stdout.contains("contacts 8"), "{run:#?}");
    }
}

#[test]
fn a_training_reset_clears_the_phone_and_says_so() {
    let server = TestServer::start();
    let fixture = server.fixture_in("demo", FORM, 1);
    let trainee = enrolled(&server, &fixture.code);
    let file = trainee.answers_file("a.json", GOOD_ANSWERS);
    trainee
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    trainee.run(&["sync"]).ok();

    let reset: serde_json::Value = server
        .client()
        .post_json(
            &format!("/v1/datasets/{}/reset", fixture.dataset),
            Some(&server.admin_token),
            &serde_json::json!({ "seed": 1, "responses": 0 }),
        )
        .expect("reset");
    let run = trainee.run(&["sync"]).ok();
    assert!(run.stdout.contains("reset this training dataset"), "{run:#?}");
    let status = trainee.status();
    assert_eq!(status["epoch"], reset["epoch"], "{status}");
    assert_eq!(
        status["responses"], 0,
        "old training responses are gone: {status}"
    );
    trainee.run(&["forms"]).ok();
}

#[test]
fn a_draft_is_finished_and_submitted_later() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    let phone = enrolled(&server, &fixture.code);
    let draft = r#"{ "area": "south", "collected_on": "2026-11-21", "answers": { "s1": 2 } }"#;
    let file = phone.answers_file("draft.json", draft);
    let id = saved_id(
        &phone
            .run(&["collect", "--form", "contact-log", "--answers", &file])
            .ok()
            .stdout,
    );
    phone.run(&["sync"]).ok();
    let run = phone.run(&["responses"]).ok();
    assert!(
        run.stdout
            .contains(&format!("{id}  contact-log v1  south  2026-11-21  draft")),
        "{run:#?}"
    );

    // Submitting without the required answer is refused, and changes nothing.
    let id_text = id.to_string();
    let submit = phone.answers_file("submit.json", r#"{ "submit": true }"#);
    phone
        .run(&["edit", "--response", &id_text, "--answers", &submit])
        .fails(1, "required question \"gender\" has no answer");
    let finish = phone.answers_file(
        "finish.json",
        r#"{ "answers": { "gender": "x" }, "submit": true }"#,
    );
    let run = phone
        .run(&["edit", "--response", &id_text, "--answers", &finish])
        .ok();
    assert!(run.stdout.contains("it is submitted"), "{run:#?}");
    phone.run(&["sync"]).ok();

    let stored = server.stored_responses(fixture.dataset, "contact-log");
    assert_eq!(stored.len(), 1, "an edit is the same response, not a new one");
    assert!(stored[0].submitted, "{stored:?}");
    phone
        .run(&[
            "edit",
            "--response",
            &Uuid::new_v4().to_string(),
            "--answers",
            &finish,
        ])
        .fails(1, "there is no response");
}

/// A v3 client steps down on 404, to v2 and to v1, and its tallies still reach the others:
/// bumped after the older server's answer, they go into the shared site itself.
#[test]
fn a_server_from_before_v3_or_v2_is_synced_over_the_protocol_it_speaks() {
    for newest in [2, 1] {
        let server = TestServer::start_speaking_up_to(newest);
        let fixture = server.fixture(FORM, 2);
        // Enrolling syncs the forms: the first round gets 404 and goes again, one version down.
        let first = enrolled(&server, &fixture.code);
        let file = first.answers_file("a.json", GOOD_ANSWERS);
        first
            .run(&["collect", "--form", "contact-log", "--answers", &file])
            .ok();
        first.run(&["site", "add", "pier", "--name", "Pier"]).ok();
        let run = first.run(&["sync"]).ok();
        assert!(run.stdout.contains("Synced: 2 documents sent"), "{run:#?}");
        first
            .run(&["tally", "--site", "pier", "--metric", "contacts", "--by", "6"])
            .ok();
        first.run(&["sync"]).ok();
        assert_eq!(first.status()["pending"], 0, "v{newest}");
        assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 1);

        let second = enrolled(&server, &fixture.code);
        let run = second.run(&["site", "list"]).ok();
        assert!(run.stdout.contains("pier  Pier"), "{run:#?}");
        assert!(run.stdout.contains("contacts 6"), "v{newest}: {run:#?}");
        assert_eq!(second.status()["pending"], 0);
    }
}
