//! Logging. Logs may be read by people who must not learn who synced from where, so request
//! logs carry the method, route template, status and duration only: never an address, a
//! header, a token, an id from the path, a query string or a payload.

use std::io::IsTerminal as _;
use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;
use tracing_subscriber::EnvFilter;

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

/// The request log: one line per request with the method, the route template (never the
/// path itself, which holds ids), the status and the latency. The client's address, the query
/// string, headers and bodies are never recorded.
pub fn request_log() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RouteSpan, (), LogResponse> {
    TraceLayer::new_for_http()
        .make_span_with(RouteSpan)
        .on_request(())
        .on_response(LogResponse)
}

/// The span of a request: its method and route template.
#[derive(Clone, Copy)]
pub struct RouteSpan;

impl<B> MakeSpan<B> for RouteSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        tracing::info_span!("request", method = %request.method(), route = %route)
    }
}

/// The line logged when the answer goes out.
#[derive(Clone, Copy)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, _: &Span) {
        tracing::info!(
            status = response.status().as_u16(),
            duration_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    }
}
