//! The route table and the middleware stack.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Response;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

use crate::handlers::{datasets, enrollments, field_app, forms, ops, quarantine, tokens};
use crate::metrics::Metrics;
use crate::settings::{RetentionSettings, SyncSettings};
use crate::storage::Storage;
use crate::storage::group_commit::GroupCommit;
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
    pub site_locks: Arc<sync::site_locks::SiteLocks>,
    pub hot_sites: Arc<sync::hot_sites::HotSites>,
    pub group_commit: Arc<GroupCommit>,
    /// The field app's files (`clients/web`).
    pub web_root: Arc<PathBuf>,
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
            site_locks: Arc::default(),
            hot_sites: Arc::default(),
            web_root: Arc::new(field_app::default_web_root()),
        }
    }
}

pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(field_app::index))
        .route("/{file}", get(field_app::root_file))
        .route("/app/{file}", get(field_app::app_module))
        .route("/pkg/{file}", get(field_app::engine_file))
        .route("/analyst", get(crate::handlers::analyst::page))
        .route("/analyst/", get(crate::handlers::analyst::page))
        .route("/analyst/dashboard.js", get(crate::handlers::analyst::script))
        .route("/analyst/dashboard.css", get(crate::handlers::analyst::style))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/datasets", post(datasets::create).get(datasets::list))
        .route("/v1/datasets/{id}/forms", post(forms::publish).get(forms::list))
        .route("/v1/datasets/{id}/enrollments", post(enrollments::create))
        .route("/v1/datasets/{id}/reset", post(datasets::reset))
        .route("/v1/datasets/{id}/aggregates", get(crate::aggregates::aggregates))
        .route(
            "/v1/datasets/{id}/quarantine",
            get(quarantine::list).delete(quarantine::purge),
        )
        .route("/v1/enroll", post(enrollments::enroll))
        .route("/v1/tokens", post(tokens::create))
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

/// A bug must not take the connection down with it, nor tell the client more than "internal".
fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response<axum::body::Body> {
    ApiError::Internal("a handler panicked".into()).into_response()
}
