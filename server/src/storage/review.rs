//! The SQL of supervisors' reviews: review documents beside responses, and each response's
//! review standing. Written once for both backends and stamped out per backend by
//! [`review_queries`] as a module `review` beside the `Storage` implementation, like
//! `deletion.rs`.

macro_rules! review_queries {
    ($db:ty, $begin:expr) => {
        mod review {
            use sqlx::Row as _;
            use uuid::Uuid;

            use super::audit_in;
            use $crate::storage::{AuditEntry, ReviewFilter, ReviewSummary, ReviewWrite, StoredReview};
            use $crate::storage::{Error, Result};

            type Pool = sqlx::Pool<$db>;

            const SUMMARY: &str = "SELECT document, form, form_version, status, area, week, device, review FROM responses";

            pub async fn review_document(pool: &Pool, response: Uuid) -> Result<Option<StoredReview>> {
                let row = sqlx::query("SELECT bytes, version FROM reviews WHERE document = $1")
                    .bind(response)
                    .fetch_optional(pool)
                    .await?;
                row.map(|row| {
                    Ok(StoredReview {
                        bytes: row.try_get(0)?,
                        version: row.try_get(1)?,
                    })
                })
                .transpose()
            }

            pub async fn save_review(writer: &Pool, write: &ReviewWrite, audit: &AuditEntry) -> Result<bool> {
                let mut tx = writer.begin_with($begin).await?;
                let response: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM documents WHERE id = $1 AND dataset = $2 AND kind = 'response'",
                )
                .bind(write.response)
                .bind(write.dataset)
                .fetch_optional(&mut *tx)
                .await?;
                if response.is_none() {
                    return Err(Error::NotFound("response"));
                }
                let stored = match write.base_version {
                    None => sqlx::query(
                        "INSERT INTO reviews (document, dataset, bytes, version) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (document) DO NOTHING",
                    )
                    .bind(write.response)
                    .bind(write.dataset)
                    .bind(&write.bytes)
                    .bind(write.version)
                    .execute(&mut *tx)
                    .await?,
                    Some(base) => sqlx::query("UPDATE reviews SET bytes = $1, version = $2 WHERE document = $3 AND version = $4")
                        .bind(&write.bytes)
                        .bind(write.version)
                        .bind(write.response)
                        .bind(base)
                        .execute(&mut *tx)
                        .await?,
                };
                if stored.rows_affected() == 0 {
                    return Ok(false);
                }
                // One statement, so a phone's edit committing beside it either came first (the
                // version moved: the review did not see it) or rewrites the row after it.
                sqlx::query(
                    "UPDATE responses SET review = CASE
                         WHEN (SELECT version FROM documents WHERE id = $1) = $2 THEN $3 ELSE 'pending' END
                     WHERE document = $1",
                )
                .bind(write.response)
                .bind(write.response_version)
                .bind(write.state)
                .execute(&mut *tx)
                .await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            pub async fn reviews(pool: &Pool, dataset: Uuid, filter: &ReviewFilter) -> Result<Vec<ReviewSummary>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(SUMMARY);
                query.push(" WHERE dataset = ").push_bind(dataset);
                query.push(" AND status = 'submitted' AND review = ").push_bind(filter.state);
                if let Some(form) = &filter.form {
                    query.push(" AND form = ").push_bind(form.clone());
                }
                if let Some(after) = filter.after {
                    query.push(" AND document > ").push_bind(after);
                }
                query.push(" ORDER BY document LIMIT ").push_bind(filter.limit);
                let rows = query.build().fetch_all(pool).await?;
                rows.iter().map(summary).collect()
            }

            pub async fn review_summary(pool: &Pool, dataset: Uuid, response: Uuid) -> Result<Option<ReviewSummary>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(SUMMARY);
                query.push(" WHERE document = ").push_bind(response);
                query.push(" AND dataset = ").push_bind(dataset);
                let row = query.build().fetch_optional(pool).await?;
                row.as_ref().map(summary).transpose()
            }

            fn summary(row: &<$db as sqlx::Database>::Row) -> Result<ReviewSummary> {
                Ok(ReviewSummary {
                    id: row.try_get("document")?,
                    form: row.try_get("form")?,
                    form_version: row.try_get("form_version")?,
                    status: row.try_get("status")?,
                    area: row.try_get("area")?,
                    week: row.try_get("week")?,
                    device: row.try_get("device")?,
                    review: row.try_get("review")?,
                })
            }
        }
    };
}

pub(super) use review_queries;
