//! A small `survey loadtest` run must verify every response and tally end to end.

use crate::support::{Device, TestServer};

#[test]
fn a_small_load_test_verifies_exactly_once() {
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
            "4",
            "--concurrency",
            "3",
            "--server-pid",
            &pid,
            "--json",
        ])
        .ok();
    let last = run.stdout.lines().last().expect("output");
    let figures: serde_json::Value = serde_json::from_str(last).expect("JSON on the last line");
    assert_eq!(figures["responses_verified"], 12, "{run:#?}");
    assert_eq!(figures["tallies_verified"], true, "{run:#?}");
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
