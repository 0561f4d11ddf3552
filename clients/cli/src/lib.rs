//! The native field client of the survey platform (binary `survey`) and its load generator.
//!
//! A device's whole state - server, token, and the sync-core [`sync_core::ClientEngine`] with
//! every collected response - lives in one local file ([`state`]), replaced atomically after
//! each command, so collected data survives crashes and interrupted syncs. Everything about
//! documents (validation, scrubbing, CRDT merging, the sync protocol) is sync-core's; this
//! crate moves bytes ([`http`], [`sync`]) and talks to people ([`commands`]).
#![forbid(unsafe_code)]

pub mod admin;
pub mod cli;
pub mod commands;
mod error;
pub mod http;
pub mod loadtest;
pub mod pause_points;
pub mod state;
pub mod sync;

pub use error::{Error, Result};
