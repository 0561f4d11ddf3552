//! `survey-bench-ingest`: the load test's workload (`survey loadtest`, the same form,
//! answers and site bumps from `survey-workload`) through the sync step and the storage layer
//! in this process, with no HTTP and no CBOR. Its throughput is the ceiling the HTTP server
//! can approach; the load test's figure over this one is the share HTTP and serialization
//! leave.
//!
//! Phones are sync-core client engines, prepared offline before the clock starts; then
//! `--concurrency` of them at a time sync until their engine has nothing left to send, each
//! round through [`survey_server::sync::answer`], exactly what `POST /v1/sync` runs after
//! decoding.
//!
//! A crate of its own so that the server does not link the load test's workload.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde::Serialize;
use survey_workload::measure::{peak_rss_mib, percentile_ms};
use survey_workload::{self as workload, Bumps, Run};
use sync_core::{ClientEngine, DocKind, MAX_SYNC_ROUNDS, REQUEST_CHANGE_BYTES, SyncResponse};
use uuid::Uuid;

use survey_server::auth::DeviceCaller;
use survey_server::clock::unix_now;
use survey_server::settings::SyncSettings;
use survey_server::state::AppState;
use survey_server::storage::{self, AuditEntry, Mode, Role};
use survey_server::{datasets, enrollment, forms};

/// The smallest k the server allows, as in the load test.
const K: i64 = 5;

/// Measure ingest without HTTP: the load test's workload through the sync step and the
/// storage layer in this process.
#[derive(Parser, Debug)]
#[command(name = "survey-bench-ingest", version)]
pub struct BenchIngestArgs {
    #[command(flatten)]
    pub database: survey_server::cli::DatabaseArg,
    #[arg(long, default_value_t = 200)]
    pub devices: u32,
    /// Responses per device.
    #[arg(long, default_value_t = 20)]
    pub responses: u32,
    /// Site tally bumps per device.
    #[arg(long, default_value_t = 5)]
    pub site_bumps: u32,
    /// Devices syncing at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object on the last line.
    #[arg(long)]
    pub json: bool,
}

/// The load test's JSON keys that apply without a network.
#[derive(Debug, Serialize)]
struct Report {
    responses_per_s: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    /// This process's peak: the server's side plus every phone's engine kept as bytes.
    server_peak_rss_mb: Option<f64>,
    responses_verified: u64,
    tallies_verified: bool,
    sync_rounds: usize,
    sync_s: f64,
}

struct Phone {
    device: DeviceCaller,
    engine: ClientEngine,
}

pub async fn run(args: BenchIngestArgs) -> anyhow::Result<()> {
    let run = Run::ending_today(args.devices, args.responses, args.site_bumps, 1, args.seed, K)
        .map_err(|reason| anyhow::anyhow!("the benchmark: {reason}"))?;
    let total = run.total_responses();
    let storage = storage::connect(&args.database.database).await?;
    let state = AppState::new(storage, SyncSettings::default());
    let storage = state.storage.as_ref();

    let name = format!("bench-ingest {}", unix_now());
    let dataset = datasets::create_dataset(
        storage,
        &name,
        Mode::Live,
        Some(K),
        None,
        as_bench("create_dataset", None),
    )
    .await?;
    let form = workload::thirty_question_form();
    let audit = as_bench("publish_form", Some(dataset.id));
    forms::publish_definition(storage, dataset.id, &serde_json::to_value(&form)?, &audit).await?;
    let mut issued = Vec::new();
    for uses in enrollment_batches(args.devices + 1) {
        let audit = as_bench("create_enrollment", Some(dataset.id));
        issued.push(enrollment::issue_code(storage, dataset.id, "bench-ingest", uses, 24, &audit).await?);
    }
    let mut codes = issued
        .iter()
        .flat_map(|c| std::iter::repeat_n(c.code(), c.uses() as usize));

    let mut coordinator = enroll(&state, codes.next().context("no code left")?).await?;
    for site in workload::SITES {
        coordinator.engine.create_site(site, site)?;
    }
    sync_phone(&state, &mut coordinator, &mut Vec::new()).await?;

    let mut phones = Vec::with_capacity(args.devices as usize);
    let mut expected = Bumps::new();
    for i in 0..args.devices {
        let mut phone = enroll(&state, codes.next().context("no code left")?).await?;
        sync_phone(&state, &mut phone, &mut Vec::new()).await?;
        let form = phone.engine.form(workload::FORM_ID, None)?;
        let sites: BTreeMap<String, Uuid> = phone
            .engine
            .sites()
            .into_iter()
            .map(|(id, view)| (view.site, id))
            .collect();
        for (key, by) in workload::work_offline(&mut phone.engine, &form, &sites, &run.plan(i, 0))? {
            *expected.entry(key).or_insert(0) += by;
        }
        phones.push(phone);
    }

    let started = Instant::now();
    let (latencies, acknowledged) = sync_all(&state, phones, args.concurrency as usize).await?;
    let sync_s = started.elapsed().as_secs_f64();

    let stored = state
        .storage
        .response_facts(dataset.id, workload::FORM_ID)
        .await?
        .len() as u64;
    sync_phone(&state, &mut coordinator, &mut Vec::new()).await?;
    let tallies_verified = tallies_add_up(&coordinator.engine, &expected);
    let report = Report {
        responses_per_s: acknowledged as f64 / sync_s.max(f64::EPSILON),
        p50_ms: percentile_ms(&latencies, 50.0),
        p95_ms: percentile_ms(&latencies, 95.0),
        p99_ms: percentile_ms(&latencies, 99.0),
        server_peak_rss_mb: peak_rss_mib(std::process::id()),
        responses_verified: stored.min(acknowledged),
        tallies_verified,
        sync_rounds: latencies.len(),
        sync_s,
    };
    println!(
        "in-process ingest: {} devices x {} responses, {} site bumps each, {} at once",
        args.devices, args.responses, args.site_bumps, args.concurrency
    );
    println!(
        "{:.0} responses/s; sync latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms over {} rounds",
        report.responses_per_s, report.p50_ms, report.p95_ms, report.p99_ms, report.sync_rounds
    );
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    if stored != total || acknowledged != total || !tallies_verified {
        bail!(
            "{total} responses sent, {acknowledged} acknowledged, {stored} stored; tallies add up: {tallies_verified}"
        );
    }
    Ok(())
}

/// What the benchmark does is logged as done by "bench-ingest", as an admin.
fn as_bench(action: &str, dataset: Option<Uuid>) -> AuditEntry {
    AuditEntry {
        actor_name: "bench-ingest".into(),
        actor_role: Role::Admin.as_str().into(),
        action: action.into(),
        dataset,
    }
}

/// Uses per enrollment code for `devices` devices, within the server's limit per code.
fn enrollment_batches(devices: u32) -> Vec<i64> {
    let per_code = enrollment::MAX_USES as u32;
    (0..devices.div_ceil(per_code))
        .map(|i| i64::from(per_code.min(devices - i * per_code)))
        .collect()
}

/// Enrolls a device the way `POST /v1/enroll` does, without the HTTP.
async fn enroll(state: &AppState, code: &str) -> anyhow::Result<Phone> {
    let (enrolled, _token) = enrollment::enroll_device(state.storage.as_ref(), code, unix_now(), None)
        .await
        .context("the enrollment code ran out")?;
    Ok(Phone {
        device: DeviceCaller {
            device: enrolled.device_id,
            dataset: enrolled.dataset,
        },
        engine: ClientEngine::new(enrolled.dataset, u64::try_from(enrolled.epoch)?),
    })
}

/// Every phone syncs, `concurrency` at a time; returns each round's latency, sorted, and the
/// responses the server acknowledged.
async fn sync_all(
    state: &AppState,
    phones: Vec<Phone>,
    concurrency: usize,
) -> anyhow::Result<(Vec<Duration>, u64)> {
    let queue = Arc::new(Mutex::new(phones));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (state, queue) = (state.clone(), queue.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut acknowledged = 0u64;
            loop {
                let next = queue.lock().expect("queue lock").pop();
                let Some(mut phone) = next else { break };
                sync_phone(&state, &mut phone, &mut latencies).await?;
                if phone.engine.pending_count() > 0 {
                    bail!("a phone kept documents the server did not acknowledge");
                }
                acknowledged += phone.engine.document_ids(DocKind::Response).len() as u64;
            }
            Ok((latencies, acknowledged))
        });
    }
    let (mut latencies, mut acknowledged) = (Vec::new(), 0);
    while let Some(done) = workers.join_next().await {
        let (mine, count) = done??;
        latencies.extend(mine);
        acknowledged += count;
    }
    latencies.sort_unstable();
    Ok((latencies, acknowledged))
}

/// Rounds until the engine has nothing left to send or fetch, as a phone's sync button does.
async fn sync_phone(
    state: &AppState,
    phone: &mut Phone,
    latencies: &mut Vec<Duration>,
) -> anyhow::Result<()> {
    let mut rounds = 0;
    loop {
        let request = phone.engine.build_request(REQUEST_CHANGE_BYTES);
        let started = Instant::now();
        let reply: SyncResponse =
            survey_server::sync::answer(&state.sync_services(), &phone.device, &request).await?;
        latencies.push(started.elapsed());
        if let Some(refused) = reply.rejected.first() {
            bail!(
                "the server refused document {} ({}): {}",
                refused.id,
                refused.code,
                refused.message
            );
        }
        phone.engine.apply_response(&reply)?;
        rounds += 1;
        if !phone.engine.needs_sync() {
            return Ok(());
        }
        if rounds == MAX_SYNC_ROUNDS {
            bail!("a phone still needed a sync after {MAX_SYNC_ROUNDS} rounds");
        }
    }
}

/// Whether every site tally, as a phone sees it after syncing, is the sum of all phones' bumps.
fn tallies_add_up(engine: &ClientEngine, expected: &Bumps) -> bool {
    let seen: Bumps = engine
        .sites()
        .into_iter()
        .flat_map(|(_, view)| {
            let site = view.site.clone();
            view.tallies
                .into_iter()
                .map(move |(metric, total)| ((site.clone(), metric), total))
        })
        .filter(|(_, total)| *total != 0)
        .collect();
    &seen == expected
}
