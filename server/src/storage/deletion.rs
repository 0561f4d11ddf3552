//! The SQL of deleting what was collected (reviews of it included): withdrawing one response,
//! purging the responses a dataset's retention has expired, purging a dataset. Written once for both
//! backends and stamped out per backend by [`deletion_queries`] as a module `deletion` beside
//! the `Storage` implementation, like `access.rs`.

macro_rules! deletion_queries {
    ($db:ty, $begin:expr) => {
        mod deletion {
            use std::collections::HashSet;

            use sqlx::Row as _;
            use uuid::Uuid;

            use super::{audit_in, of_documents};
            use $crate::secret::SecretHash;
            use $crate::storage::{AuditEntry, Withdrawal};
            use $crate::storage::{Error, Result};

            type Pool = sqlx::Pool<$db>;

            pub async fn withdraw_response(
                writer: &Pool,
                withdrawal: &Withdrawal,
                audit: &AuditEntry,
            ) -> Result<bool> {
                let mut tx = writer.begin_with($begin).await?;
                let tombstone: Option<Uuid> = sqlx::query_scalar("SELECT dataset FROM withdrawn WHERE document = $1")
                    .bind(withdrawal.document)
                    .fetch_optional(&mut *tx)
                    .await?;
                match tombstone {
                    Some(dataset) if dataset == withdrawal.dataset => return Ok(false),
                    Some(_) => return Err(Error::NotFound("response")),
                    None => {}
                }
                // The document row goes first: on PostgreSQL the delete waits for a sync writing
                // it to commit, so the deletes below see every row that write added.
                let owner: Option<Option<Uuid>> = sqlx::query_scalar(
                    "DELETE FROM documents WHERE id = $1 AND dataset = $2 AND kind = 'response' RETURNING owner",
                )
                .bind(withdrawal.document)
                .bind(withdrawal.dataset)
                .fetch_optional(&mut *tx)
                .await?;
                // A device withdraws only what it wrote; it is not told whether others' exist.
                let allowed = match (owner, withdrawal.device) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(owner), Some(device)) => owner == Some(device),
                };
                if !allowed {
                    return Err(Error::NotFound("response"));
                }
                erase_responses_in(&mut tx, withdrawal.dataset, &[withdrawal.document], withdrawal.day).await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            pub async fn purge_submitted_before(
                writer: &Pool,
                dataset: Uuid,
                day: sync_core::Day,
                limit: i64,
                today: sync_core::Day,
                audit: &AuditEntry,
            ) -> Result<Vec<Uuid>> {
                let mut tx = writer.begin_with($begin).await?;
                // The document rows first, as a withdrawal does: a sync writing one of them
                // commits before they go, and a later one finds the tombstone.
                let purged: Vec<Uuid> = sqlx::query_scalar(
                    "DELETE FROM documents WHERE id IN (
                         SELECT document FROM responses
                         WHERE dataset = $1 AND submitted_on < $2 AND status = 'submitted'
                         LIMIT $3
                     ) RETURNING id",
                )
                .bind(dataset)
                .bind(day.to_string())
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                if purged.is_empty() {
                    return Ok(purged);
                }
                erase_responses_in(&mut tx, dataset, &purged, today).await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(purged)
            }

            /// Deletes everything but the document rows (gone already) of the responses
            /// `documents` of `dataset`, and leaves a tombstone dated `day` for each.
            async fn erase_responses_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                dataset: Uuid,
                documents: &[Uuid],
                day: sync_core::Day,
            ) -> Result<()> {
                let day = day.to_string();
                for chunk in documents.chunks($crate::storage::write::MAX_BINDS / 3) {
                    for table in [
                        "DELETE FROM answers",
                        "DELETE FROM responses",
                        "DELETE FROM conflicts",
                        "DELETE FROM doc_actors",
                        "DELETE FROM quarantine",
                        "DELETE FROM reviews",
                    ] {
                        of_documents(table, "document", chunk)
                            .build()
                            .persistent(false)
                            .execute(&mut **tx)
                            .await?;
                    }
                    let mut tombstones =
                        sqlx::QueryBuilder::<$db>::new("INSERT INTO withdrawn (document, dataset, withdrawn_on) ");
                    tombstones.push_values(chunk, |mut row, document| {
                        row.push_bind(*document).push_bind(dataset).push_bind(day.as_str());
                    });
                    tombstones.build().persistent(false).execute(&mut **tx).await?;
                }
                Ok(())
            }

            pub async fn purge_dataset(
                writer: &Pool,
                dataset: Uuid,
                day: sync_core::Day,
                audit: &AuditEntry,
            ) -> Result<u64> {
                let mut tx = writer.begin_with($begin).await?;
                let responses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses WHERE dataset = $1")
                    .bind(dataset)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO wiped_tokens (hash, wiped_on)
                     SELECT hash, $2 FROM tokens WHERE dataset = $1 AND device IS NOT NULL
                     ON CONFLICT (hash) DO NOTHING",
                )
                .bind(dataset)
                .bind(day.to_string())
                .execute(&mut *tx)
                .await?;
                // Rows that name a document of the dataset first, then the documents, then what
                // refers to the dataset row, then the row.
                for statement in [
                    "DELETE FROM answers WHERE dataset = $1",
                    "DELETE FROM responses WHERE dataset = $1",
                    "DELETE FROM site_tallies WHERE dataset = $1",
                    "DELETE FROM tally_days WHERE dataset = $1",
                    "DELETE FROM device_tallies WHERE dataset = $1",
                    "DELETE FROM site_totals WHERE dataset = $1",
                    "DELETE FROM conflicts WHERE document IN (SELECT id FROM documents WHERE dataset = $1)",
                    "DELETE FROM doc_actors WHERE document IN (SELECT id FROM documents WHERE dataset = $1)",
                    "DELETE FROM quarantine WHERE dataset = $1",
                    "DELETE FROM withdrawn WHERE dataset = $1",
                    "DELETE FROM reviews WHERE dataset = $1",
                    "DELETE FROM documents WHERE dataset = $1",
                    "DELETE FROM forms WHERE dataset = $1",
                    "DELETE FROM enrollments WHERE dataset = $1",
                    "DELETE FROM tokens WHERE dataset = $1",
                    "DELETE FROM devices WHERE dataset = $1",
                    "DELETE FROM datasets WHERE id = $1",
                ] {
                    sqlx::query(statement).bind(dataset).execute(&mut *tx).await?;
                }
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(responses as u64)
            }

            pub async fn token_wiped(pool: &Pool, hash: &SecretHash) -> Result<bool> {
                let found: Option<String> = sqlx::query_scalar("SELECT wiped_on FROM wiped_tokens WHERE hash = $1")
                    .bind(&hash.0[..])
                    .fetch_optional(pool)
                    .await?;
                Ok(found.is_some())
            }

            /// Which of `ids` were withdrawn, read on `connection` (a sync's write transaction
            /// checks again what it is about to create).
            pub async fn withdrawn(
                connection: &mut <$db as sqlx::Database>::Connection,
                ids: &[Uuid],
            ) -> Result<HashSet<Uuid>> {
                let mut found = HashSet::new();
                for chunk in ids.chunks($crate::storage::write::MAX_BINDS) {
                    let rows = of_documents("SELECT document FROM withdrawn", "document", chunk)
                        .build()
                        .persistent(false)
                        .fetch_all(&mut *connection)
                        .await?;
                    for row in &rows {
                        found.insert(row.try_get(0)?);
                    }
                }
                Ok(found)
            }
        }
    };
}

pub(super) use deletion_queries;
