//! The `survey-server` binary, built again inside this package for the end-to-end suite (see
//! Cargo.toml): identical `main`, so the child processes the tests kill are the real server.

use clap::Parser;
use survey_server::cli::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    survey_server::telemetry::init();
    survey_server::run(cli).await
}
