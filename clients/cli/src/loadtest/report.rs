//! The load test's figures: latency percentiles, bytes per response, throughput, the server's
//! peak memory, and the CPU the server and the phones spend per response while syncing, printed
//! for people and as one JSON object for scripts.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Report {
    pub responses_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub request_bytes_per_response: f64,
    pub response_bytes_per_response: f64,
    pub server_peak_rss_mb: Option<f64>,
    /// CPU time over the timed sync phase only, setup left out; the server's needs its pid.
    pub server_cpu_ms_per_response: Option<f64>,
    pub phones_cpu_ms_per_response: Option<f64>,
    pub responses_verified: u64,
    pub tallies_verified: bool,
    pub devices: u32,
    pub responses_per_device: u32,
    pub site_bumps_per_device: u32,
    /// Days the responses and bumps were spread over, each ending with every phone's sync.
    pub days: u32,
    pub concurrency: u32,
    pub protocol: u64,
    pub sync_rounds: usize,
    pub failed_syncs: usize,
    pub setup_s: f64,
    pub sync_s: f64,
    pub total_s: f64,
    pub dataset: String,
    /// Site code -> metric -> what the phones added, for checking the analysts' totals
    /// (`survey-server tallies --check`).
    pub expected_tallies: BTreeMap<String, BTreeMap<String, i64>>,
}

impl Report {
    pub fn print_human(&self) {
        let rss = self.server_peak_rss_mb.map_or_else(
            || "not measured (give --server-pid)".to_owned(),
            |mb| format!("{mb:.1} MiB"),
        );
        println!(
            "workload: {} devices x {} responses (30 questions), {} site bumps each, over {} days, {} at once, protocol v{}",
            self.devices,
            self.responses_per_device,
            self.site_bumps_per_device,
            self.days,
            self.concurrency,
            self.protocol
        );
        println!("dataset:  {}", self.dataset);
        println!(
            "ingest:   {:.0} responses/s acknowledged ({:.2} s of sync)",
            self.responses_per_s, self.sync_s
        );
        println!(
            "latency:  p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms over {} sync round trips",
            self.p50_ms, self.p95_ms, self.p99_ms, self.sync_rounds
        );
        println!(
            "wire:     {:.0} request bytes and {:.0} response bytes per response",
            self.request_bytes_per_response, self.response_bytes_per_response
        );
        println!("server:   peak RSS {rss}");
        let ms = |figure: Option<f64>| {
            figure.map_or_else(|| "not measured".to_owned(), |ms| format!("{ms:.2} ms"))
        };
        println!(
            "cpu:      server {}, phones {} per response while syncing",
            ms(self.server_cpu_ms_per_response),
            ms(self.phones_cpu_ms_per_response)
        );
        println!(
            "verified: {} responses exactly once; site tallies {} on every phone",
            self.responses_verified,
            if self.tallies_verified {
                "add up"
            } else {
                "DO NOT add up"
            }
        );
        println!(
            "time:     {:.2} s setup, {:.2} s sync, {:.2} s total",
            self.setup_s, self.sync_s, self.total_s
        );
    }
}
