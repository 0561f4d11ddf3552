//! `survey loadtest`: many phones against one server, measured, then checked end to end.
//!
//! 1. Setup (not timed): a new demo dataset with k at its minimum, the 30-question form, the
//!    enrollment codes, and a coordinator phone that adds the outreach sites.
//! 2. Every phone enrolls, fetches the form and the sites, then offline collects its responses
//!    and bumps site tallies through sync-core (not timed: on real phones this takes days).
//! 3. Timed: all phones sync, `--concurrency` at a time. A response counts once the server has
//!    acknowledged it, which it does only after committing it.
//! 4. Checks: the aggregates API must count every response exactly once per area (to within
//!    its published perturbation bound when it perturbs), and a fresh read-only phone must see
//!    every site tally equal to the sum of what the phones added.

mod phone;
mod pool;
mod report;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use survey_workload::measure::{cpu_seconds, peak_rss_mib, percentile_ms};
use survey_workload::{self as workload, Run};
use sync_core::ClientEngine;

use self::phone::OfflinePhone;
use self::report::Report;
use crate::admin::{Admin, Dataset};
use crate::cli::LoadtestArgs;
use crate::http::Server;
use crate::sync::{MAX_ROUNDS, sync_until_done};
use crate::{Error, Result, admin};

/// The smallest k the server allows: it lets the smallest workloads still be verified
/// through the aggregates API without suppressed cells.
const K: i64 = 5;
/// The server lets one enrollment code enroll at most this many devices.
const USES_PER_CODE: usize = 1000;

pub fn run(args: &LoadtestArgs) -> Result<()> {
    let started = Instant::now();
    let run = Run::today(args.devices, args.responses, args.site_bumps, args.seed, K)
        .map_err(|reason| Error::Usage(format!("the load test: {reason}")))?;
    let total_responses = run.total_responses();
    let threads = args.concurrency as usize;
    let server = Server::with_pool(&args.server, threads, Duration::from_secs(300))?;
    let admin = Admin {
        server: &server,
        token: &args.admin_token,
    };

    // 1. Setup.
    let dataset = admin.create_dataset(&format!("loadtest {}", unix_now()), "demo", Some(K))?;
    let form = workload::thirty_question_form();
    admin.publish_form(dataset.id, &form)?;
    let setup_code = admin.enrollment_code(dataset.id, "loadtest coordinator", 2)?;
    add_sites(&server, &setup_code)?;
    let device_codes = (0..(args.devices as usize).div_ceil(USES_PER_CODE))
        .map(|i| {
            let uses = USES_PER_CODE.min(args.devices as usize - i * USES_PER_CODE);
            admin.enrollment_code(dataset.id, &format!("loadtest phones {i}"), uses)
        })
        .collect::<Result<Vec<_>>>()?;

    // 2. Phones enroll and work offline.
    let areas_used = run.areas_used();
    let prepared = pool::run_parallel(threads, (0..args.devices).collect(), |_, i| {
        phone::prepare(
            &server,
            &device_codes[i as usize / USES_PER_CODE],
            &run.plan(i),
            args.protocol,
        )
    });
    let phones: Vec<OfflinePhone> = prepared.into_iter().collect::<Result<_>>()?;
    let mut expected_tallies: BTreeMap<(String, String), i64> = BTreeMap::new();
    for phone in &phones {
        for (key, by) in &phone.bumps {
            *expected_tallies.entry(key.clone()).or_insert(0) += by;
        }
    }
    let setup_s = started.elapsed().as_secs_f64();

    // 3. Timed: everyone syncs.
    let cpu = || {
        let server = args.server_pid.and_then(cpu_seconds);
        (server, cpu_seconds(std::process::id()))
    };
    let cpu_before = cpu();
    let sync_started = Instant::now();
    let synced = pool::run_parallel(threads, phones, |_, phone| phone::sync(&server, &phone));
    let sync_s = sync_started.elapsed().as_secs_f64();
    let cpu_after = cpu();
    let cpu_ms_per_response =
        |before: Option<f64>, after: Option<f64>| Some((after? - before?) * 1e3 / total_responses as f64);

    let mut latencies = Vec::new();
    let (mut request_bytes, mut response_bytes, mut acknowledged) = (0usize, 0usize, 0u64);
    let mut failures = Vec::new();
    for result in synced {
        match result {
            Ok(done) => {
                acknowledged += done.responses_acknowledged;
                for round in done.rounds {
                    latencies.push(round.elapsed);
                    request_bytes += round.request_bytes;
                    response_bytes += round.response_bytes;
                }
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    latencies.sort_unstable();

    // 4. Checks.
    let mut problems = Vec::new();
    if let Some(first) = failures.first() {
        problems.push(format!(
            "{} phones failed to sync; the first: {first}",
            failures.len()
        ));
    }
    let verified = match count_responses(&admin, &dataset, total_responses, areas_used) {
        Ok(n) => n,
        Err(problem) => {
            problems.push(problem);
            0
        }
    };
    let tallies_verified = match check_tallies(&server, &setup_code, &expected_tallies) {
        Ok(reader) => {
            if let Err(problem) = reader.sync_again(&server) {
                problems.push(problem);
            }
            true
        }
        Err(problem) => {
            problems.push(problem);
            false
        }
    };

    let per_response = |bytes: usize| bytes as f64 / total_responses as f64;
    let report = Report {
        responses_per_s: acknowledged as f64 / sync_s.max(f64::EPSILON),
        p50_ms: percentile_ms(&latencies, 50.0),
        p95_ms: percentile_ms(&latencies, 95.0),
        p99_ms: percentile_ms(&latencies, 99.0),
        request_bytes_per_response: per_response(request_bytes),
        response_bytes_per_response: per_response(response_bytes),
        server_peak_rss_mb: args.server_pid.and_then(peak_rss_mib),
        server_cpu_ms_per_response: cpu_ms_per_response(cpu_before.0, cpu_after.0),
        phones_cpu_ms_per_response: cpu_ms_per_response(cpu_before.1, cpu_after.1),
        responses_verified: verified,
        tallies_verified,
        devices: args.devices,
        responses_per_device: args.responses,
        site_bumps_per_device: args.site_bumps,
        concurrency: args.concurrency,
        protocol: args.protocol,
        sync_rounds: latencies.len(),
        failed_devices: failures.len(),
        setup_s,
        sync_s,
        total_s: started.elapsed().as_secs_f64(),
        dataset: dataset.id.to_string(),
    };
    report.print_human();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("the report serializes")
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Verification(problems.join("; ")))
    }
}

/// The coordinator's phone adds the outreach sites every other phone will bump.
fn add_sites(server: &Server, code: &str) -> Result<()> {
    let enrolled = admin::enroll(server, code)?;
    let mut engine = ClientEngine::new(enrolled.dataset, enrolled.epoch);
    for site in workload::SITES {
        engine
            .create_site(site, &format!("Load test site {site}"))
            .map_err(Error::Refused)?;
    }
    let outcome = sync_until_done(server, &enrolled.token, &mut engine, MAX_ROUNDS, |_| Ok(()))?;
    match outcome.rejected.first() {
        Some(r) => Err(Error::LoadTest(format!(
            "the server refused a site: {}",
            r.message
        ))),
        None => Ok(()),
    }
}

/// Compares the aggregates API's count per area with what the phones sent; returns how many
/// responses it found, or what did not match. A server that perturbs its counts (every
/// production server: the table says by how much at most) is checked to within that bound
/// per area; one that shows exact counts, exactly.
fn count_responses(
    admin: &Admin<'_>,
    dataset: &Dataset,
    total: u64,
    areas_used: usize,
) -> std::result::Result<u64, String> {
    let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
    for i in 0..total {
        *expected
            .entry(workload::AREAS[(i % areas_used as u64) as usize])
            .or_insert(0) += 1;
    }
    let table = admin
        .count_by(dataset.id, workload::FORM_ID, "area")
        .map_err(|e| format!("the aggregates API did not answer: {e}"))?;
    let bound = table.max_adjustment;
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    for cell in &table.cells {
        let area = cell
            .key
            .get("area")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        // The total, and areas nobody answered in (listed, suppressed like any small cell).
        if area == "*" || !expected.contains_key(area.as_str()) {
            continue;
        }
        match (cell.suppressed, cell.n) {
            (false, Some(n)) => {
                *found.entry(area).or_insert(0) += n;
            }
            _ => {
                return Err(format!(
                    "the aggregate cell for area {area:?} is suppressed (k = {}), so it cannot be checked",
                    table.k
                ));
            }
        }
    }
    let mut counted = 0;
    for (area, want) in &expected {
        let got = found.get(*area).copied().unwrap_or(0);
        if got.abs_diff(*want) > bound {
            return Err(format!(
                "area {area:?} counts {got} responses, the phones sent {want} (counts within {bound}; {total} sent)",
            ));
        }
        counted += got;
    }
    if bound == 0 && counted != total {
        return Err(format!(
            "the aggregates count {counted} responses, the phones sent {total}"
        ));
    }
    Ok(counted)
}

/// A fresh phone syncs read-only and must see each site once, with each tally equal to the sum
/// of every phone's increments. Returns the phone for one more sync.
fn check_tallies(
    server: &Server,
    code: &str,
    expected: &BTreeMap<(String, String), i64>,
) -> std::result::Result<Resync, String> {
    let enrolled =
        admin::enroll(server, code).map_err(|e| format!("the read-only phone could not enroll: {e}"))?;
    let mut reader = ClientEngine::new(enrolled.dataset, enrolled.epoch);
    sync_until_done(server, &enrolled.token, &mut reader, MAX_ROUNDS, |_| Ok(()))
        .map_err(|e| format!("the read-only phone could not sync: {e}"))?;
    let mut seen: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (_, view) in reader.sites() {
        if seen.insert(view.site.clone(), view.tallies).is_some() {
            return Err(format!("site {:?} exists twice", view.site));
        }
    }
    for site in workload::SITES {
        let tallies = seen
            .get(*site)
            .ok_or_else(|| format!("site {site:?} did not reach the read-only phone"))?;
        for metric in workload::METRICS {
            let want = expected
                .get(&((*site).to_owned(), (*metric).to_owned()))
                .copied()
                .unwrap_or(0);
            let got = tallies.get(*metric).copied().unwrap_or(0);
            if got != want {
                return Err(format!(
                    "site {site:?} tally {metric:?} is {got}, the phones added {want}"
                ));
            }
        }
    }
    Ok(Resync {
        token: enrolled.token,
        engine: reader,
    })
}

/// The read-only phone, kept to sync once more.
struct Resync {
    token: String,
    engine: ClientEngine,
}

impl Resync {
    /// Syncs again, as every phone does next time: now it names each site with the heads it
    /// holds, which a busy site must not make unacceptable.
    fn sync_again(mut self, server: &Server) -> std::result::Result<(), String> {
        sync_until_done(server, &self.token, &mut self.engine, MAX_ROUNDS, |_| Ok(()))
            .map(|_| ())
            .map_err(|e| format!("the read-only phone could not sync a second time: {e}"))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
