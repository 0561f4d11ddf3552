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
    /// The PostgreSQL backend, or `None` (the test is skipped) when no cluster is configured.
    /// In CI (`CI=true`) a missing cluster fails the test instead: the suite must run there.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("SURVEY_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url.trim_end_matches('/').to_owned())),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "CI=true but SURVEY_TEST_POSTGRES_URL is not set: run the suite through scripts/with-postgres"
                )
            }
            _ => {
                eprintln!("SKIPPED: SURVEY_TEST_POSTGRES_URL is not set (run through scripts/with-postgres)");
                None
            }
        }
    }
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
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.expect("open sqlite");
            let n = sqlx::query(sql)
                .bind(arg)
                .fetch_one(&pool)
                .await
                .expect("query")
                .get::<i64, _>(0);
            pool.close().await;
            n
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.expect("open postgres");
            let n = sqlx::query(sql)
                .bind(arg)
                .fetch_one(&pool)
                .await
                .expect("query")
                .get::<i64, _>(0);
            pool.close().await;
            n
        }
    }

    /// One byte string from a query (`$1` bound to `arg`).
    pub async fn bytes(&self, sql: &'static str, arg: Uuid) -> Vec<u8> {
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.expect("open sqlite");
            let bytes = sqlx::query(sql)
                .bind(arg)
                .fetch_one(&pool)
                .await
                .expect("query")
                .get(0);
            pool.close().await;
            bytes
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.expect("open postgres");
            let bytes = sqlx::query(sql)
                .bind(arg)
                .fetch_one(&pool)
                .await
                .expect("query")
                .get(0);
            pool.close().await;
            bytes
        }
    }

    /// Every stored document: id and Automerge bytes.
    pub async fn documents(&self) -> Vec<(Uuid, Vec<u8>)> {
        let sql = "SELECT id, bytes FROM documents ORDER BY id";
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url).await.expect("open sqlite");
            let rows = sqlx::query(sql).fetch_all(&pool).await.expect("query");
            let out = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            pool.close().await;
            out
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.expect("open postgres");
            let rows = sqlx::query(sql).fetch_all(&pool).await.expect("query");
            let out = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            pool.close().await;
            out
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}
