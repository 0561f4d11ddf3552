//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "survey",
    version,
    about = "Field client of the survey platform: collect offline, sync when back in coverage",
    after_help = "Exit codes: 0 done, 1 refused or failed, 2 bad arguments, 3 server unreachable \
                  (try again later), 4 load test lost or duplicated data."
)]
pub struct Cli {
    /// The device's state file [default: $XDG_DATA_HOME/survey/state or
    /// ~/.local/share/survey/state].
    #[arg(long, global = true, env = "SURVEY_STATE")]
    pub state: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Enroll this device with a code from your coordinator, then fetch the forms.
    Enroll {
        /// The server, e.g. https://survey.example.org
        #[arg(long)]
        server: String,
        /// The enrollment code.
        #[arg(long)]
        code: String,
        /// Keep responses on this device after the server confirmed them (the default in a
        /// demo dataset; in a live one they are deleted, and only their count is kept).
        #[arg(long)]
        keep_sent: bool,
    },
    /// After this device's sign-in expired: enroll it again with a new code, keeping every
    /// document on it, sent or not.
    Renew {
        /// The new enrollment code.
        #[arg(long)]
        code: String,
    },
    /// List the forms on this device, or print one form's questions.
    Forms {
        /// Print this form as JSON (question ids, types, options) to write answers against.
        #[arg(long)]
        form: Option<String>,
    },
    /// Save one response to a form, from a JSON answers file.
    Collect {
        /// The form id.
        #[arg(long)]
        form: String,
        /// `{ "area": "...", "collected_on": "YYYY-MM-DD", "answers": { ... }, "submit": true }`;
        /// `-` reads standard input.
        #[arg(long)]
        answers: PathBuf,
    },
    /// Change a saved response (e.g. submit a draft) from a JSON file of edits.
    Edit {
        /// The response id `survey collect` printed (see `survey responses`).
        #[arg(long)]
        response: uuid::Uuid,
        /// Only what changes: `{ "answers": { ... }, "cleared": ["q"], "submit": true }`;
        /// `-` reads standard input.
        #[arg(long)]
        answers: PathBuf,
    },
    /// Withdraw a response (the respondent took their answers back, or it was a mistake):
    /// deleted from this device at once, and from the server at once or at the next sync.
    Withdraw {
        /// The response id (see `survey responses`).
        #[arg(long)]
        response: uuid::Uuid,
    },
    /// List the responses on this device: form, area, day, draft or submitted.
    Responses,
    /// Delete each submitted response from this device once the server confirmed it (`on`,
    /// the default in a live dataset), or keep it (`off`). Turning it on deletes at once what
    /// was sent; turning it off brings nothing back.
    DeleteAfterSend {
        #[arg(value_enum)]
        setting: OnOff,
    },
    /// Add to one of a site's tallies (e.g. contacts made, kits handed out).
    Tally {
        /// The site code.
        #[arg(long)]
        site: String,
        /// The tally, e.g. contacts, kits, leaflets, referrals, hotline_cards.
        #[arg(long)]
        metric: String,
        /// How much to add (negative to correct a miscount).
        #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
        by: i64,
    },
    /// Outreach sites and their tallies.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Send what was collected and fetch forms and site tallies.
    Sync,
    /// Show the dataset, what waits to be synced, the last sync and any refusals.
    Status {
        /// Print as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Load-test a server as many phones at once, then check that nothing was lost.
    Loadtest(LoadtestArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Subcommand, Debug)]
pub enum SiteCommand {
    /// Add a new outreach site, with the standard tallies at zero.
    Add {
        /// A short code: lowercase letters, digits, '_' or '-'.
        code: String,
        /// A descriptive name (no personal details).
        #[arg(long)]
        name: String,
    },
    /// List the sites on this device with their tallies.
    List,
}

#[derive(Args, Debug, Clone)]
pub struct LoadtestArgs {
    #[arg(long)]
    pub server: String,
    /// An admin token (`survey-server token create --role admin`).
    #[arg(long, env = "SURVEY_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: String,
    /// Simulated phones.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub devices: u32,
    /// Responses each phone collects offline, over all days.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub responses: u32,
    /// Site tally increments each phone makes, over all days.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub site_bumps: u32,
    /// Days of fieldwork: each phone syncs once a day, its responses and bumps spread over the
    /// days, so the figures show what an older campaign costs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3_650))]
    pub days: u32,
    /// Phones syncing at the same moment.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1_024))]
    pub concurrency: u32,
    /// The server's process id, to report its peak memory and its CPU per response (Linux).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Seed of the generated answers.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sync protocol the phones speak (2 sends far-behind phones busy sites saved whole; 3
    /// counts tallies in each phone's own documents and sends totals).
    #[arg(long, default_value_t = sync_core::PROTOCOL_VERSION, value_parser = clap::value_parser!(u64).range(1..=3))]
    pub protocol: u64,
    /// Print one JSON object with the figures on the last line.
    #[arg(long)]
    pub json: bool,
}
