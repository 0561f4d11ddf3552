//! Counters and a latency histogram, kept and rendered in the Prometheus text format by
//! `metrics-exporter-prometheus`. The recorder is this server's own rather than the process's
//! global one, so servers sharing a process (the in-process tests) count apart. Labels are
//! route templates and rejection codes only, so no series can carry an id, a token or an
//! address.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Key, KeyName, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const LATENCY: &str = "survey_http_request_duration_seconds";
const REJECTIONS: &str = "survey_sync_rejections_total";
/// Latencies wait in the recorder until they are folded into the histogram; folding every so
/// many requests keeps memory bounded when nobody scrapes `/metrics`.
const UPKEEP_EVERY: u64 = 1024;

static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    observed: AtomicU64,
    sync_requests: Counter,
    documents_merged: Counter,
    merge_retries: Counter,
    wrong_codes: Counter,
    throttled_enrollments: Counter,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let counter = |name: &'static str, help: &'static str| {
            recorder.describe_counter(KeyName::from_const_str(name), None, SharedString::const_str(help));
            // Registered now, so the series is there (at 0) before its first event.
            recorder.register_counter(&Key::from_static_name(name), &METADATA)
        };
        let sync_requests = counter("survey_sync_requests_total", "Sync requests received.");
        let documents_merged = counter(
            "survey_documents_merged_total",
            "Documents merged and stored by sync.",
        );
        let merge_retries = counter(
            "survey_sync_merge_retries_total",
            "Merges redone because another writer stored the document first.",
        );
        let wrong_codes = counter(
            "survey_enroll_wrong_codes_total",
            "Enrollment attempts with a code that is unknown, used up or expired.",
        );
        let throttled_enrollments = counter(
            "survey_enroll_throttled_total",
            "Enrollment attempts refused with 429 while wrong codes had spent the budget.",
        );
        recorder.describe_counter(
            KeyName::from_const_str(REJECTIONS),
            None,
            SharedString::const_str("Documents refused by sync, by code."),
        );
        recorder.describe_histogram(
            KeyName::from_const_str(LATENCY),
            Some(metrics::Unit::Seconds),
            SharedString::const_str("Request latency by route."),
        );
        Metrics {
            handle: recorder.handle(),
            recorder,
            observed: AtomicU64::new(0),
            sync_requests,
            documents_merged,
            merge_retries,
            wrong_codes,
            throttled_enrollments,
        }
    }
}

impl Metrics {
    pub fn count_sync_request(&self) {
        self.sync_requests.increment(1);
    }

    pub fn count_merged_document(&self) {
        self.documents_merged.increment(1);
    }

    /// Another writer stored the document between our read and our write; the merge is redone.
    pub fn count_merge_retry(&self) {
        self.merge_retries.increment(1);
    }

    /// `POST /v1/enroll` with a code that is unknown, used up or expired.
    pub fn count_wrong_code(&self) {
        self.wrong_codes.increment(1);
    }

    /// `POST /v1/enroll` answered 429: the budget of wrong codes was spent.
    pub fn count_throttled_enrollment(&self) {
        self.throttled_enrollments.increment(1);
    }

    pub fn count_rejection(&self, code: &str) {
        let key = Key::from_parts(REJECTIONS, vec![Label::new("code", code.to_owned())]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    pub fn observe_request(&self, route: &str, seconds: f64) {
        let key = Key::from_parts(LATENCY, vec![Label::new("route", route.to_owned())]);
        self.recorder.register_histogram(&key, &METADATA).record(seconds);
        if self.observed.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// Every series in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// Middleware: one latency observation per request, by route template.
pub async fn observe_requests(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe_request(&route, started.elapsed().as_secs_f64());
    response
}
