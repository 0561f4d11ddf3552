//! Logging. Logs may be read by people who must not learn who synced from where, so request
//! logs carry the route template, status and duration only: never an address, a header, a
//! token, an id from the path or a payload.

use std::io::IsTerminal as _;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing_subscriber::EnvFilter;

use crate::router::AppState;

/// Logs to stderr, filtered by `RUST_LOG` (default: info, with sqlx's statement logging off).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Middleware: one log line and one latency observation per request.
pub async fn log_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    state.metrics.observe_request(&route, took);
    tracing::info!(
        %method,
        %route,
        status = response.status().as_u16(),
        duration_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
