//! `survey-bench-ingest` runs the load test's workload in process and checks what it
//! measured: every response stored exactly once, every tally adding up.

use serde_json::Value;

use crate::on_both_backends;
use crate::support::process::run_bench_ingest;
use crate::support::{Backend, TestDb};

on_both_backends!(a_small_run_verifies_and_reports_json);

async fn a_small_run_verifies_and_reports_json(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let (ok, stdout, stderr) = run_bench_ingest(&[
        "--database",
        &db.url,
        "--devices",
        "4",
        "--responses",
        "3",
        "--site-bumps",
        "2",
        "--concurrency",
        "3",
        "--json",
    ]);
    assert!(ok, "bench-ingest failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(stdout.lines().last().expect("a JSON line")).expect("JSON");
    assert_eq!(report["responses_verified"], 12);
    assert_eq!(report["tallies_verified"], true);
    for key in ["responses_per_s", "p50_ms", "p95_ms", "p99_ms"] {
        assert!(report[key].as_f64().is_some_and(|v| v > 0.0), "{key} in {report}");
    }
    // The benchmark's own dataset is the only one in this database.
    let stored = "SELECT COUNT(*) FROM responses WHERE dataset <> $1";
    assert_eq!(db.count(stored, uuid::Uuid::nil()).await, 12);
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    for args in [
        &["--devices", "lots"][..],
        &["--concurrency", "0"],
        &["--devices", "1", "--responses", "1"],
        &["--database", "mysql://nowhere"],
    ] {
        let (ok, stdout, stderr) = run_bench_ingest(args);
        assert!(!ok, "{args:?} was accepted:\n{stdout}");
        assert!(!stderr.trim().is_empty(), "{args:?} failed without saying why");
        assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    }
}
