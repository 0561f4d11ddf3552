//! The `survey-bench-ingest` binary, built again inside this package for the end-to-end suite
//! (see Cargo.toml): identical `main`, so the suite runs the real benchmark.

use clap::Parser;
use survey_bench_ingest::{BenchIngestArgs, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = BenchIngestArgs::parse();
    survey_server::telemetry::init();
    run(args).await
}
