use std::process::ExitCode;

use clap::Parser;
use survey_cli::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match survey_cli::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
