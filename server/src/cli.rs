//! The command line (see `server/README.md`): `serve`, `token create|list|revoke`, `migrate`,
//! `demo reset`, `form import`, `tallies`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::enroll_attempts::EnrollAttempts;
use crate::settings::{DEFAULT_MAX_BODY_BYTES, DEFAULT_QUARANTINE_DAYS, RetentionSettings, SyncSettings};
use crate::state::AppState;
use crate::storage::{self, AuditEntry, Role};
use crate::{demo, forms, token_expiry, tokens};

pub const DEFAULT_DATABASE: &str = "sqlite://data/survey.db";

#[derive(Parser, Debug)]
#[command(name = "survey-server", version, about = "Offline-first survey server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API.
    Serve(ServeArgs),
    /// Manage tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Bring the database schema up to date, then exit.
    Migrate(DatabaseArg),
    /// Manage demo datasets.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Manage forms.
    #[command(subcommand)]
    Form(FormCommand),
    /// Print each site's exact tallies (what the analysts' tallies route perturbs), one JSON
    /// object per line; or check them against what a load test's phones added.
    Tallies(TalliesArgs),
}

#[derive(Args, Debug)]
pub struct TalliesArgs {
    #[arg(long, required_unless_present = "check")]
    pub dataset: Option<Uuid>,
    /// A `survey loadtest --json` report (its last line is read): exit 1 unless every site of
    /// its dataset counts exactly what its phones added.
    #[arg(long)]
    pub check: Option<PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArg,
}

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// Reset a demo dataset to a seeded state (same seed and size, same data).
    Reset {
        #[arg(long)]
        dataset: Uuid,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 2_000)]
        responses: u64,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum FormCommand {
    /// Publish an XLSForm workbook (.xlsx) as a new form version, and print what the import
    /// dropped; a refused workbook prints every problem with its sheet and row.
    Import {
        #[arg(long)]
        dataset: Uuid,
        /// Where the form is used, comma-separated; else the settings sheet's `areas` column.
        #[arg(long, value_delimiter = ',')]
        areas: Vec<String>,
        /// Used when the settings sheet has no `form_id` [default: the file's name].
        #[arg(long)]
        form_id: Option<String>,
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Args, Debug)]
pub struct DatabaseArg {
    /// `sqlite://path` (created if missing) or `postgres://…`.
    #[arg(long, env = "SURVEY_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub database: String,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[arg(long, env = "SURVEY_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArg,
    /// Make sure a demo dataset exists and print credentials to try it with.
    #[arg(long)]
    pub demo: bool,
    /// Largest sync request body accepted, in bytes.
    #[arg(long, env = "SURVEY_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Whole days a refused document's quarantine record is kept after the day it came in;
    /// a background task deletes it after that.
    #[arg(
        long,
        env = "SURVEY_QUARANTINE_RETENTION_DAYS",
        default_value_t = DEFAULT_QUARANTINE_DAYS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub quarantine_retention_days: u32,
    /// The field app's folder (`clients/web` with `pkg/` from `scripts/build-wasm`), served at
    /// `/`. Defaults to the source tree this binary was built from.
    #[arg(long, env = "SURVEY_WEB_ROOT")]
    pub web_root: Option<PathBuf>,
    /// Where `/metrics` is served, apart from the API: request counts by hour tell when teams
    /// are out, so keep it on loopback or a private network. `off` serves none.
    #[arg(long, env = "SURVEY_METRICS_ADDR", default_value = "127.0.0.1:9464")]
    pub metrics_addr: MetricsAddr,
    /// Wrong enrollment codes accepted per minute (and at once), per process; past that,
    /// `POST /v1/enroll` answers 429. Right codes never count.
    #[arg(
        long,
        env = "SURVEY_ENROLL_ATTEMPTS_PER_MINUTE",
        default_value_t = crate::enroll_attempts::DEFAULT_PER_MINUTE,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub enroll_attempts_per_minute: u32,
}

/// `--metrics-addr`: an address, or `off`.
#[derive(Clone, Copy, Debug)]
pub struct MetricsAddr(pub Option<SocketAddr>);

impl std::str::FromStr for MetricsAddr {
    type Err = std::net::AddrParseError;

    fn from_str(text: &str) -> Result<MetricsAddr, Self::Err> {
        if text == "off" {
            Ok(MetricsAddr(None))
        } else {
            text.parse().map(|addr| MetricsAddr(Some(addr)))
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it (alone, on stdout).
    Create {
        #[arg(long, value_enum)]
        role: IssuableRole,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Limit the token to one dataset.
        #[arg(long)]
        dataset: Option<Uuid>,
        /// Days the token works [default: 30].
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=i64::from(token_expiry::MAX_DAYS)))]
        expires_in: Option<u32>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List every token (never its secret): id, role, name, dataset, days made, expiring,
    /// revoked and last used.
    List {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Revoke a token at once (its id from `token list`).
    Revoke {
        #[arg(long)]
        id: Uuid,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

/// Roles a person can hold; device tokens come from enrollment only.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum IssuableRole {
    Admin,
    Analyst,
    Trainer,
    Supervisor,
}

impl From<IssuableRole> for Role {
    fn from(role: IssuableRole) -> Role {
        match role {
            IssuableRole::Admin => Role::Admin,
            IssuableRole::Analyst => Role::Analyst,
            IssuableRole::Trainer => Role::Trainer,
            IssuableRole::Supervisor => Role::Supervisor,
        }
    }
}

/// Runs a command. `serve` only prepares: it answers what the server should serve, and the crate
/// root ([`crate::run`]) hands that to the router, so the command line stays below the HTTP
/// layer.
pub async fn run(cli: Cli) -> anyhow::Result<Option<Serving>> {
    let done = match cli.command {
        Command::Serve(args) => return serve_command(args).await.map(Some),
        Command::Migrate(DatabaseArg { database }) => {
            storage::connect(&database).await?;
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::Demo(DemoCommand::Reset {
            dataset,
            seed,
            responses,
            database,
        }) => demo_reset_command(&database.database, dataset, seed, responses).await,
        Command::Form(command) => form_command(command).await,
        Command::Tallies(args) => tallies_command(args).await,
        Command::Token(command) => token_command(command).await,
    };
    done.map(|()| None)
}

/// What `serve` prepared: the bound listeners (their addresses already printed) and the state.
pub struct Serving {
    pub listener: TcpListener,
    pub metrics: Option<TcpListener>,
    pub state: AppState,
}

/// What the command line does is logged as done by "command line", as an admin.
fn command_line(action: String, dataset: Option<Uuid>) -> AuditEntry {
    AuditEntry {
        actor_name: "command line".into(),
        actor_role: "admin".into(),
        action,
        dataset,
    }
}

async fn token_command(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            role,
            name,
            dataset,
            expires_in,
            database,
        } => {
            let storage = storage::connect(&database.database).await?;
            let role = Role::from(role);
            let audit = command_line(format!("create_token:{}", role.as_str()), dataset);
            let (token, _) =
                tokens::issue_token(storage.as_ref(), role, &name, dataset, expires_in, &audit).await?;
            println!("{}", token.expose());
        }
        TokenCommand::List { database } => {
            let storage = storage::connect(&database.database).await?;
            println!("id\trole\tname\tdataset\tcreated\texpires\trevoked\tlast used");
            for token in storage.tokens(None).await? {
                let or_dash = |day: Option<String>| day.unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    token.id,
                    token.role.as_str(),
                    token.name,
                    token.dataset.map_or_else(|| "-".into(), |d| d.to_string()),
                    token.created_on,
                    token.expires_on,
                    or_dash(token.revoked_on),
                    or_dash(token.last_used_on),
                );
            }
        }
        TokenCommand::Revoke { id, database } => {
            let storage = storage::connect(&database.database).await?;
            let token = storage
                .token_by_id(id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no token {id}"))?;
            let audit = command_line(format!("revoke_token:{}", token.role.as_str()), token.dataset);
            storage.revoke_token(id, crate::clock::today(), &audit).await?;
            println!("revoked token {id} ({}, {:?})", token.role.as_str(), token.name);
        }
    }
    Ok(())
}

async fn form_command(command: FormCommand) -> anyhow::Result<()> {
    let FormCommand::Import {
        dataset,
        areas,
        form_id,
        file,
        database,
    } = command;
    let size = std::fs::metadata(&file)?.len();
    if size > crate::xlsform::MAX_WORKBOOK_BYTES as u64 {
        anyhow::bail!(
            "{} is {size} bytes; a workbook may have {} at most",
            file.display(),
            crate::xlsform::MAX_WORKBOOK_BYTES
        );
    }
    let bytes = std::fs::read(&file)?;
    let defaults = crate::xlsform::Defaults {
        form_id: form_id.or_else(|| {
            let stem = file.file_stem()?.to_str()?.to_lowercase();
            sync_core::check_identifier("form id", &stem).ok().map(|()| stem)
        }),
        areas,
    };
    let imported = match crate::xlsform::convert(&bytes, &defaults) {
        Ok(imported) => imported,
        Err(refusal) => {
            for problem in refusal.problems() {
                let row = problem.row.map_or_else(String::new, |r| format!(" row {r}"));
                let column = problem
                    .column
                    .as_ref()
                    .map_or_else(String::new, |c| format!(" column {c}"));
                eprintln!(
                    "{}{row}{column}: {} ({})",
                    problem.sheet, problem.message, problem.code
                );
            }
            anyhow::bail!("{} was not imported: {refusal}", file.display());
        }
    };
    let storage = storage::connect(&database.database).await?;
    storage
        .existing_dataset(dataset)
        .await
        .map_err(|_| anyhow::anyhow!("there is no dataset {dataset}"))?;
    let definition = serde_json::to_value(&imported.form)?;
    let audit = command_line("publish_form".into(), Some(dataset));
    let form = forms::publish_definition(storage.as_ref(), dataset, &definition, &audit).await?;
    println!(
        "published form {} version {}: {} questions in {} sections",
        form.id,
        form.version,
        form.questions.len(),
        form.sections.len()
    );
    for dropped in &imported.report.dropped {
        println!(
            "dropped {} row {}: {} {:?}: {}",
            dropped.sheet, dropped.row, dropped.kind, dropped.name, dropped.reason
        );
    }
    for note in &imported.report.notes {
        let row = note.row.map_or_else(String::new, |r| format!(" row {r}"));
        let column = note
            .column
            .as_ref()
            .map_or_else(String::new, |c| format!(" column {c}"));
        println!("note {}{row}{column}: {}", note.sheet, note.message);
    }
    Ok(())
}

async fn tallies_command(args: TalliesArgs) -> anyhow::Result<()> {
    let storage = storage::connect(&args.database.database).await?;
    let Some(report) = args.check else {
        let dataset = args
            .dataset
            .ok_or_else(|| anyhow::anyhow!("--dataset or --check"))?;
        for site in crate::site_totals::site_totals(storage.as_ref(), dataset).await? {
            println!("{}", serde_json::to_string(&site)?);
        }
        return Ok(());
    };
    let text = std::fs::read_to_string(&report)?;
    let last = text.lines().last().unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(last).map_err(|e| {
        anyhow::anyhow!(
            "{} does not end with a load test's JSON report: {e}",
            report.display()
        )
    })?;
    let dataset: Uuid = report["dataset"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the report names no dataset"))?;
    let expected = &report["expected_tallies"];
    // Both what replies and analysts' totals read (the running sums) and what the tallies
    // route perturbs (the growth per day) must add up to what the phones added.
    let sums: Vec<_> = crate::site_totals::site_totals(storage.as_ref(), dataset)
        .await?
        .into_iter()
        .map(|site| (site.site, site.tallies))
        .collect();
    let mut by_day: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for count in crate::tallies::source::site_counts(storage.as_ref(), dataset).await? {
        *by_day
            .entry(count.site)
            .or_default()
            .entry(count.metric)
            .or_default() += count.amount;
    }
    for (what, counted) in [("running sums", sums), ("days", by_day.into_iter().collect())] {
        check_tallies(what, expected, &counted)?;
    }
    Ok(())
}

fn check_tallies(
    what: &str,
    expected: &serde_json::Value,
    counted: &[(String, BTreeMap<String, i64>)],
) -> anyhow::Result<()> {
    let named = expected.as_object().map_or(0, serde_json::Map::len);
    let mut sites = 0;
    for (site, tallies) in counted {
        let Some(want) = expected[site].as_object() else {
            continue;
        };
        for (metric, want) in want {
            let want = want.as_i64().unwrap_or(0);
            let total = tallies.get(metric).copied().unwrap_or(0);
            if total != want {
                anyhow::bail!(
                    "site {site:?} tally {metric:?}: the {what} say {total}, the phones added {want}"
                );
            }
        }
        sites += 1;
    }
    if sites != named {
        anyhow::bail!("{named} sites in the report, {sites} of them in the {what}");
    }
    println!("site tallies ({what}): exact at all {sites} sites");
    Ok(())
}

async fn demo_reset_command(database: &str, dataset: Uuid, seed: u64, responses: u64) -> anyhow::Result<()> {
    let state = AppState::new(storage::connect(database).await?, SyncSettings::default());
    let target = state
        .storage
        .dataset(dataset)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no dataset {dataset}"))?;
    let audit = command_line("reset".into(), Some(dataset));
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = std::time::Instant::now();
    let bar = tokio::spawn(demo::reset::show_progress(progress.clone(), responses));
    let outcome = demo::reset::reset_with_seed(&state, &target, seed, responses, &audit, progress).await;
    bar.abort();
    // Dropped with its task; the bar leaves the cursor on the next line.
    let _ = bar.await;
    let (epoch, written) = outcome?;
    println!(
        "dataset {dataset}: epoch {epoch}, {written} responses in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn serve_command(args: ServeArgs) -> anyhow::Result<Serving> {
    let storage = storage::connect(&args.database.database).await?;
    let settings = SyncSettings {
        max_body_bytes: args.max_body_bytes,
        ..SyncSettings::default()
    };
    let mut state = AppState::new(storage, settings);
    state.retention = RetentionSettings {
        quarantine_days: args.quarantine_retention_days,
        ..RetentionSettings::default()
    };
    if let Some(root) = args.web_root {
        state.web_root = Arc::new(root);
    }
    state.enroll_attempts = Arc::new(EnrollAttempts::per_minute(args.enroll_attempts_per_minute));
    if !state.web_root.join("pkg/survey_wasm_bg.wasm").exists() {
        tracing::warn!(
            web_root = %state.web_root.display(),
            "the field app's engine is not built: run scripts/build-wasm to serve the app at /"
        );
    }
    if args.demo {
        let access = demo::ensure_demo(&state).await?;
        println!(
            "demo dataset:    {} (epoch {})",
            access.dataset.id, access.dataset.epoch
        );
        println!("admin token:     {}", access.admin_token);
        println!("trainer token:   {}", access.trainer_token);
        println!("enrollment code: {}", access.enrollment_code);
    }
    let metrics = match args.metrics_addr.0 {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!("cannot serve metrics on {addr} ({e}): choose another --metrics-addr, or off")
            })?;
            println!("metrics on http://{}/metrics", listener.local_addr()?);
            Some(listener)
        }
        None => None,
    };
    let listener = TcpListener::bind(args.addr).await?;
    // On stdout, not in the log: tools (and the crash test) read the port from here.
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    Ok(Serving {
        listener,
        metrics,
        state,
    })
}

/// Completes on Ctrl-C or SIGTERM: `serve` then finishes the requests in flight and stops.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_served_on_loopback_unless_told_otherwise() {
        let cli = Cli::try_parse_from(["survey-server", "serve"]).expect("defaults");
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        let addr = args.metrics_addr.0.expect("on by default");
        assert!(addr.ip().is_loopback(), "{addr}");
        for (given, expected) in [("off", None), ("127.0.0.2:9000", Some("127.0.0.2:9000"))] {
            let cli =
                Cli::try_parse_from(["survey-server", "serve", "--metrics-addr", given]).expect("parses");
            let Command::Serve(args) = cli.command else {
                panic!("not serve")
            };
            assert_eq!(args.metrics_addr.0.map(|a| a.to_string()).as_deref(), expected);
        }
        for bad in ["", "nonsense", "127.0.0.1", "on"] {
            assert!(
                Cli::try_parse_from(["survey-server", "serve", "--metrics-addr", bad]).is_err(),
                "{bad}"
            );
        }
        for bad in ["0", "-1", "many"] {
            let args = ["survey-server", "serve", "--enroll-attempts-per-minute", bad];
            assert!(Cli::try_parse_from(args).is_err(), "{bad}");
        }
    }
}
