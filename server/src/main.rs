use clap::Parser;
use survey_server::cli::{Cli, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    survey_server::telemetry::init();
    run(cli).await
}
