//! The survey platform's server: the sync endpoints, the admin API and the command line,
//! over SQLite (default) or PostgreSQL.
//!
//! Layout, from the edge in: [`cli`] is the binary's commands, `serve` among them; [`router`]
//! holds the route table and middleware; [`handlers`] the HTTP endpoints by resource, each
//! parsing, authorizing, calling a domain module and shaping the answer. The domain modules
//! know nothing of HTTP: [`datasets`], [`forms`], [`enrollment`], [`tokens`], [`reviews`], [`demo`],
//! [`sync`] (authorize, merge through sync-core, validate, store with materialized rows in one
//! transaction), [`aggregates`] and [`tallies`]. Under them, [`storage`] is the one storage
//! trait and its two backends. [`auth`] holds the token extractors; [`telemetry`] the
//! privacy-preserving request log. Imports only point inward: nothing below the handlers
//! reaches the router or a handler.
//!
//! Anonymity is a safety property here: no log line, metric label or table holds an IP address,
//! a token or an answer's free text, and every secret is stored as a hash.
#![forbid(unsafe_code)]

pub mod aggregates;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod datasets;
pub mod demo;
pub mod disclosure;
pub mod enroll_attempts;
pub mod enrollment;
mod error;
mod extract;
pub mod forms;
pub mod handlers;
pub mod labels;
pub mod metrics;
pub mod pause_points;
pub mod qr;
pub mod retention;
pub mod reviews;
pub mod router;
pub mod secret;
mod security_headers;
pub mod settings;
pub mod site_totals;
pub mod state;
pub mod storage;
pub mod sync;
pub mod tallies;
pub mod telemetry;
pub mod token_expiry;
pub mod tokens;
pub mod usage;
pub mod xlsform;

pub use error::{ApiError, Result};

/// The binary's entry: runs the command, and for `serve` hands what the command line prepared
/// to the router. Here, at the crate root, so that nothing below the HTTP layer reaches it.
pub async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    if let Some(serving) = cli::run(cli).await? {
        router::serve(
            serving.listener,
            serving.metrics,
            serving.state,
            cli::shutdown_signal(),
        )
        .await?;
        tracing::info!("stopped");
    }
    Ok(())
}
pub use router::app;
pub use settings::{RetentionSettings, SyncSettings};
pub use state::AppState;
