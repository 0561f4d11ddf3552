//! Every way a command can fail says so in plain words, exits non-zero, and leaves what was
//! already collected in place.

use std::fs;

use crate::end_to_end::{FORM, GOOD_ANSWERS, enrolled};
use crate::support::{Device, TestServer};

/// A phone with one response collected and not yet synced.
fn phone_with_one_response(server: &TestServer, code: &str) -> Device {
    let phone = enrolled(server, code);
    let file = phone.answers_file("a.json", GOOD_ANSWERS);
    phone
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    phone
}

#[track_caller]
fn still_holds(phone: &Device, responses: u64, pending: u64) {
    let status = phone.status();
    assert_eq!(status["responses"], responses, "{status}");
    assert_eq!(status["pending"], pending, "{status}");
}

fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_bad_code_is_refused_and_enrolls_nothing() {
    let server = TestServer::start();
    let _fixture = server.fixture(FORM, 1);
    let phone = Device::new();
    phone
        .run(&["enroll", "--server", &server.url, "--code", "ABCD-EFGH-IJKL-MNOP"])
        .fails(1, "the enrollment code was not accepted");
    assert!(!phone.state_path().exists());
    phone.run(&["status"]).fails(1, "not enrolled yet");
}

#[test]
fn a_used_up_code_is_refused() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    enrolled(&server, &fixture.code);
    Device::new()
        .run(&["enroll", "--server", &server.url, "--code", &fixture.code])
        .fails(1, "unknown, used up or expired");
}

#[test]
fn enrolling_again_never_replaces_a_state_file() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 3);
    let phone = phone_with_one_response(&server, &fixture.code);
    let before = fs::read(phone.state_path()).expect("state");
    phone
        .run(&["enroll", "--server", &server.url, "--code", &fixture.code])
        .fails(1, "already exists");
    assert_eq!(fs::read(phone.state_path()).expect("state"), before);
    // The code was not spent on the refused attempt: two more devices can still use it.
    enrolled(&server, &fixture.code);
}

#[test]
fn an_unreachable_server_is_reported_and_nothing_is_lost() {
    let phone = Device::new();
    phone
        .run(&["enroll", "--server", &closed_port_url(), "--code", "ABCD"])
        .fails(3, "cannot reach the server");
    assert!(!phone.state_path().exists());

    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    let phone = phone_with_one_response(&server, &fixture.code);
    drop(server);
    phone.run(&["sync"]).fails(3, "cannot reach the server");
    still_holds(&phone, 1, 1);
    let status = phone.status();
    assert!(
        status["last_sync_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot reach")),
        "{status}"
    );
}

#[test]
fn an_unknown_form_is_named() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    let phone = phone_with_one_response(&server, &fixture.code);
    let file = phone.answers_file("b.json", GOOD_ANSWERS);
    phone
        .run(&["collect", "--form", "no-such-form", "--answers", &file])
        .fails(1, "there is no form \"no-such-form\"");
    phone
        .run(&["forms", "--form", "no-such-form"])
        .fails(1, "there is no form");
    still_holds(&phone, 1, 1);
}

#[test]
fn answers_that_do_not_fit_show_the_reason() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    let phone = phone_with_one_response(&server, &fixture.code);
    let cases = [
        (
            r#"{ "area": "north", "collected_on": "2026-11-20", "answers": { "s1": 9 } }"#,
            "answer 9 to \"s1\" is outside 1..=5",
        ),
        (
            r#"{ "area": "north", "collected_on": "2026-11-20", "answers": { "gender": "q" } }"#,
            "question \"gender\" has no option \"q\"",
        ),
        (
            r#"{ "area": "north", "collected_on": "2026-11-20", "answers": { "age": 30 } }"#,
            "has no question \"age\"",
        ),
        (
            r#"{ "area": "moon", "collected_on": "2026-11-20", "answers": { "gender": "f" } }"#,
            "has no area \"moon\"",
        ),
        (
            r#"{ "area": "north", "collected_on": "2026-11-20", "answers": { "s1": 3 }, "submit": true }"#,
            "required question \"gender\" has no answer",
        ),
        (
            r#"{ "area": "north", "collected_on": "20 Nov", "answers": {} }"#,
            "is not a calendar day",
        ),
    ];
    for (i, (json, reason)) in cases.iter().enumerate() {
        let file = phone.answers_file(&format!("bad{i}.json"), json);
        let run = phone
            .run(&["collect", "--form", "contact-log", "--answers", &file])
            .fails(1, "do not fit form \"contact-log\"");
        assert!(run.stderr.contains(reason), "case {i}: {run:#?}");
    }
    let file = phone.answers_file("broken.json", "{ \"area\": ");
    phone
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .fails(1, "is not valid JSON");
    let missing = phone.folder().join("missing.json").display().to_string();
    phone
        .run(&["collect", "--form", "contact-log", "--answers", &missing])
        .fails(1, "cannot read the answers file");
    still_holds(&phone, 1, 1);
}

#[test]
fn a_damaged_state_file_is_reported_and_left_alone() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    let phone = phone_with_one_response(&server, &fixture.code);
    let path = phone.state_path();
    let good = fs::read(&path).expect("state");

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    for damaged in [
        flipped,
        good[..good.len() - 10].to_vec(),
        b"not a state file".to_vec(),
    ] {
        fs::write(&path, &damaged).expect("damage");
        phone.run(&["status"]).fails(1, "is damaged");
        let file = phone.answers_file("a2.json", GOOD_ANSWERS);
        phone
            .run(&["collect", "--form", "contact-log", "--answers", &file])
            .fails(1, "is damaged");
        phone.run(&["sync"]).fails(1, "left exactly as it is");
        assert_eq!(
            fs::read(&path).expect("state"),
            damaged,
            "a damaged file is never rewritten"
        );
    }
    fs::write(&path, &good).expect("restore");
    still_holds(&phone, 1, 1);
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    let phone = Device::new();
    for args in [
        &["frobnicate"][..],
        &["collect", "--form", "contact-log"],
        &["tally", "--site", "market", "--metric", "kits", "--by", "lots"],
        &[
            "loadtest",
            "--server",
            "http://127.0.0.1:1",
            "--admin-token",
            "t",
            "--devices",
            "0",
        ],
        &[],
    ] {
        let run = phone.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:#?}");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {run:#?}");
        assert!(run.stderr.contains("--help"), "{args:?}: {run:#?}");
    }
    phone
        .run(&["enroll", "--server", "survey.example.org", "--code", "X"])
        .fails(2, "must start with http:// or https://");
}

#[test]
fn unknown_sites_and_tallies_are_named() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    let phone = phone_with_one_response(&server, &fixture.code);
    phone
        .run(&["tally", "--site", "nowhere", "--metric", "kits"])
        .fails(1, "there is no site \"nowhere\"");
    phone.run(&["site", "add", "market", "--name", "Market"]).ok();
    phone
        .run(&["site", "add", "market", "--name", "Market again"])
        .fails(1, "already exists");
    phone
        .run(&["tally", "--site", "market", "--metric", "hugs"])
        .fails(1, "has no tally \"hugs\"");
    phone
        .run(&["site", "add", "Bad Code!", "--name", "x"])
        .fails(1, "not a valid identifier");
    still_holds(&phone, 1, 2);
}

/// A `collect` killed after writing its new state beside the old one leaves the old state;
/// killed right after renaming it over the old one, the new state. Either loads, and the
/// device goes on collecting and syncing.
#[test]
fn a_command_killed_at_any_moment_leaves_a_loadable_state() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 1);
    let phone = phone_with_one_response(&server, &fixture.code);
    let file = phone.answers_file("more.json", GOOD_ANSWERS);
    let collect = ["collect", "--form", "contact-log", "--answers", &file];
    phone.kill_at(&collect, "state-written");
    still_holds(&phone, 1, 1);
    phone.kill_at(&collect, "state-replaced");
    still_holds(&phone, 2, 2);
    phone.run(&collect).ok();
    still_holds(&phone, 3, 3);
    phone.run(&["sync"]).ok();
    still_holds(&phone, 3, 0);
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 3);
}

#[test]
fn without_state_the_file_lives_under_xdg_data_home_or_home() {
    let folder = tempfile::tempdir().expect("temp dir");
    let run = |envs: &[(&str, &std::path::Path)]| {
        let mut command = std::process::Command::new(crate::support::survey::binary());
        command
            .arg("status")
            .env_remove("SURVEY_STATE")
            .env_remove("XDG_DATA_HOME");
        for (key, value) in envs {
            command.env(key, value);
        }
        let output = command.output().expect("survey runs");
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let xdg = folder.path().join("xdg");
    let said = run(&[("XDG_DATA_HOME", &xdg), ("HOME", folder.path())]);
    assert!(
        said.contains(&format!("{}/survey/state", xdg.display())),
        "{said}"
    );
    let said = run(&[("HOME", folder.path())]);
    let under_home = folder.path().join(".local/share/survey/state");
    assert!(said.contains(&under_home.display().to_string()), "{said}");
}
