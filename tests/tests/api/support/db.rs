//! Throwaway databases. SQLite: a file in a fresh temporary folder. PostgreSQL: a fresh
//! database in the cluster named by `SURVEY_TEST_POSTGRES_URL` (no database in the URL, e.g.
//! `postgres://postgres@127.0.0.1:5433`; `scripts/with-postgres` starts one and sets it).

use std::path::PathBuf;

use sqlx::Row as _;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL backend of `SURVEY_TEST_POSTGRES_URL`. Without it the test fails: the
    /// PostgreSQL variants are ignored unless asked for, and once asked for they must run.
    pub fn postgres() -> Backend {
        match std::env::var("SURVEY_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Backend::Postgres(url.trim_end_matches('/').to_owned()),
            _ => panic!(
                "SURVEY_TEST_POSTGRES_URL is not set: run the PostgreSQL variants through scripts/with-postgres"
            ),
        }
    }
}

/// Runs `body` on a pool of the database at `url`, SQLite or PostgreSQL, and closes it. A macro,
/// because the two pools are different types and `body` is written once for both.
macro_rules! on_pool {
    ($url:expr, |$pool:ident| $body:expr) => {
        on_pool!($url, |$pool| sqlite: $body, postgres: $body)
    };
    ($url:expr, |$pool:ident| sqlite: $sqlite:expr, postgres: $postgres:expr) => {{
        if $url.starts_with("sqlite:") {
            let $pool = sqlx::SqlitePool::connect($url).await.expect("open sqlite");
            let out = $sqlite;
            $pool.close().await;
            out
        } else {
            let $pool = sqlx::PgPool::connect($url).await.expect("open postgres");
            let out = $postgres;
            $pool.close().await;
            out
        }
    }};
}

pub struct TestDb {
    pub url: String,
    folder: Option<PathBuf>,
}

impl TestDb {
    pub async fn create(backend: &Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let folder = std::env::temp_dir().join(format!("survey-test-{}", Uuid::new_v4().simple()));
                std::fs::create_dir_all(&folder).expect("temp folder");
                TestDb {
                    url: format!("sqlite://{}/survey.db", folder.display()),
                    folder: Some(folder),
                }
            }
            Backend::Postgres(base) => {
                let name = format!("t_{}", Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&format!("{base}/postgres"))
                    .await
                    .expect("PostgreSQL from SURVEY_TEST_POSTGRES_URL must accept connections");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                TestDb {
                    url: format!("{base}/{name}"),
                    folder: None,
                }
            }
        }
    }

    /// One integer from a query (`$1` bound to `arg`), for checking tables directly.
    pub async fn count(&self, sql: &'static str, arg: Uuid) -> i64 {
        on_pool!(&self.url, |pool| sqlx::query(sql)
            .bind(arg)
            .fetch_one(&pool)
            .await
            .expect("query")
            .get::<i64, _>(0))
    }

    /// One tally of a site as analysts get it (`survey_server::site_totals`), which adds up the
    /// site document and every device's tally documents.
    pub async fn site_total(&self, site: Uuid, metric: &str) -> i64 {
        let storage = survey_server::storage::connect(&self.url)
            .await
            .expect("connect storage");
        let dataset: Uuid = on_pool!(&self.url, |pool| sqlx::query(
            "SELECT dataset FROM documents WHERE id = $1"
        )
        .bind(site)
        .fetch_one(&pool)
        .await
        .expect("query")
        .get(0));
        let totals = survey_server::site_totals::site_totals(storage.as_ref(), dataset)
            .await
            .expect("site totals");
        totals
            .iter()
            .find(|t| t.document == site)
            .and_then(|t| t.tallies.get(metric))
            .copied()
            .unwrap_or_else(|| panic!("site {site} has no tally {metric:?}"))
    }

    /// Runs one statement (`$1` bound to `arg`), for a state no API call makes (a token past
    /// its expiry).
    pub async fn execute(&self, sql: &'static str, arg: Uuid) {
        on_pool!(&self.url, |pool| {
            sqlx::query(sql)
                .bind(arg)
                .execute(&pool)
                .await
                .expect("statement");
        })
    }

    /// One byte string from a query (`$1` bound to `arg`).
    pub async fn bytes(&self, sql: &'static str, arg: Uuid) -> Vec<u8> {
        on_pool!(&self.url, |pool| sqlx::query(sql)
            .bind(arg)
            .fetch_one(&pool)
            .await
            .expect("query")
            .get(0))
    }

    /// Every stored document: id and Automerge bytes.
    pub async fn documents(&self) -> Vec<(Uuid, Vec<u8>)> {
        on_pool!(&self.url, |pool| sqlx::query(
            "SELECT id, bytes FROM documents ORDER BY id"
        )
        .fetch_all(&pool)
        .await
        .expect("query")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
    }
}

/// One value of one column of one row: a blob as stored, anything else as its text.
pub struct Cell {
    pub table: String,
    pub column: String,
    pub bytes: Vec<u8>,
}

impl TestDb {
    /// Every non-NULL value of every column of every table (the migrations' bookkeeping
    /// included), for privacy tests that must find something nowhere.
    pub async fn dump(&self) -> Vec<Cell> {
        on_pool!(&self.url, |pool| sqlite: dump_sqlite(&pool).await, postgres: dump_postgres(&pool).await)
    }

    /// `table.column` of every value that holds `needle`.
    pub async fn places_holding(&self, needle: &[u8]) -> Vec<String> {
        self.dump()
            .await
            .into_iter()
            .filter(|cell| contains(&cell.bytes, needle))
            .map(|cell| format!("{}.{}", cell.table, cell.column))
            .collect()
    }

    /// The SQLite database's files (the database, its write-ahead log), whose free pages may
    /// still hold what no table shows; none for PostgreSQL.
    pub fn sqlite_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let Some(folder) = &self.folder else {
            return Vec::new();
        };
        std::fs::read_dir(folder)
            .expect("database folder")
            .map(|entry| entry.expect("folder entry").path())
            .map(|path| {
                let bytes = std::fs::read(&path).expect("database file");
                (path, bytes)
            })
            .collect()
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn dump_sqlite(pool: &sqlx::SqlitePool) -> Vec<Cell> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(pool)
            .await
            .expect("tables");
    let mut cells = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(&table)
            .fetch_all(pool)
            .await
            .expect("columns");
        for column in columns {
            // A blob stays as stored; text and numbers become their text.
            let sql = format!("SELECT CAST({} AS BLOB) FROM {}", quoted(&column), quoted(&table));
            let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .expect("values");
            cells.extend(values.into_iter().flatten().map(|bytes| Cell {
                table: table.clone(),
                column: column.clone(),
                bytes,
            }));
        }
    }
    cells
}

async fn dump_postgres(pool: &sqlx::PgPool) -> Vec<Cell> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut cells = Vec::new();
    for (table, column, data_type) in columns {
        let bytes: Vec<Vec<u8>> = if data_type == "bytea" {
            let sql = format!("SELECT {} FROM {}", quoted(&column), quoted(&table));
            let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .expect("values");
            values.into_iter().flatten().collect()
        } else {
            let sql = format!("SELECT {}::text FROM {}", quoted(&column), quoted(&table));
            let values: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .expect("values");
            values.into_iter().flatten().map(String::into_bytes).collect()
        };
        cells.extend(bytes.into_iter().map(|bytes| Cell {
            table: table.clone(),
            column: column.clone(),
            bytes,
        }));
    }
    cells
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}
