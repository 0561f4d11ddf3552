//! The SQL of deleting what was collected: withdrawing one response. Written once for both
//! backends and stamped out per backend by [`deletion_queries`] as a module `deletion` beside
//! the `Storage` implementation, like `access.rs`.

macro_rules! deletion_queries {
    ($db:ty, $begin:expr) => {
        mod deletion {
            use std::collections::HashSet;

            use sqlx::Row as _;
            use uuid::Uuid;

            use super::{audit_in, of_documents};
            use $crate::storage::{AuditEntry, Withdrawal};
            use $crate::{ApiError, Result};

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
                    Some(_) => return Err(ApiError::NotFound("response".into())),
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
                    return Err(ApiError::NotFound("response".into()));
                }
                for statement in [
                    "DELETE FROM answers WHERE document = $1",
                    "DELETE FROM responses WHERE document = $1",
                    "DELETE FROM conflicts WHERE document = $1",
                    "DELETE FROM doc_actors WHERE document = $1",
                    "DELETE FROM quarantine WHERE document = $1",
                ] {
                    sqlx::query(statement).bind(withdrawal.document).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO withdrawn (document, dataset, withdrawn_on) VALUES ($1, $2, $3)")
                    .bind(withdrawal.document)
                    .bind(withdrawal.dataset)
                    .bind(withdrawal.day.to_string())
                    .execute(&mut *tx)
                    .await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
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
