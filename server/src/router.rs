//! The route table and the middleware stack.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Response;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use tower_http::catch_panic::CatchPanicLayer;

use crate::enroll_attempts::EnrollAttempts;
use crate::handlers::{
    audit, datasets, devices, enrollments, field_app, forms, ops, quarantine, query_log, responses, tokens,
};
use crate::metrics::Metrics;
use crate::settings::{RetentionSettings, SyncSettings};
use crate::storage::Storage;
use crate::storage::group_commit::GroupCommit;
use crate::usage::Usage;
use crate::{ApiError, security_headers, sync, telemetry};

/// What every handler can reach. The server keeps no session state: everything lives in the
/// database, so any number of replicas can serve one device.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub metrics: Arc<Metrics>,
    pub sync: SyncSettings,
    pub retention: RetentionSettings,
    pub aggregates: Arc<crate::aggregates::cache::AggregateCache>,
    /// How aggregate and tally counts are protected; always cell-key perturbation outside
    /// tests (no flag or setting changes it).
    pub disclosure: crate::disclosure::Disclosure,
    pub site_locks: Arc<sync::site_locks::SiteLocks>,
    pub hot_sites: Arc<sync::hot_sites::HotSites>,
    pub group_commit: Arc<GroupCommit>,
    /// The field app's files (`clients/web`).
    pub web_root: Arc<PathBuf>,
    /// Days tokens were used and devices synced, waiting to be written.
    pub usage: Arc<Usage>,
    pub enroll_attempts: Arc<EnrollAttempts>,
}

impl AppState {
    pub fn new(storage: Arc<dyn Storage>, sync: SyncSettings) -> AppState {
        AppState {
            group_commit: Arc::new(GroupCommit::new(storage.clone())),
            storage,
            metrics: Arc::new(Metrics::default()),
            sync,
            retention: RetentionSettings::default(),
            aggregates: Arc::default(),
            disclosure: crate::disclosure::Disclosure::CellKey,
            site_locks: Arc::default(),
            hot_sites: Arc::default(),
            web_root: Arc::new(field_app::default_web_root()),
            usage: Arc::default(),
            enroll_attempts: Arc::default(),
        }
    }
}

pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(field_app::index))
        .route("/{file}", get(field_app::root_file))
        .route("/vendor/{file}", get(field_app::vendored))
        .route("/app/{file}", get(field_app::app_module))
        .route("/pkg/{file}", get(field_app::engine_file))
        .route("/analyst", get(crate::handlers::analyst::page))
        .route("/analyst/", get(crate::handlers::analyst::page))
        .route("/analyst/dashboard.js", get(crate::handlers::analyst::script))
        .route("/analyst/dashboard.css", get(crate::handlers::analyst::style))
        .route("/healthz", get(ops::healthz))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/datasets", post(datasets::create).get(datasets::list))
        .route("/v1/datasets/{id}", delete(datasets::purge))
        .route("/v1/datasets/{id}/forms", post(forms::publish).get(forms::list))
        .route("/v1/datasets/{id}/enrollments", post(enrollments::create))
        .route("/v1/datasets/{id}/reset", post(datasets::reset))
        .route("/v1/datasets/{id}/aggregates", get(crate::aggregates::aggregates))
        .route("/v1/datasets/{id}/tallies", get(crate::tallies::tallies))
        .route("/v1/datasets/{id}/query-log", get(query_log::list))
        .route(
            "/v1/datasets/{id}/quarantine",
            get(quarantine::list).delete(quarantine::purge),
        )
        .route(
            "/v1/datasets/{id}/responses/{response}",
            delete(responses::withdraw),
        )
        .route("/v1/datasets/{id}/devices", get(devices::list))
        .route("/v1/devices/{id}/revoke", post(devices::revoke))
        .route("/v1/enroll", post(enrollments::enroll))
        .route("/v1/tokens", post(tokens::create).get(tokens::list))
        .route("/v1/tokens/{id}", delete(tokens::revoke))
        .route("/v1/audit", get(audit::list))
        .route("/v1/sync", post(sync::sync::<1>))
        .route("/v2/sync", post(sync::sync::<2>))
        .route("/v3/sync", post(sync::sync::<3>))
        .fallback(|| async { ApiError::NotFound("route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(state.sync.max_body_bytes))
        // Inside the logger, so a panic still gets its log line (as a 500).
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            telemetry::log_requests,
        ));
    // Outermost, so panics and every error get them too.
    security_headers::add(routes).with_state(state)
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

/// A bug must not take the connection down with it, nor tell the client more than "internal".
fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response<axum::body::Body> {
    ApiError::Internal("a handler panicked".into()).into_response()
}
