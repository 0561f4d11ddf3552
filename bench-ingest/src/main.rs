use clap::Parser;
use survey_bench_ingest::{BenchIngestArgs, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = BenchIngestArgs::parse();
    survey_server::telemetry::init();
    run(args).await
}
