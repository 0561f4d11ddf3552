//! The route table and the middleware stack.

use std::any::Any;
use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Extensions, HeaderMap, Response, StatusCode, Version};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

use crate::handlers::{
    aggregates, audit, datasets, devices, enrollments, field_app, form_versions, forms, ops, quarantine,
    query_log, responses, retention, reviews, sync, tallies, tokens,
};
use crate::state::AppState;
use crate::{ApiError, metrics, security_headers, telemetry, usage};

/// How long an API request may take, its body included. The admin and analyst calls answer in
/// milliseconds (a cross-tab of a million responses in about 10 ms); a minute leaves room for
/// a database under load, after which the client is better told to try again.
const API_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a sync request may take. Its body (up to `--max-body-bytes`, 8 MiB by default)
/// comes from a phone, often on a slow mobile link: 8 MiB at 128 kbit/s, about what EDGE gives
/// far from towns, takes nine minutes. A shorter limit would turn such a device's every
/// attempt into a timeout and keep its backlog from ever arriving.
const SYNC_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Answers below this many bytes are sent as they are: they fit in a packet or two either way.
const COMPRESS_ABOVE: u16 = 512;

/// A timeout for the routes added so far, answered as [`ApiError::TimedOut`] (503
/// `unavailable`, like a database too busy to lend a connection: the client tries again later).
macro_rules! time_limit {
    ($limit:expr) => {
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                ApiError::TimedOut
            }))
            .timeout($limit)
    };
}

pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(field_app::index))
        .route("/{file}", get(field_app::root_file))
        .route("/vendor/{file}", get(field_app::vendored))
        .route("/app/{file}", get(field_app::app_module))
        .route("/pkg/{file}", get(field_app::engine_file))
        .merge(crate::handlers::built_in_pages::routes())
        .route("/healthz", get(ops::healthz))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/datasets", post(datasets::create).get(datasets::list))
        .route("/v1/datasets/{id}", delete(datasets::purge))
        .route("/v1/datasets/{id}/forms", post(forms::publish).get(forms::list))
        .route("/v1/datasets/{id}/form-versions", get(form_versions::list))
        .route(
            "/v1/datasets/{id}/retention",
            get(retention::dry_run).put(retention::set),
        )
        .route("/v1/datasets/{id}/enrollments", post(enrollments::create))
        .route("/v1/datasets/{id}/aggregates", get(aggregates::aggregates))
        .route("/v1/datasets/{id}/tallies", get(tallies::tallies))
        .route("/v1/datasets/{id}/query-log", get(query_log::list))
        .route(
            "/v1/datasets/{id}/quarantine",
            get(quarantine::list).delete(quarantine::purge),
        )
        .route(
            "/v1/datasets/{id}/responses/{response}",
            delete(responses::withdraw),
        )
        .route(
            "/v1/datasets/{id}/responses/{response}/review",
            get(reviews::get).put(reviews::put),
        )
        .route("/v1/datasets/{id}/reviews", get(reviews::list))
        .route("/v1/datasets/{id}/devices", get(devices::list))
        .route("/v1/devices/{id}/revoke", post(devices::revoke))
        .route("/v1/enroll", post(enrollments::enroll))
        .route("/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/v1/tokens/{id}", delete(tokens::revoke))
        .route("/v1/audit", get(audit::list))
        .layer(time_limit!(API_TIMEOUT))
        .route("/v1/sync", post(sync::sync_v1))
        .route("/v2/sync", post(sync::sync_v2))
        .route("/v3/sync", post(sync::sync_v3))
        .layer(time_limit!(SYNC_TIMEOUT))
        // No time limit: a demo reset holds one transaction for as long as seeding takes
        // (minutes for a million responses, which `demo::reset::MAX_RESPONSES` bounds), and
        // cutting it off would only roll it back.
        .route("/v1/datasets/{id}/reset", post(datasets::reset))
        .fallback(|| async { ApiError::NotFound("route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(state.sync.max_body_bytes))
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(COMPRESS_ABOVE).and(json_or_csv)))
        // Inside the logger, so a panic still gets its log line (as a 500).
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::observe_requests,
        ))
        .layer(telemetry::request_log());
    // Outermost, so panics and every error get them too.
    security_headers::add(routes).with_state(state)
}

/// Serves the API on `listener` (and `/metrics` on `metrics`) until `shutdown` completes, then
/// lets in-flight requests finish: a sync that began commits (or not) as a whole, and its
/// device gets its answer. Meanwhile, in the background, expired quarantine records and
/// responses are purged and the days tokens were used are written.
pub async fn serve(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = [
        tokio::spawn(crate::retention::purge_periodically(
            state.storage.clone(),
            state.aggregates.clone(),
            state.clock.clone(),
            state.retention,
        )),
        tokio::spawn(usage::flush_periodically(
            state.usage.clone(),
            state.storage.clone(),
        )),
    ];
    let metrics = metrics.map(|listener| {
        let app = metrics_app(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await })
    });
    let served = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    for task in &background {
        task.abort();
    }
    if let Some(task) = metrics {
        task.abort();
    }
    if let Err(err) = state.usage.flush(state.storage.as_ref()).await {
        tracing::warn!(error = %err, "the days tokens were last used could not be written at shutdown");
    }
    served
}

/// `/metrics` alone, for the metrics listener (`serve --metrics-addr`, loopback by default):
/// request counts by route and the hours they come in tell when teams are out, so they are not
/// served to whoever can reach the API.
pub fn metrics_app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/metrics", get(ops::metrics))
        .fallback(|| async { ApiError::NotFound("route".into()) });
    security_headers::add(routes).with_state(state)
}

/// Gzip for JSON and CSV answers only: the field app's WebAssembly engine and the pages are
/// static files a proxy or the browser cache serves better, and CBOR sync replies are mostly
/// Automerge changes, compressed already.
fn json_or_csv(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json") || value.starts_with("text/csv"))
}

/// A bug must not take the connection down with it, nor tell the client more than "internal".
fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response<axum::body::Body> {
    ApiError::Internal("a handler panicked".into()).into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::body::Body;
    use axum::http::Request;
    use regex_lite::Regex;
    use tower::ServiceExt as _;

    use super::*;
    use crate::handlers::{built_in_pages, openapi};

    /// Every `(method, path)` the route table in [`app`] names, read from this file: axum
    /// cannot list a router's routes. The field app's files are not API, so not described.
    fn routes_of_app() -> BTreeSet<(String, String)> {
        let source = include_str!("router.rs");
        let start = source.find("pub fn app(").expect("fn app");
        let end = start + source[start..].find("\n}\n").expect("the end of fn app");
        let route = Regex::new(r#"\.route\(\s*"([^"]+)",\s*((?:\.?\s*[a-z]+\([^()]*\))+)"#).expect("regex");
        let method = Regex::new(r"([a-z]+)\(([^()]*)\)").expect("regex");
        let mut routes = BTreeSet::new();
        for found in route.captures_iter(&source[start..end]) {
            for call in method.captures_iter(&found[2]) {
                if !call[2].starts_with("field_app::") {
                    routes.insert((call[1].to_owned(), found[1].to_owned()));
                }
            }
        }
        routes.extend(built_in_pages::described().map(|(path, _)| ("get".to_owned(), path)));
        routes
    }

    /// A handler routed without its `#[utoipa::path]` in `openapi::ApiDoc`, or described at a
    /// path the router does not serve, fails this.
    #[test]
    fn the_openapi_document_lists_every_route_of_the_router_and_no_other() {
        let document = openapi::document();
        let described: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().expect("a path item");
                methods.keys().map(|method| (method.clone(), path.clone()))
            })
            .collect();
        let routed = routes_of_app();
        assert!(routed.len() > 30, "the route table was not read: {routed:?}");
        assert_eq!(
            routed.difference(&described).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "routed but not in the OpenAPI document"
        );
        assert_eq!(
            described.difference(&routed).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "in the OpenAPI document but not routed"
        );
    }

    #[tokio::test]
    async fn a_request_past_its_time_limit_is_answered_503_unavailable() {
        let app: Router = Router::new()
            .route("/never", get(std::future::pending::<()>))
            .layer(time_limit!(Duration::from_millis(1)));
        let request = Request::get("/never").body(Body::empty()).expect("request");
        let response = app.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 1 << 10)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"], "unavailable");
    }
}
