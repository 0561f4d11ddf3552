use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::Result;
use super::sql::impl_storage;

/// The scale backend: any number of server replicas share one database. Concurrent writers
/// of one document are kept apart by the optimistic `version` check in `save_documents`.
/// Writers and readers share one pool: PostgreSQL runs write transactions side by side.
pub struct PostgresStorage {
    pool: PgPool,
    writer: PgPool,
}

impl PostgresStorage {
    pub async fn connect(url: &str) -> Result<PostgresStorage> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        // sqlx takes an advisory lock while migrating, so replicas starting together are safe.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PostgresStorage {
            writer: pool.clone(),
            pool,
        })
    }
}

impl_storage!(
    PostgresStorage,
    sqlx::Postgres,
    "BEGIN",
    "SELECT epoch FROM datasets WHERE id = $1 FOR SHARE"
);
