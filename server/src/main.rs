use clap::Parser;
use survey_server::cli::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    survey_server::telemetry::init();
    survey_server::run(cli).await
}
