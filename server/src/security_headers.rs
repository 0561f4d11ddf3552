//! Headers every response carries, pages, scripts, JSON and CSV alike, set here once rather
//! than by each handler, so no route (an error, a file, a route added later) goes without.
//!
//! The field app and the dashboard are used to collect and read data about people who may be
//! in danger: a page must not be framed by another site (clickjacking a phone into sending or
//! resetting), run script from anywhere but this server, leak its address (dataset ids in
//! paths) to another origin, or have a file sniffed into something it is not.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use tower_http::set_header::SetResponseHeaderLayer;

/// Everything from this origin only. `'wasm-unsafe-eval'` lets the field app compile its
/// engine (WebAssembly), and nothing else that evaluates code. No inline script or style
/// anywhere: the pages load theirs from files. `base-uri` and `form-action` do not fall back
/// to `default-src`, so they are named; `object-src 'none'`: no plug-ins at all.
const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HEADERS: [(HeaderName, &str); 4] = [
    (CONTENT_SECURITY_POLICY, POLICY),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (REFERRER_POLICY, "no-referrer"),
    // For browsers that predate `frame-ancestors`.
    (X_FRAME_OPTIONS, "DENY"),
];

/// `router` with the headers on every response, replacing any a handler set.
pub fn add<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    HEADERS.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ))
    })
}
