//! The survey platform's server: the sync endpoints, the admin API and the command line,
//! over SQLite (default) or PostgreSQL.
//!
//! Layout: [`router`] holds the route table and middleware; `handlers` the JSON endpoints by
//! resource; [`sync`] the sync endpoint (authorize, merge through sync-core, validate, store
//! with materialized rows in one transaction); [`storage`] the one storage trait and its two
//! backends; [`auth`] the token extractors; [`telemetry`] the privacy-preserving request log.
//!
//! Anonymity is a safety property here: no log line, metric label or table holds an IP address,
//! a token or an answer's free text, and every secret is stored as a hash.
#![forbid(unsafe_code)]

pub mod aggregates;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod disclosure;
pub mod enroll_attempts;
mod error;
mod extract;
pub mod handlers;
pub mod metrics;
pub mod openapi;
pub mod pause_points;
pub mod qr;
pub mod retention;
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
pub mod usage;
pub mod xlsform;

pub use error::{ApiError, Result};
pub use router::app;
pub use settings::{RetentionSettings, SyncSettings};
pub use state::AppState;
