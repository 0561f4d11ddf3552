//! Counters and a latency histogram in the Prometheus text format, kept by hand: the handful of
//! series below do not justify a metrics framework. Labels are route templates and rejection
//! codes only, so no series can carry an id, a token or an address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
pub struct Metrics {
    sync_requests: AtomicU64,
    documents_merged: AtomicU64,
    merge_retries: AtomicU64,
    wrong_codes: AtomicU64,
    throttled_enrollments: AtomicU64,
    rejections: Mutex<BTreeMap<String, u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    pub fn count_sync_request(&self) {
        self.sync_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_merged_document(&self) {
        self.documents_merged.fetch_add(1, Ordering::Relaxed);
    }

    /// Another writer stored the document between our read and our write; the merge is redone.
    pub fn count_merge_retry(&self) {
        self.merge_retries.fetch_add(1, Ordering::Relaxed);
    }

    /// `POST /v1/enroll` with a code that is unknown, used up or expired.
    pub fn count_wrong_code(&self) {
        self.wrong_codes.fetch_add(1, Ordering::Relaxed);
    }

    /// `POST /v1/enroll` answered 429: the budget of wrong codes was spent.
    pub fn count_throttled_enrollment(&self) {
        self.throttled_enrollments.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_rejection(&self, code: &str) {
        let mut map = self.rejections.lock().unwrap_or_else(PoisonError::into_inner);
        *map.entry(code.to_owned()).or_default() += 1;
    }

    pub fn observe_request(&self, route: &str, took: Duration) {
        let seconds = took.as_secs_f64();
        let mut map = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        let histogram = map.entry(route.to_owned()).or_default();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        };
        counter(
            "survey_sync_requests_total",
            "Sync requests received.",
            &self.sync_requests,
        );
        counter(
            "survey_documents_merged_total",
            "Documents merged and stored by sync.",
            &self.documents_merged,
        );
        counter(
            "survey_sync_merge_retries_total",
            "Merges redone because another writer stored the document first.",
            &self.merge_retries,
        );
        counter(
            "survey_enroll_wrong_codes_total",
            "Enrollment attempts with a code that is unknown, used up or expired.",
            &self.wrong_codes,
        );
        counter(
            "survey_enroll_throttled_total",
            "Enrollment attempts refused with 429 while wrong codes had spent the budget.",
            &self.throttled_enrollments,
        );
        let _ = writeln!(
            out,
            "# HELP survey_sync_rejections_total Documents refused by sync, by code."
        );
        let _ = writeln!(out, "# TYPE survey_sync_rejections_total counter");
        for (code, n) in self
            .rejections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(out, "survey_sync_rejections_total{{code=\"{code}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP survey_http_request_duration_seconds Request latency by route."
        );
        let _ = writeln!(out, "# TYPE survey_http_request_duration_seconds histogram");
        for (route, h) in self.latency.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "survey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "survey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "survey_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "survey_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out
    }
}
