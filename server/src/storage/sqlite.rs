use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;

use super::Result;
use super::sql::impl_storage;

/// The default backend: one file, nothing to install. WAL lets readers run beside the one
/// writer; `synchronous=FULL` makes every acknowledged commit survive a power cut, which the
/// sync contract promises.
///
/// SQLite runs one write transaction at a time. Writers waiting on its lock sleep in
/// growing steps (up to 100 ms) however early the lock frees, which under load cost more than
/// the writes. So this process's writers queue for a pool of one connection instead, woken in
/// order the moment it is free; the busy timeout only covers other processes (the CLI).
pub struct SqliteStorage {
    pool: SqlitePool,
    writer: SqlitePool,
    /// Dropped with the storage, which ends [`checkpoints`].
    _checkpoints: oneshot::Sender<()>,
}

/// 16 MiB (negative: in KiB), an upper bound: pages are only allocated as they are used.
const WRITER_CACHE: &str = "-16384";
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Pages of write-ahead log (4 KiB each: 64 MiB) past which the writer truncates it.
const LOG_PAGES_KEPT: i64 = 16_384;

impl SqliteStorage {
    pub async fn connect(url: &str) -> Result<SqliteStorage> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        if let Some(folder) = options
            .get_filename()
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            create_folder(folder)?;
        }
        // A page cache of its own for the one writer, four times SQLite's default, so a
        // commit group or a reset chunk finds its index pages cached. It was 64 MiB once,
        // which a 2,000-phone load test filled; 16 MiB was as fast for ingest and 10,000-
        // response resets, and the server's peak memory in that test fell by 50 MiB.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", WRITER_CACHE)
                    // Statement journals (a copy of each page a statement changes, in case it
                    // fails midway) in memory, not in temporary files.
                    .pragma("temp_store", "memory")
                    .pragma("wal_autocheckpoint", "0"),
            )
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(checkpoints(pool.clone(), writer.clone(), stopped));
        Ok(SqliteStorage {
            pool,
            writer,
            _checkpoints: stop,
        })
    }
}

/// Copying the write-ahead log into the database file (a checkpoint) took 8 % of the writer's
/// time when the writer did it after its commits, as SQLite does by default, and every sync
/// waits on that one writer. So the writer never checkpoints; this task does, on a reader
/// connection, once a second until `stop` (SQLite checkpoints beside a writer without blocking
/// it, and a checkpoint with nothing new to copy returns at once).
///
/// SQLite starts the log over only once a checkpoint has copied all of it, and under steady
/// load the writer always adds pages while this one copies: the log grew without end (to 16 GB
/// in a 20,000-phone load test, when the disk ran out). Past [`LOG_PAGES_KEPT`] pages, the
/// writer's own connection truncates it, between two commits, waiting for readers to let go.
async fn checkpoints(pool: SqlitePool, writer: SqlitePool, mut stop: oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {}
        }
        // (busy, pages in the log, pages copied)
        let checkpoint = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await;
        let truncated = match checkpoint {
            Ok((_, log_pages, _)) if log_pages > LOG_PAGES_KEPT => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&writer)
                    .await
                    .map(drop)
            }
            Ok(_) => Ok(()),
            Err(err) => Err(err),
        };
        if let Err(err) = truncated {
            tracing::warn!(error = %err, "a WAL checkpoint failed");
        }
    }
}

fn create_folder(folder: &Path) -> Result<()> {
    std::fs::create_dir_all(folder).map_err(|e| {
        super::Error::Unavailable(format!(
            "cannot create the database folder {}: {e}",
            folder.display()
        ))
    })
}

impl_storage!(
    SqliteStorage,
    sqlx::Sqlite,
    "BEGIN IMMEDIATE",
    "SELECT epoch FROM datasets WHERE id = $1"
);
