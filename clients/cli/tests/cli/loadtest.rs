//! A small `survey loadtest` run must verify every response and tally end to end.

use crate::support::{Device, TestServer};

#[test]
fn a_small_load_test_verifies_exactly_once_over_every_protocol() {
    let server = TestServer::start();
    let pid = std::process::id().to_string();
    for protocol in ["1", "2", "3"] {
        let run = Device::new()
            .run(&[
                "loadtest",
                "--server",
                &server.url,
                "--admin-token",
                &server.admin_token,
                "--devices",
                "4",
                "--responses",
                "3",
                "--site-bumps",
                "4",
                "--concurrency",
                "3",
                "--server-pid",
                &pid,
                "--protocol",
                protocol,
                "--json",
            ])
            .ok();
        check_figures(&run.stdout, protocol);
        assert!(
            !run.stderr.contains("phones,"),
            "no progress bar where stderr is not a terminal: {}",
            run.stderr
        );
    }
}

/// Responses and bumps spread over days, each ending with every phone's sync: still each
/// response once and every tally exact on every phone.
#[test]
fn a_load_test_over_days_verifies_every_phone() {
    let server = TestServer::start();
    let pid = std::process::id().to_string();
    let run = Device::new()
        .run(&[
            "loadtest",
            "--server",
            &server.url,
            "--admin-token",
            &server.admin_token,
            "--devices",
            "4",
            "--responses",
            "3",
            "--site-bumps",
            "5",
            "--days",
            "4",
            "--concurrency",
            "2",
            "--server-pid",
            &pid,
            "--json",
        ])
        .ok();
    check_figures(&run.stdout, "3");
    let figures: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().expect("output")).expect("JSON");
    assert_eq!(figures["days"], 4);
    assert!(
        figures["sync_rounds"].as_u64().is_some_and(|n| n >= 16),
        "a sync a day each"
    );
}

fn check_figures(stdout: &str, protocol: &str) {
    let last = stdout.lines().last().expect("output");
    let figures: serde_json::Value = serde_json::from_str(last).expect("JSON on the last line");
    assert_eq!(figures["protocol"].to_string(), protocol, "{last}");
    assert_eq!(figures["responses_verified"], 12, "{last}");
    assert_eq!(figures["tallies_verified"], true, "{last}");
    for key in [
        "responses_per_s",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "request_bytes_per_response",
        "response_bytes_per_response",
        "server_peak_rss_mb",
    ] {
        assert!(figures[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {last}");
    }
    // A run this small may spend less than the clock's 10 ms tick.
    for key in ["server_cpu_ms_per_response", "phones_cpu_ms_per_response"] {
        assert!(figures[key].as_f64().is_some_and(|v| v >= 0.0), "{key}: {last}");
    }
}

#[test]
fn a_load_test_without_admin_rights_stops_with_the_reason() {
    let server = TestServer::start();
    Device::new()
        .run(&[
            "loadtest",
            "--server",
            &server.url,
            "--admin-token",
            "not-a-token",
            "--devices",
            "2",
            "--responses",
            "3",
        ])
        .fails(1, "401 unauthorized");
}

#[test]
fn a_protocol_this_client_does_not_speak_is_a_usage_error() {
    for bad in ["0", "4", "two"] {
        Device::new()
            .run(&[
                "loadtest",
                "--server",
                "http://127.0.0.1:9",
                "--admin-token",
                "t",
                "--protocol",
                bad,
            ])
            .fails(2, "--protocol");
    }
}
