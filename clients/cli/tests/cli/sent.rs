//! Delete after send (issue 20): a device in a live dataset keeps no content of what the
//! server confirmed, only a count; one in a demo dataset keeps it; the setting changes both.

use survey_cli::state::StateFile;
use sync_core::DocKind;

use crate::end_to_end::FORM;
use crate::support::{Device, TestServer};

/// Long and unlike anything else in the state file, so finding it means the answer is there.
const NEEDLE: &str = "needle-after-send-7f3a-quiet-lane-behind-the-old-cannery-second-gate";

fn answers(submit: bool) -> String {
    format!(
        r#"{{ "area": "north", "collected_on": "2026-11-20",
  "answers": {{ "gender": "x", "s1": 3, "contacts": 4, "notes": "{NEEDLE}" }}, "submit": {submit} }}"#
    )
}

/// Whether the device's state holds the needle anywhere: in the file's bytes, or in any of its
/// documents' whole history uncompressed (Automerge deflates larger columns when saving, so the
/// raw file alone could hide an answer that is there).
fn state_holds_needle(phone: &Device) -> bool {
    let has = |bytes: &[u8]| bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE.as_bytes());
    if has(&std::fs::read(phone.state_path()).expect("state file")) {
        return true;
    }
    let file = StateFile::open(&phone.state_path()).expect("open state");
    let mut state = file.load().expect("load state");
    let engine = &mut state.engine;
    let ids: Vec<_> = [DocKind::Response, DocKind::Site, DocKind::Form]
        .into_iter()
        .flat_map(|kind| engine.document_ids(kind))
        .collect();
    ids.into_iter()
        .any(|id| has(&engine.document_mut(id).expect("doc").save_nocompress()))
}

fn enroll(server: &TestServer, code: &str, extra: &[&str]) -> Device {
    let phone = Device::new();
    let mut args = vec!["enroll", "--server", &server.url, "--code", code];
    args.extend_from_slice(extra);
    phone.run(&args).ok();
    phone
}

#[test]
fn a_live_device_deletes_what_the_server_confirmed_and_keeps_a_count() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 3);
    let phone = enroll(&server, &fixture.code, &[]);
    let finished = phone.answers_file("done.json", &answers(true));
    let draft = phone.answers_file("draft.json", &answers(false));
    for file in [&finished, &finished, &draft] {
        phone
            .run(&["collect", "--form", "contact-log", "--answers", file])
            .ok();
    }
    assert!(
        state_holds_needle(&phone),
        "the answers are on the device before they go"
    );
    let ids: Vec<String> = phone
        .run(&["responses"])
        .ok()
        .stdout
        .lines()
        .filter(|l| l.ends_with("submitted"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2);

    let run = phone.run(&["sync"]).ok();
    assert!(
        run.stdout
            .contains("2 submitted responses the server confirmed were deleted"),
        "{run:#?}"
    );
    let status = phone.status();
    assert_eq!(status["responses"], 1, "the draft stays: {status}");
    assert_eq!(status["sent_and_deleted"], 2, "{status}");
    assert_eq!(status["delete_after_send"], true);
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 3);
    // The draft still holds the needle; finish it elsewhere to look at the sent ones only.
    let listed = phone.run(&["responses"]).ok().stdout;
    assert!(listed.contains("2 sent and deleted"), "{listed}");
    assert!(ids.iter().all(|id| !listed.contains(id.as_str())), "{listed}");

    // Withdrawn after its content left: the id is enough for the server.
    let run = phone.run(&["withdraw", "--response", &ids[0]]).ok();
    assert!(run.stdout.contains("from the server"), "{run:#?}");
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 2);
    assert_eq!(phone.status()["sent_and_deleted"], 1);
}

#[test]
fn no_content_of_a_confirmed_response_is_left_in_the_state_file() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 2);
    let finished = answers(true);
    let deleting = enroll(&server, &fixture.code, &[]);
    let keeping = enroll(&server, &fixture.code, &["--keep-sent"]);
    for phone in [&deleting, &keeping] {
        let file = phone.answers_file("done.json", &finished);
        phone
            .run(&["collect", "--form", "contact-log", "--answers", &file])
            .ok();
        phone.run(&["sync"]).ok();
    }
    // The search can find it: the device that keeps what it sent holds the needle.
    assert!(state_holds_needle(&keeping));
    assert!(!state_holds_needle(&deleting));

    // Turned on later, the setting deletes what was sent at once; off keeps what comes next.
    let run = keeping.run(&["delete-after-send", "on"]).ok();
    assert!(run.stdout.contains("1 already sent were deleted now"), "{run:#?}");
    assert!(!state_holds_needle(&keeping));
    keeping.run(&["delete-after-send", "off"]).ok();
    let file = keeping.answers_file("again.json", &finished);
    keeping
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    keeping.run(&["sync"]).ok();
    assert!(state_holds_needle(&keeping));
    assert_eq!(keeping.status()["responses"], 1);

    keeping
        .run(&["delete-after-send", "maybe"])
        .fails(2, "invalid value");
}

#[test]
fn a_demo_device_keeps_what_it_sent() {
    let server = TestServer::start();
    let fixture = server.fixture_in("demo", FORM, 1);
    let trainee = enroll(&server, &fixture.code, &[]);
    let file = trainee.answers_file("done.json", &answers(true));
    trainee
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    trainee.run(&["sync"]).ok();
    let status = trainee.status();
    assert_eq!(status["delete_after_send"], false, "{status}");
    assert_eq!(status["responses"], 1, "{status}");
    assert_eq!(status["sent_and_deleted"], 0);
}
