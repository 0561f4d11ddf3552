//! The SQL of who may call the server: tokens, enrollment, devices and the audit log, written
//! once for both backends like the rest of `sql.rs`, and stamped out per backend by
//! [`access_queries`] as a module `access` beside the `Storage` implementation, which calls
//! into it.
//!
//! Days are stored as `YYYY-MM-DD` text (UTC) and expiries as unix seconds at midnight UTC: no
//! record here says at what time of day a phone enrolled or synced.

macro_rules! access_queries {
    ($db:ty, $begin:expr) => {
        mod access {
            use sqlx::Row as _;
            use uuid::Uuid;

            use super::audit_in;
            use $crate::storage::Result;
            use $crate::secret::SecretHash;
            use $crate::storage::{
                AuditEntry, AuditRecord, DeviceEnrollment, DeviceStatus, DeviceSummary, Enrolled, NewEnrollment,
                NewToken, Role, TokenRecord, TokenSummary, day_of,
            };

            type Pool = sqlx::Pool<$db>;

            pub async fn create_token(writer: &Pool, token: &NewToken, audit: &AuditEntry) -> Result<()> {
                let mut tx = writer.begin_with($begin).await?;
                insert_token(&mut tx, token, None).await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_token(
                tx: &mut sqlx::Transaction<'static, $db>,
                token: &NewToken,
                device: Option<Uuid>,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO tokens (hash, id, role, dataset, device, name, created_on, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&token.hash.0[..])
                .bind(token.id)
                .bind(token.role.as_str())
                .bind(token.dataset)
                .bind(device)
                .bind(&token.name)
                .bind(token.created_on.to_string())
                .bind(token.expires_at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// A revoked device revokes every token it holds; `wipe` is the device's.
            pub async fn token(pool: &Pool, hash: &SecretHash) -> Result<Option<TokenRecord>> {
                let row = sqlx::query(
                    "SELECT t.id, t.role, t.dataset, t.name, t.expires_at, t.revoked_on IS NOT NULL,
                            t.last_used_on, t.device, d.revoked_on IS NOT NULL, d.wipe, d.last_sync_on
                     FROM tokens t LEFT JOIN devices d ON d.id = t.device
                     WHERE t.hash = $1",
                )
                .bind(&hash.0[..])
                .fetch_optional(pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let device = match row.try_get::<Option<Uuid>, _>(7)? {
                    Some(id) => Some(DeviceStatus {
                        id,
                        revoked: row.try_get::<Option<bool>, _>(8)?.unwrap_or(false),
                        wipe: row.try_get::<Option<bool>, _>(9)?.unwrap_or(false),
                        last_sync_on: row.try_get(10)?,
                    }),
                    None => None,
                };
                Ok(Some(TokenRecord {
                    id: row.try_get(0)?,
                    role: Role::parse(row.try_get::<&str, _>(1)?)?,
                    dataset: row.try_get(2)?,
                    name: row.try_get(3)?,
                    expires_at: row.try_get(4)?,
                    revoked: row.try_get(5)?,
                    last_used_on: row.try_get(6)?,
                    device,
                }))
            }

            const TOKEN_SUMMARY: &str = "SELECT t.id, t.name, t.role, t.dataset, t.device, t.created_on, t.expires_at,
                    COALESCE(t.revoked_on, d.revoked_on), t.last_used_on
                 FROM tokens t LEFT JOIN devices d ON d.id = t.device";

            pub async fn tokens(pool: &Pool, dataset: Option<Uuid>) -> Result<Vec<TokenSummary>> {
                let rows = match dataset {
                    Some(dataset) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "{TOKEN_SUMMARY} WHERE t.dataset = $1 ORDER BY t.created_on DESC, t.name, t.id"
                        )))
                        .bind(dataset)
                        .fetch_all(pool)
                        .await?
                    }
                    None => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "{TOKEN_SUMMARY} ORDER BY t.created_on DESC, t.name, t.id"
                        )))
                        .fetch_all(pool)
                        .await?
                    }
                };
                rows.iter().map(token_summary).collect()
            }

            pub async fn token_by_id(pool: &Pool, id: Uuid) -> Result<Option<TokenSummary>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{TOKEN_SUMMARY} WHERE t.id = $1")))
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
                row.as_ref().map(token_summary).transpose()
            }

            fn token_summary(row: &<$db as sqlx::Database>::Row) -> Result<TokenSummary> {
                Ok(TokenSummary {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    role: Role::parse(row.try_get::<&str, _>(2)?)?,
                    dataset: row.try_get(3)?,
                    device: row.try_get(4)?,
                    created_on: row.try_get(5)?,
                    expires_on: day_of(row.try_get(6)?),
                    revoked_on: row.try_get(7)?,
                    last_used_on: row.try_get(8)?,
                })
            }

            /// Keeps the first revocation's day when revoked again.
            pub async fn revoke_token(writer: &Pool, id: Uuid, day: sync_core::Day, audit: &AuditEntry) -> Result<()> {
                let mut tx = writer.begin_with($begin).await?;
                sqlx::query("UPDATE tokens SET revoked_on = COALESCE(revoked_on, $1) WHERE id = $2")
                    .bind(day.to_string())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub async fn record_usage(
                writer: &Pool,
                tokens: &[Uuid],
                devices: &[Uuid],
                day: sync_core::Day,
            ) -> Result<()> {
                let day = day.to_string();
                let mut tx = writer.begin_with($begin).await?;
                for (update, ids) in [
                    ("UPDATE tokens SET last_used_on = ", tokens),
                    ("UPDATE devices SET last_sync_on = ", devices),
                ] {
                    for chunk in ids.chunks($crate::storage::write::MAX_BINDS) {
                        let mut builder = sqlx::QueryBuilder::<$db>::new(update);
                        builder.push_bind(&day);
                        builder.push(" WHERE id IN (");
                        let mut binds = builder.separated(", ");
                        for id in chunk {
                            binds.push_bind(*id);
                        }
                        builder.push(")");
                        builder.build().persistent(false).execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            pub async fn create_enrollment(
                writer: &Pool,
                enrollment: &NewEnrollment,
                audit: &AuditEntry,
            ) -> Result<()> {
                let mut tx = writer.begin_with($begin).await?;
                sqlx::query(
                    "INSERT INTO enrollments (code_hash, dataset, label, uses_left, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&enrollment.code.0[..])
                .bind(enrollment.dataset)
                .bind(&enrollment.label)
                .bind(enrollment.uses)
                .bind(enrollment.expires_at)
                .execute(&mut *tx)
                .await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub async fn enrollment_dataset(pool: &Pool, code: &SecretHash, now: i64) -> Result<Option<Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT dataset FROM enrollments WHERE code_hash = $1 AND uses_left > 0 AND expires_at > $2",
                )
                .bind(&code.0[..])
                .bind(now)
                .fetch_optional(pool)
                .await?)
            }

            pub async fn enroll_device(
                writer: &Pool,
                code: &SecretHash,
                now: i64,
                enrollment: &DeviceEnrollment,
            ) -> Result<Option<Enrolled>> {
                let mut tx = writer.begin_with($begin).await?;
                // Taking a use is the first write, so concurrent enrollments cannot overspend.
                let row = sqlx::query(
                    "UPDATE enrollments SET uses_left = uses_left - 1
                     WHERE code_hash = $1 AND uses_left > 0 AND expires_at > $2
                     RETURNING dataset, label",
                )
                .bind(&code.0[..])
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let dataset: Uuid = row.try_get(0)?;
                let code_label: String = row.try_get(1)?;
                let epoch: i64 = sqlx::query_scalar("SELECT epoch FROM datasets WHERE id = $1")
                    .bind(dataset)
                    .fetch_one(&mut *tx)
                    .await?;
                let label = if enrollment.renewal {
                    // Checked again here: a revocation may have landed since the handler looked.
                    sqlx::query_scalar::<_, String>(
                        "SELECT label FROM devices WHERE id = $1 AND dataset = $2 AND revoked_on IS NULL",
                    )
                    .bind(enrollment.device)
                    .bind(dataset)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or($crate::storage::Error::DeviceRevoked)?
                } else {
                    sqlx::query(
                        "INSERT INTO devices (id, dataset, label, epoch, enrolled_on) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(enrollment.device)
                    .bind(dataset)
                    .bind(&code_label)
                    .bind(epoch)
                    .bind(enrollment.token.created_on.to_string())
                    .execute(&mut *tx)
                    .await?;
                    code_label
                };
                let token = NewToken {
                    dataset: Some(dataset),
                    name: label,
                    ..enrollment.token.clone()
                };
                insert_token(&mut tx, &token, Some(enrollment.device)).await?;
                tx.commit().await?;
                Ok(Some(Enrolled {
                    device_id: enrollment.device,
                    dataset,
                    epoch,
                }))
            }

            /// Devices by label; `documents` counts the responses each wrote first, read from
            /// the dataset's range of responses in one pass.
            pub async fn devices(pool: &Pool, dataset: Uuid) -> Result<Vec<DeviceSummary>> {
                let counted = sqlx::query(
                    "SELECT owner, COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'response' GROUP BY owner",
                )
                .bind(dataset)
                .fetch_all(pool)
                .await?;
                let mut documents = std::collections::HashMap::new();
                for row in &counted {
                    if let Some(owner) = row.try_get::<Option<Uuid>, _>(0)? {
                        documents.insert(owner, row.try_get::<i64, _>(1)?);
                    }
                }
                let rows = sqlx::query(
                    "SELECT id, label, enrolled_on, last_sync_on, revoked_on, wipe
                     FROM devices WHERE dataset = $1 ORDER BY label, id",
                )
                .bind(dataset)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let id: Uuid = row.try_get(0)?;
                        Ok(DeviceSummary {
                            id,
                            label: row.try_get(1)?,
                            enrolled_on: row.try_get(2)?,
                            last_sync_on: row.try_get(3)?,
                            revoked_on: row.try_get(4)?,
                            wipe: row.try_get(5)?,
                            documents: documents.get(&id).copied().unwrap_or(0),
                        })
                    })
                    .collect()
            }

            pub async fn device_dataset(pool: &Pool, id: Uuid) -> Result<Option<Uuid>> {
                Ok(sqlx::query_scalar("SELECT dataset FROM devices WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?)
            }

            /// Keeps the first revocation's day; a wipe, once asked for, stays asked for.
            pub async fn revoke_device(
                writer: &Pool,
                id: Uuid,
                wipe: bool,
                day: sync_core::Day,
                audit: &AuditEntry,
            ) -> Result<()> {
                let mut tx = writer.begin_with($begin).await?;
                sqlx::query(
                    "UPDATE devices SET revoked_on = COALESCE(revoked_on, $1), wipe = (wipe OR $2) WHERE id = $3",
                )
                .bind(day.to_string())
                .bind(wipe)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            pub async fn audit_log(pool: &Pool, dataset: Option<Uuid>, limit: i64) -> Result<Vec<AuditRecord>> {
                const COLUMNS: &str = "SELECT actor_name, actor_role, action, dataset, at FROM audit_log";
                let rows = match dataset {
                    Some(dataset) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "{COLUMNS} WHERE dataset = $1 ORDER BY id DESC LIMIT $2"
                        )))
                        .bind(dataset)
                        .bind(limit)
                        .fetch_all(pool)
                        .await?
                    }
                    None => {
                        sqlx::query(sqlx::AssertSqlSafe(format!("{COLUMNS} ORDER BY id DESC LIMIT $1")))
                            .bind(limit)
                            .fetch_all(pool)
                            .await?
                    }
                };
                rows.iter()
                    .map(|row| {
                        Ok(AuditRecord {
                            actor: row.try_get(0)?,
                            role: row.try_get(1)?,
                            action: row.try_get(2)?,
                            dataset: row.try_get(3)?,
                            day: day_of(row.try_get(4)?),
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(super) use access_queries;
