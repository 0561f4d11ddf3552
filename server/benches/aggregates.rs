//! Aggregates at scale (issue 4): one cross-tab over a million demo responses through the code
//! path of `GET /v1/datasets/{id}/aggregates` (column store warm; warm right after a sync wrote
//! 20 responses; cold), against the plain SQL GROUP BY answering the same question from the
//! same tables, in one run.
//!
//! `cargo bench -p survey-server --bench aggregates`. The database is built once through the
//! real demo reset and kept in `target/bench-data/`; `AGG_BENCH_RESPONSES` (default 1,000,000)
//! picks its size, so a small size can be tried first.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, measurement::WallTime};
use sqlx::sqlite::SqlitePool;
use survey_server::aggregates::{AggregateTable, OutputCell, TOTAL};
use survey_server::demo::generator::Generator;
use survey_server::storage::{self, AuditEntry, BatchOutcome, Dataset, Mode};
use survey_server::{AppState, SyncSettings, demo};
use sync_core::Form;
use tokio::runtime::Runtime;
use uuid::Uuid;

const DATASET_NAME: &str = "Aggregates benchmark";
const SEED: u64 = 1;
const DEFAULT_RESPONSES: u64 = 1_000_000;
/// The cross-tab: responses of one form by area and a single-choice question, counted.
const FORM: &str = "outreach-contact";
const QUESTION: &str = "contact_type";
/// The same cross-tab straight from the materialized tables: submitted responses only, as the
/// aggregates count them.
const PLAIN_SQL: &str = "SELECT r.area, a.value, COUNT(*) FROM responses r
     JOIN answers a ON a.document = r.document
     WHERE r.dataset = $1 AND r.form = $2 AND r.status = 'submitted'
       AND a.dataset = $1 AND a.form = $2 AND a.question = $3
     GROUP BY r.area, a.value";

/// Responses one phone syncs at once in the load test.
const SYNC_BATCH: u64 = 20;

type PlainRow = (String, Option<String>, i64);

/// What the benchmarks share: the server's state over the bench database, and a second pool
/// on the same file for the plain SQL.
struct Fixture {
    runtime: Runtime,
    state: AppState,
    dataset: Dataset,
    forms: Vec<Form>,
    responses: u64,
    plain: SqlitePool,
    pairs: Vec<(String, String)>,
}

impl Fixture {
    /// The query as the handler runs it: `AggregateCache::query`, disclosure control included.
    fn cross_tab(&self) -> AggregateTable {
        self.runtime
            .block_on(self.state.aggregates.query(
                &self.state.storage,
                &self.dataset,
                FORM,
                &self.pairs,
                self.state.disclosure,
            ))
            .expect("the cross-tab is a valid query")
    }

    /// What the first query after a start or a reset costs: the store is loaded from SQL.
    fn cold_cross_tab(&self) -> AggregateTable {
        self.state.aggregates.forget(self.dataset.id);
        self.cross_tab()
    }

    /// Writes a sync's worth of responses as a sync does (committed, then noted in the cache),
    /// untimed: the next query must read them back. The responses are stored ones rewritten
    /// with their own content, so the kept database stays the same size and the counts the
    /// plain SQL gives stay right.
    fn sync_a_batch(&self, batch: u64) {
        let generator = Generator::new(self.dataset.id, SEED, &self.forms);
        self.runtime
            .block_on(async {
                let mut writes = Vec::new();
                for index in batch * SYNC_BATCH..(batch + 1) * SYNC_BATCH {
                    let mut write = generator.response(index % self.responses)?;
                    let version: i64 = sqlx::query_scalar("SELECT version FROM documents WHERE id = $1")
                        .bind(write.id)
                        .fetch_one(&self.plain)
                        .await?;
                    write.base_version = Some(version);
                    write.version = storage::new_version();
                    writes.push(write);
                }
                let outcome = self
                    .state
                    .storage
                    .save_documents(&writes, self.dataset.epoch)
                    .await?;
                anyhow::ensure!(
                    matches!(&outcome, BatchOutcome::Saved { stale } if !stale.contains(&true)),
                    "the batch was not written: {outcome:?}"
                );
                self.state.aggregates.written(self.dataset.id, &writes);
                Ok(())
            })
            .expect("a batch of stored responses can be written again");
    }

    fn plain_cross_tab(&self) -> Vec<PlainRow> {
        self.runtime
            .block_on(
                sqlx::query_as(PLAIN_SQL)
                    .bind(self.dataset.id)
                    .bind(FORM)
                    .bind(QUESTION)
                    .fetch_all(&self.plain),
            )
            .expect("the plain cross-tab runs")
    }
}

fn main() -> anyhow::Result<()> {
    let responses = responses_wanted()?;
    let runtime = Runtime::new()?;
    let (state, dataset, plain) = runtime.block_on(open(responses))?;
    let forms = runtime.block_on(demo::reset::ensure_forms(
        &state,
        &dataset,
        &bench_audit("forms", dataset.id),
    ))?;
    let fixture = Fixture {
        runtime,
        state,
        dataset,
        forms,
        responses,
        plain,
        pairs: vec![
            ("form".into(), FORM.into()),
            ("by".into(), format!("area,{QUESTION}")),
        ],
    };
    check_same_counts(&fixture.cold_cross_tab(), &fixture.plain_cross_tab())?;

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(format!("aggregates_{responses}"));
    // Each call takes milliseconds to seconds: equal-sized samples, not criterion's ramp.
    group.sampling_mode(SamplingMode::Flat);
    let mut calls = Calls::default();
    bench_cold(&mut group, &fixture, &mut calls.cold);
    bench_warm(&mut group, &fixture, &mut calls.warm);
    bench_after_sync(&mut group, &fixture, &mut calls.after_sync);
    bench_plain(&mut group, &fixture, &mut calls.plain);
    group.finish();
    criterion.final_summary();
    calls.print_summary(responses);
    Ok(())
}

fn bench_cold(group: &mut BenchmarkGroup<'_, WallTime>, fixture: &Fixture, calls: &mut Vec<Duration>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("cold cross-tab (store loaded from SQL)", |b| {
        b.iter_custom(|iters| timed_calls(calls, iters, || fixture.cold_cross_tab()))
    });
}

/// The store expires [`MAX_AGE`](survey_server::aggregates::cache::MAX_AGE) (30 s) after it was
/// loaded; warm-up and measurement stay well inside that after a fresh load, so no measured
/// call reloads it (the summary prints the slowest call to show it).
fn bench_warm(group: &mut BenchmarkGroup<'_, WallTime>, fixture: &Fixture, calls: &mut Vec<Duration>) {
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    // A fresh load, so the 30 s start now.
    fixture.cold_cross_tab();
    group.bench_function("warm cross-tab (aggregates path)", |b| {
        b.iter_custom(|iters| timed_calls(calls, iters, || fixture.cross_tab()))
    });
}

/// Each measured query follows a sync of [`SYNC_BATCH`] responses, as during fieldwork.
fn bench_after_sync(group: &mut BenchmarkGroup<'_, WallTime>, fixture: &Fixture, calls: &mut Vec<Duration>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    fixture.cold_cross_tab();
    let mut batch = 0;
    group.bench_function("cross-tab right after a sync of 20 responses", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fixture.sync_a_batch(batch);
                batch += 1;
                total += timed_calls(calls, 1, || fixture.cross_tab());
            }
            total
        })
    });
    check_same_counts(&fixture.cross_tab(), &fixture.plain_cross_tab())
        .expect("the caught-up store counts right");
}

fn bench_plain(group: &mut BenchmarkGroup<'_, WallTime>, fixture: &Fixture, calls: &mut Vec<Duration>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("plain SQL GROUP BY", |b| {
        b.iter_custom(|iters| timed_calls(calls, iters, || fixture.plain_cross_tab()))
    });
}

/// Runs `call` `iters` times, keeping each call's time so the summary can compare medians of
/// this very run (criterion keeps its estimates to itself).
fn timed_calls<T>(calls: &mut Vec<Duration>, iters: u64, mut call: impl FnMut() -> T) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let started = Instant::now();
        black_box(call());
        let elapsed = started.elapsed();
        calls.push(elapsed);
        total += elapsed;
    }
    total
}

/// Every call of each benchmark in this run, warm-up included.
#[derive(Default)]
struct Calls {
    cold: Vec<Duration>,
    warm: Vec<Duration>,
    after_sync: Vec<Duration>,
    plain: Vec<Duration>,
}

impl Calls {
    fn print_summary(&self, responses: u64) {
        let (Some(cold), Some(warm), Some(after_sync), Some(plain)) = (
            median(&self.cold),
            median(&self.warm),
            median(&self.after_sync),
            median(&self.plain),
        ) else {
            println!("summary: a benchmark was filtered out, no ratios");
            return;
        };
        let slowest_warm = self.warm.iter().max().copied().unwrap_or_default();
        println!("summary, {responses} responses, {FORM} by area x {QUESTION}, medians of this run's calls:");
        println!(
            "  warm cross-tab   {:>10.2} ms  ({} calls, slowest {:.2} ms)",
            ms(warm),
            self.warm.len(),
            ms(slowest_warm)
        );
        println!(
            "  after a sync     {:>10.2} ms  ({} calls, slowest {:.2} ms)",
            ms(after_sync),
            self.after_sync.len(),
            ms(self.after_sync.iter().max().copied().unwrap_or_default())
        );
        println!(
            "  cold cross-tab   {:>10.2} ms  ({} calls)",
            ms(cold),
            self.cold.len()
        );
        println!(
            "  plain SQL        {:>10.2} ms  ({} calls)",
            ms(plain),
            self.plain.len()
        );
        println!(
            "  plain SQL / warm {:>10.1} x",
            plain.as_secs_f64() / warm.as_secs_f64()
        );
        println!(
            "  plain SQL / after a sync {:>4.1} x",
            plain.as_secs_f64() / after_sync.as_secs_f64()
        );
        println!(
            "  plain SQL / cold {:>10.2} x",
            plain.as_secs_f64() / cold.as_secs_f64()
        );
    }
}

fn median(calls: &[Duration]) -> Option<Duration> {
    let mut sorted = calls.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn responses_wanted() -> anyhow::Result<u64> {
    match std::env::var("AGG_BENCH_RESPONSES") {
        Ok(text) => text
            .replace('_', "")
            .parse()
            .with_context(|| format!("AGG_BENCH_RESPONSES={text:?} is not a number")),
        Err(_) => Ok(DEFAULT_RESPONSES),
    }
}

/// `target/bench-data/aggregates-N.db`: one file per size, so switching sizes does not
/// regenerate either.
fn data_file(responses: u64) -> anyhow::Result<PathBuf> {
    // The bench binary is `<target>/<profile>/deps/aggregates-…`.
    let exe = std::env::current_exe()?;
    let target = exe
        .ancestors()
        .nth(3)
        .context("the bench binary is not inside a target directory")?;
    Ok(target
        .join("bench-data")
        .join(format!("aggregates-{responses}.db")))
}

/// Opens (or creates) the bench database and makes sure its dataset holds `responses`
/// responses, loading them through the demo reset when it does not.
async fn open(responses: u64) -> anyhow::Result<(AppState, Dataset, SqlitePool)> {
    let path = data_file(responses)?;
    let url = format!("sqlite://{}", path.display());
    let state = AppState::new(storage::connect(&url).await?, SyncSettings::default());
    let dataset = match state.storage.dataset_by_name(DATASET_NAME, Mode::Demo).await? {
        Some(dataset) => dataset,
        None => create_dataset(&state).await?,
    };
    let plain = SqlitePool::connect(&url).await?;
    let stored = stored_responses(&plain, dataset.id).await?;
    if stored == responses {
        println!("reusing {} ({stored} responses)", path.display());
    } else {
        load(&state, &dataset, responses).await?;
        // Leaves the kept file without a big WAL beside it, as after any checkpoint.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&plain)
            .await?;
    }
    // The reset bumped the epoch; the cache compares it.
    let dataset = state
        .storage
        .dataset(dataset.id)
        .await?
        .context("the bench dataset vanished")?;
    Ok((state, dataset, plain))
}

async fn create_dataset(state: &AppState) -> anyhow::Result<Dataset> {
    let dataset = Dataset {
        id: Uuid::new_v4(),
        name: DATASET_NAME.into(),
        mode: Mode::Demo,
        k: 11,
        epoch: 1,
    };
    state
        .storage
        .create_dataset(&dataset, &bench_audit("create_dataset", dataset.id))
        .await?;
    Ok(dataset)
}

async fn stored_responses(plain: &SqlitePool, dataset: Uuid) -> anyhow::Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses WHERE dataset = $1")
        .bind(dataset)
        .fetch_one(plain)
        .await?;
    Ok(u64::try_from(count)?)
}

/// The demo reset as `survey-server demo reset` runs it; its time is the "1M reset" figure.
async fn load(state: &AppState, dataset: &Dataset, responses: u64) -> anyhow::Result<()> {
    let progress = Arc::new(AtomicU64::new(0));
    let bar = tokio::spawn(demo::reset::show_progress(progress.clone(), responses));
    let started = Instant::now();
    let outcome = demo::reset::reset_with_seed(
        state,
        dataset,
        SEED,
        responses,
        &bench_audit("reset", dataset.id),
        progress,
    )
    .await;
    bar.abort();
    let (_, written) = outcome?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!();
    println!(
        "load: {written} responses in {seconds:.1} s ({:.0} responses/s) through the demo reset",
        written as f64 / seconds
    );
    Ok(())
}

fn bench_audit(action: &str, dataset: Uuid) -> AuditEntry {
    AuditEntry {
        actor_name: "aggregates bench".into(),
        actor_role: "admin".into(),
        action: action.into(),
        dataset: Some(dataset),
    }
}

/// Both paths must answer the same question: every cell the aggregates show is within the
/// perturbation's bound of the count the plain GROUP BY gives (suppressed cells and totals
/// have none to compare).
fn check_same_counts(table: &AggregateTable, plain: &[PlainRow]) -> anyhow::Result<()> {
    let mut shown = 0;
    for cell in &table.cells {
        let OutputCell::Shown { key, n, .. } = cell else {
            continue;
        };
        let area = key.get("area").and_then(|v| v.as_str());
        let value = key.get(QUESTION).and_then(|v| v.as_str());
        if area == Some(TOTAL) || value == Some(TOTAL) {
            continue;
        }
        let count = plain
            .iter()
            .find(|(a, v, _)| Some(a.as_str()) == area && v.as_deref() == value)
            .map(|(_, _, count)| *count)
            .and_then(|count| u64::try_from(count).ok());
        anyhow::ensure!(
            count.is_some_and(|count| count.abs_diff(*n) <= table.max_adjustment),
            "cell {key:?}: aggregates {n}, plain SQL {count:?}, perturbed by at most {}",
            table.max_adjustment
        );
        shown += 1;
    }
    anyhow::ensure!(shown > 0, "the cross-tab shows no cell to compare");
    println!(
        "checked: {shown} shown cells within {} of the plain GROUP BY ({} suppressed)",
        table.max_adjustment, table.suppressed
    );
    Ok(())
}
