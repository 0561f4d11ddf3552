//! The SQL of every use case, written once for both backends. sqlx checks queries at run time
//! here (one binary carries two drivers), and both SQLite and PostgreSQL accept the same
//! statements: `$n` parameters, `ON CONFLICT … DO NOTHING`, `RETURNING`. The macro stamps the
//! [`Storage`](super::Storage) implementation out for each pool type; `$begin` is the statement
//! that opens a write transaction (SQLite takes its write lock up front with
//! `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of failing; write
//! transactions come from `writer`, reads from `pool`), and
//! `$epoch` reads a dataset's epoch inside a sync write so that a concurrent reset cannot slip
//! between (PostgreSQL needs `FOR SHARE` for that; SQLite already holds the write lock).

macro_rules! impl_storage {
    ($storage:ty, $db:ty, $begin:expr, $epoch:expr) => {
        #[async_trait::async_trait]
        impl $crate::storage::Storage for $storage {
            async fn create_dataset(
                &self,
                dataset: &$crate::storage::Dataset,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.writer.begin_with($begin).await?;
                sqlx::query(
                    "INSERT INTO datasets (id, name, mode, k, epoch, retention_days, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(dataset.id)
                .bind(&dataset.name)
                .bind(dataset.mode.as_str())
                .bind(dataset.k)
                .bind(dataset.epoch)
                .bind(dataset.retention_days)
                .bind($crate::clock::unix_now())
                .execute(&mut *tx)
                .await?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn datasets(&self) -> $crate::storage::Result<Vec<$crate::storage::Dataset>> {
                let rows = sqlx::query("SELECT id, name, mode, k, epoch, retention_days FROM datasets ORDER BY name, id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(dataset_from_row).collect()
            }

            async fn dataset(&self, id: uuid::Uuid) -> $crate::storage::Result<Option<$crate::storage::Dataset>> {
                let row = sqlx::query("SELECT id, name, mode, k, epoch, retention_days FROM datasets WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(dataset_from_row).transpose()
            }

            async fn dataset_by_name(
                &self,
                name: &str,
                mode: $crate::storage::Mode,
            ) -> $crate::storage::Result<Option<$crate::storage::Dataset>> {
                let row = sqlx::query(
                    "SELECT id, name, mode, k, epoch, retention_days FROM datasets WHERE name = $1 AND mode = $2 ORDER BY id LIMIT 1",
                )
                .bind(name)
                .bind(mode.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(dataset_from_row).transpose()
            }

            async fn set_retention(
                &self,
                dataset: uuid::Uuid,
                days: Option<i64>,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<Option<$crate::storage::Dataset>> {
                let mut tx = self.writer.begin_with($begin).await?;
                let row = sqlx::query(
                    "UPDATE datasets SET retention_days = $2 WHERE id = $1
                     RETURNING id, name, mode, k, epoch, retention_days",
                )
                .bind(dataset)
                .bind(days)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let updated = dataset_from_row(&row)?;
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(Some(updated))
            }

            async fn publish_form(
                &self,
                form: &$crate::storage::PublishedForm,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.writer.begin_with($begin).await?;
                // One statement checks and inserts, so two publishers cannot both win.
                let inserted = sqlx::query(
                    "INSERT INTO forms (dataset, form, version, definition, document)
                     SELECT $1, $2, $3, $4, $5
                     WHERE NOT EXISTS (SELECT 1 FROM forms WHERE dataset = $1 AND form = $2 AND version >= $3)",
                )
                .bind(form.dataset)
                .bind(&form.form)
                .bind(form.version)
                .bind(&form.definition)
                .bind(form.document.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Err($crate::storage::Error::VersionExists {
                        form: form.form.clone(),
                        version: form.version,
                    });
                }
                sqlx::query(
                    "INSERT INTO documents (id, dataset, kind, owner, heads, bytes, version)
                     VALUES ($1, $2, 'form', NULL, $3, $4, 1)",
                )
                .bind(form.document.id)
                .bind(form.dataset)
                .bind(&form.document.heads)
                .bind(&form.document.bytes)
                .execute(&mut *tx)
                .await?;
                for actor in &form.document.actors {
                    sqlx::query("INSERT INTO doc_actors (actor, document) VALUES ($1, $2)")
                        .bind(actor)
                        .bind(form.document.id)
                        .execute(&mut *tx)
                        .await?;
                }
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn latest_forms(&self, dataset: uuid::Uuid) -> $crate::storage::Result<Vec<String>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT f.definition FROM forms f
                     WHERE f.dataset = $1
                       AND f.version = (SELECT MAX(g.version) FROM forms g WHERE g.dataset = f.dataset AND g.form = f.form)
                     ORDER BY f.form",
                )
                .bind(dataset)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<_, _>>()?)
            }

            async fn form_versions(&self, dataset: uuid::Uuid) -> $crate::storage::Result<Vec<$crate::storage::FormVersion>> {
                use sqlx::Row as _;
                let rows = sqlx::query("SELECT definition FROM forms WHERE dataset = $1 ORDER BY form, version DESC")
                    .bind(dataset)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        let form = sync_core::Form::from_published(row.try_get::<&str, _>(0)?)
                            .map_err(|e| $crate::storage::Error::Corrupt(format!("stored form: {e}")))?;
                        Ok($crate::storage::FormVersion {
                            questions: form.questions.len(),
                            form: form.id,
                            version: form.version,
                            title: form.title,
                        })
                    })
                    .collect()
            }

            async fn form_definition(
                &self,
                dataset: uuid::Uuid,
                form: &str,
                version: i64,
            ) -> $crate::storage::Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT definition FROM forms WHERE dataset = $1 AND form = $2 AND version = $3",
                )
                .bind(dataset)
                .bind(form)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn create_token(
                &self,
                token: &$crate::storage::NewToken,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<()> {
                access::create_token(&self.writer, token, audit).await
            }

            async fn token(
                &self,
                hash: &$crate::secret::SecretHash,
            ) -> $crate::storage::Result<Option<$crate::storage::TokenRecord>> {
                access::token(&self.pool, hash).await
            }

            async fn tokens(&self, dataset: Option<uuid::Uuid>) -> $crate::storage::Result<Vec<$crate::storage::TokenSummary>> {
                access::tokens(&self.pool, dataset).await
            }

            async fn token_by_id(&self, id: uuid::Uuid) -> $crate::storage::Result<Option<$crate::storage::TokenSummary>> {
                access::token_by_id(&self.pool, id).await
            }

            async fn revoke_token(
                &self,
                id: uuid::Uuid,
                day: sync_core::Day,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<()> {
                access::revoke_token(&self.writer, id, day, audit).await
            }

            async fn record_usage(
                &self,
                tokens: &[uuid::Uuid],
                devices: &[uuid::Uuid],
                day: sync_core::Day,
            ) -> $crate::storage::Result<()> {
                access::record_usage(&self.writer, tokens, devices, day).await
            }

            async fn create_enrollment(
                &self,
                enrollment: &$crate::storage::NewEnrollment,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<()> {
                access::create_enrollment(&self.writer, enrollment, audit).await
            }

            async fn enrollment_dataset(
                &self,
                code: &$crate::secret::SecretHash,
                now: i64,
            ) -> $crate::storage::Result<Option<uuid::Uuid>> {
                access::enrollment_dataset(&self.pool, code, now).await
            }

            async fn enroll_device(
                &self,
                code: &$crate::secret::SecretHash,
                now: i64,
                enrollment: &$crate::storage::DeviceEnrollment,
            ) -> $crate::storage::Result<Option<$crate::storage::Enrolled>> {
                access::enroll_device(&self.writer, code, now, enrollment).await
            }

            async fn devices(&self, dataset: uuid::Uuid) -> $crate::storage::Result<Vec<$crate::storage::DeviceSummary>> {
                access::devices(&self.pool, dataset).await
            }

            async fn device_dataset(&self, id: uuid::Uuid) -> $crate::storage::Result<Option<uuid::Uuid>> {
                access::device_dataset(&self.pool, id).await
            }

            async fn revoke_device(
                &self,
                id: uuid::Uuid,
                wipe: bool,
                day: sync_core::Day,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<()> {
                access::revoke_device(&self.writer, id, wipe, day, audit).await
            }

            async fn audit_log(
                &self,
                dataset: Option<uuid::Uuid>,
                limit: i64,
            ) -> $crate::storage::Result<Vec<$crate::storage::AuditRecord>> {
                access::audit_log(&self.pool, dataset, limit).await
            }

            async fn documents(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::storage::Result<std::collections::HashMap<uuid::Uuid, $crate::storage::StoredDocument>> {
                use sqlx::Row as _;
                let mut found = std::collections::HashMap::with_capacity(ids.len());
                for chunk in ids.chunks($crate::storage::write::MAX_BINDS) {
                    let rows = of_documents(
                        "SELECT id, dataset, kind, owner, heads, bytes, version FROM documents",
                        "id",
                        chunk,
                    )
                    .build()
                    .persistent(false)
                    .fetch_all(&self.pool)
                    .await?;
                    for row in &rows {
                        let document = $crate::storage::StoredDocument {
                            dataset: row.try_get(1)?,
                            kind: $crate::storage::parse_kind(row.try_get::<&str, _>(2)?)?,
                            owner: row.try_get(3)?,
                            heads: row.try_get(4)?,
                            bytes: row.try_get(5)?,
                            version: row.try_get(6)?,
                        };
                        found.insert(row.try_get(0)?, document);
                    }
                }
                Ok(found)
            }

            async fn document_versions(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::storage::Result<std::collections::HashMap<uuid::Uuid, i64>> {
                use sqlx::Row as _;
                let mut found = std::collections::HashMap::with_capacity(ids.len());
                for chunk in ids.chunks($crate::storage::write::MAX_BINDS) {
                    let rows = of_documents("SELECT id, version FROM documents", "id", chunk)
                        .build()
                        .persistent(false)
                        .fetch_all(&self.pool)
                        .await?;
                    for row in &rows {
                        found.insert(row.try_get(0)?, row.try_get(1)?);
                    }
                }
                Ok(found)
            }

            async fn save_batches(
                &self,
                batches: &[$crate::storage::WriteBatch<'_>],
            ) -> $crate::storage::Result<Vec<$crate::storage::BatchOutcome>> {
                use $crate::storage::BatchOutcome;
                let mut tx = self.writer.begin_with($begin).await?;
                // The epochs first, like a reset takes the dataset row before the documents:
                // if a reset committed first we see its epoch here; if it comes later it waits
                // for this commit, then deletes what was written.
                let mut epochs = std::collections::HashMap::new();
                let mut moved = Vec::with_capacity(batches.len());
                for batch in batches {
                    let Some(dataset) = batch.writes.first().map(|w| w.dataset) else {
                        moved.push(false);
                        continue;
                    };
                    if !epochs.contains_key(&dataset) {
                        let current: Option<i64> = sqlx::query_scalar($epoch)
                            .bind(dataset)
                            .fetch_optional(&mut *tx)
                            .await?;
                        epochs.insert(dataset, current);
                    }
                    moved.push(epochs[&dataset] != Some(batch.epoch));
                }
                let kept: Vec<&[$crate::storage::DocumentWrite]> = batches
                    .iter()
                    .zip(&moved)
                    .filter(|(_, moved)| !**moved)
                    .map(|(batch, _)| batch.writes)
                    .collect();
                let mut written = write_batches_in(&mut tx, &kept).await?.into_iter();
                let outcomes = moved
                    .iter()
                    .map(|&moved| if moved { Some(BatchOutcome::EpochMoved) } else { written.next() })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| $crate::storage::Error::Corrupt("a batch was written without an outcome".into()))?;
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn shared_documents(
                &self,
                dataset: uuid::Uuid,
            ) -> $crate::storage::Result<Vec<$crate::storage::DocumentSummary>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT id, kind, CAST(length(bytes) AS BIGINT) FROM documents
                     WHERE dataset = $1 AND kind IN ('form', 'site') ORDER BY id",
                )
                .bind(dataset)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::storage::DocumentSummary {
                            id: row.try_get(0)?,
                            kind: $crate::storage::parse_kind(row.try_get::<&str, _>(1)?)?,
                            size: row.try_get(2)?,
                        })
                    })
                    .collect()
            }

            async fn site_metrics(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::storage::Result<std::collections::HashMap<uuid::Uuid, $crate::storage::SiteMetrics>> {
                use sqlx::Row as _;
                let mut found: std::collections::HashMap<uuid::Uuid, $crate::storage::SiteMetrics> =
                    std::collections::HashMap::new();
                for chunk in ids.chunks($crate::storage::write::MAX_BINDS) {
                    let rows = of_documents("SELECT document, dataset, metric FROM site_tallies", "document", chunk)
                        .build()
                        .persistent(false)
                        .fetch_all(&self.pool)
                        .await?;
                    for row in &rows {
                        let dataset = row.try_get(1)?;
                        found
                            .entry(row.try_get(0)?)
                            .or_insert_with(|| $crate::storage::SiteMetrics {
                                dataset,
                                metrics: Vec::new(),
                            })
                            .metrics
                            .push(row.try_get(2)?);
                    }
                }
                for site in found.values_mut() {
                    site.metrics.sort();
                }
                Ok(found)
            }

            async fn site_totals(&self, dataset: uuid::Uuid) -> $crate::storage::Result<Vec<$crate::storage::SiteTotal>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT t.document, t.site, t.metric, t.total - COALESCE(s.folded, 0) + COALESCE(s.devices, 0)
                     FROM site_tallies t LEFT JOIN site_totals s ON s.site = t.document AND s.metric = t.metric
                     WHERE t.dataset = $1 ORDER BY t.site, t.document, t.metric",
                )
                .bind(dataset)
                .fetch_all(&self.pool)
                .await?;
                let mut totals: Vec<$crate::storage::SiteTotal> = Vec::new();
                for row in &rows {
                    let document: uuid::Uuid = row.try_get(0)?;
                    if totals.last().is_none_or(|t| t.document != document) {
                        totals.push($crate::storage::SiteTotal {
                            document,
                            site: row.try_get(1)?,
                            tallies: std::collections::BTreeMap::new(),
                        });
                    }
                    if let Some(site) = totals.last_mut() {
                        site.tallies.insert(row.try_get(2)?, row.try_get(3)?);
                    }
                }
                Ok(totals)
            }

            async fn device_tallies(&self, device: uuid::Uuid) -> $crate::storage::Result<Vec<(uuid::Uuid, String, i64)>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT site, metric, CAST(SUM(total) AS BIGINT) FROM device_tallies WHERE device = $1 GROUP BY site, metric",
                )
                .bind(device)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
                    .collect()
            }

            async fn sites_to_fold(&self, dataset: uuid::Uuid) -> $crate::storage::Result<Vec<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT DISTINCT site FROM site_totals WHERE dataset = $1 AND devices <> folded ORDER BY site",
                )
                .bind(dataset)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn fold_state(&self, site: uuid::Uuid) -> $crate::storage::Result<Vec<$crate::storage::FoldState>> {
                use sqlx::Row as _;
                let rows = sqlx::query("SELECT metric, devices, folded FROM site_totals WHERE site = $1 ORDER BY metric")
                    .bind(site)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::storage::FoldState {
                            metric: row.try_get(0)?,
                            devices: row.try_get(1)?,
                            folded: row.try_get(2)?,
                        })
                    })
                    .collect()
            }

            async fn quarantine(&self, entry: &$crate::storage::QuarantineEntry) -> $crate::storage::Result<()> {
                let payload = entry.payload.as_ref();
                sqlx::query(
                    "INSERT INTO quarantine (id, dataset, device, document, code, size, sha256, message, raw, received_on)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(entry.id)
                .bind(entry.dataset)
                .bind(entry.device)
                .bind(entry.document)
                .bind(&entry.code)
                .bind(entry.size)
                .bind(&entry.sha256[..])
                .bind(payload.map(|p| p.message.as_str()))
                .bind(payload.map(|p| p.raw.as_slice()))
                .bind(entry.received_on.to_string())
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn quarantined(
                &self,
                dataset: uuid::Uuid,
            ) -> $crate::storage::Result<Vec<$crate::storage::QuarantineSummary>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT id, device, document, code, size, sha256, message, raw IS NOT NULL, received_on
                     FROM quarantine WHERE dataset = $1 ORDER BY received_on, id",
                )
                .bind(dataset)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::storage::QuarantineSummary {
                            id: row.try_get(0)?,
                            device: row.try_get(1)?,
                            document: row.try_get(2)?,
                            code: row.try_get(3)?,
                            size: row.try_get(4)?,
                            sha256: $crate::storage::hex(row.try_get::<&[u8], _>(5)?),
                            message: row.try_get(6)?,
                            payload_kept: row.try_get(7)?,
                            received_on: row.try_get(8)?,
                        })
                    })
                    .collect()
            }

            async fn purge_quarantine_before(
                &self,
                day: sync_core::Day,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<u64> {
                let mut tx = self.writer.begin_with($begin).await?;
                let datasets: Vec<uuid::Uuid> = sqlx::query_scalar("DELETE FROM quarantine WHERE received_on < $1 RETURNING dataset")
                    .bind(day.to_string())
                    .fetch_all(&mut *tx)
                    .await?;
                let purged = datasets.len() as u64;
                let once: std::collections::BTreeSet<uuid::Uuid> = datasets.into_iter().collect();
                for dataset in once {
                    let entry = $crate::storage::AuditEntry {
                        dataset: Some(dataset),
                        ..audit.clone()
                    };
                    audit_in(&mut tx, &entry).await?;
                }
                tx.commit().await?;
                Ok(purged)
            }

            async fn purge_quarantine(
                &self,
                dataset: uuid::Uuid,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<u64> {
                let mut tx = self.writer.begin_with($begin).await?;
                let purged = sqlx::query("DELETE FROM quarantine WHERE dataset = $1")
                    .bind(dataset)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(purged)
            }

            async fn withdraw_response(
                &self,
                withdrawal: &$crate::storage::Withdrawal,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<bool> {
                deletion::withdraw_response(&self.writer, withdrawal, audit).await
            }

            async fn purge_dataset(
                &self,
                dataset: uuid::Uuid,
                day: sync_core::Day,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<u64> {
                deletion::purge_dataset(&self.writer, dataset, day, audit).await
            }

            async fn count_submitted_before(&self, dataset: uuid::Uuid, day: sync_core::Day) -> $crate::storage::Result<u64> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM responses WHERE dataset = $1 AND submitted_on < $2 AND status = 'submitted'",
                )
                .bind(dataset)
                .bind(day.to_string())
                .fetch_one(&self.pool)
                .await?;
                Ok(count as u64)
            }

            async fn purge_submitted_before(
                &self,
                dataset: uuid::Uuid,
                day: sync_core::Day,
                limit: i64,
                today: sync_core::Day,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<Vec<uuid::Uuid>> {
                deletion::purge_submitted_before(&self.writer, dataset, day, limit, today, audit).await
            }

            async fn token_wiped(&self, hash: &$crate::secret::SecretHash) -> $crate::storage::Result<bool> {
                deletion::token_wiped(&self.pool, hash).await
            }

            async fn withdrawn(&self, ids: &[uuid::Uuid]) -> $crate::storage::Result<std::collections::HashSet<uuid::Uuid>> {
                deletion::withdrawn(&mut *self.pool.acquire().await?, ids).await
            }

            async fn response_facts(
                &self,
                dataset: uuid::Uuid,
                form: &str,
            ) -> $crate::storage::Result<Vec<$crate::storage::ResponseFact>> {
                // Each row becomes a fact as it arrives: collecting the rows first held
                // hundreds of bytes per response at once (320 MiB for 400,000 responses).
                Ok(sqlx::query(
                    "SELECT document, status, review, area, collected_on, record_key FROM responses
                     WHERE dataset = $1 AND form = $2",
                )
                .bind(dataset)
                .bind(form)
                .try_map(|row: <$db as sqlx::Database>::Row| response_fact(&row))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn answer_facts(
                &self,
                dataset: uuid::Uuid,
                form: &str,
                question: &str,
            ) -> $crate::storage::Result<Vec<$crate::storage::AnswerFact>> {
                use sqlx::Row as _;
                Ok(sqlx::query(
                    "SELECT document, value, num FROM answers WHERE dataset = $1 AND form = $2 AND question = $3",
                )
                .bind(dataset)
                .bind(form)
                .bind(question)
                .try_map(|row: <$db as sqlx::Database>::Row| {
                    Ok($crate::storage::AnswerFact {
                        document: row.try_get("document")?,
                        value: row.try_get("value")?,
                        num: row.try_get("num")?,
                    })
                })
                .fetch_all(&self.pool)
                .await?)
            }

            async fn document_facts(
                &self,
                dataset: uuid::Uuid,
                form: &str,
                documents: &[uuid::Uuid],
            ) -> $crate::storage::Result<$crate::storage::DocumentFacts> {
                use sqlx::Row as _;
                let mut facts = $crate::storage::DocumentFacts::default();
                for chunk in documents.chunks($crate::storage::write::MAX_BINDS) {
                    let responses = of_documents(
                        "SELECT document, status, review, area, collected_on, record_key, dataset, form FROM responses",
                        "document",
                        chunk,
                    )
                    .build()
                    .persistent(false)
                    .fetch_all(&self.pool)
                    .await?;
                    for row in responses.iter().filter(|row| in_form(row, dataset, form)) {
                        facts.responses.push(response_fact(row)?);
                    }
                    let answers =
                        of_documents("SELECT document, question, value, num, dataset, form FROM answers", "document", chunk)
                            .build()
                            .persistent(false)
                            .fetch_all(&self.pool)
                            .await?;
                    for row in answers.iter().filter(|row| in_form(row, dataset, form)) {
                        let answer = $crate::storage::AnswerFact {
                            document: row.try_get("document")?,
                            value: row.try_get("value")?,
                            num: row.try_get("num")?,
                        };
                        facts.answers.push((row.try_get("question")?, answer));
                    }
                }
                Ok(facts)
            }

            async fn tally_facts(&self, dataset: uuid::Uuid) -> $crate::storage::Result<Vec<$crate::storage::TallyFact>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT site, metric, day, amount, record_key FROM tally_days WHERE dataset = $1",
                )
                .bind(dataset)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::storage::TallyFact {
                            site: row.try_get("site")?,
                            metric: row.try_get("metric")?,
                            day: row.try_get("day")?,
                            amount: row.try_get("amount")?,
                            record_key: $crate::storage::record_key::from_stored(row.try_get("record_key")?),
                        })
                    })
                    .collect()
            }

            async fn log_query(&self, entry: &$crate::storage::QueryLogEntry, budget: i64) -> $crate::storage::Result<bool> {
                let mut tx = self.writer.begin_with($begin).await?;
                let day = entry.day.to_string();
                let used: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM query_log WHERE token_hash = $1 AND day = $2",
                )
                .bind(&entry.token.0[..])
                .bind(&day)
                .fetch_one(&mut *tx)
                .await?;
                if used >= budget {
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO query_log (dataset, token_hash, token_name, role, route, query, day, at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(entry.dataset)
                .bind(&entry.token.0[..])
                .bind(&entry.token_name)
                .bind(entry.role.as_str())
                .bind(entry.route)
                .bind(&entry.query)
                .bind(&day)
                .bind($crate::clock::unix_now())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn query_log(
                &self,
                dataset: uuid::Uuid,
                limit: i64,
            ) -> $crate::storage::Result<Vec<$crate::storage::QueryLogRecord>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT token_name, role, route, query, at FROM query_log
                     WHERE dataset = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(dataset)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::storage::QueryLogRecord {
                            token_name: row.try_get(0)?,
                            role: row.try_get(1)?,
                            route: row.try_get(2)?,
                            query: row.try_get(3)?,
                            at: row.try_get(4)?,
                        })
                    })
                    .collect()
            }

            async fn review_document(
                &self,
                response: uuid::Uuid,
            ) -> $crate::storage::Result<Option<$crate::storage::StoredReview>> {
                review::review_document(&self.pool, response).await
            }

            async fn save_review(
                &self,
                write: &$crate::storage::ReviewWrite,
                audit: &$crate::storage::AuditEntry,
            ) -> $crate::storage::Result<bool> {
                review::save_review(&self.writer, write, audit).await
            }

            async fn reviews(
                &self,
                dataset: uuid::Uuid,
                filter: &$crate::storage::ReviewFilter,
            ) -> $crate::storage::Result<Vec<$crate::storage::ReviewSummary>> {
                review::reviews(&self.pool, dataset, filter).await
            }

            async fn review_summary(
                &self,
                dataset: uuid::Uuid,
                response: uuid::Uuid,
            ) -> $crate::storage::Result<Option<$crate::storage::ReviewSummary>> {
                review::review_summary(&self.pool, dataset, response).await
            }

            async fn reset_dataset(
                &self,
                dataset: uuid::Uuid,
                audit: &$crate::storage::AuditEntry,
                seeds: &mut tokio::sync::mpsc::Receiver<sync_core::Result<$crate::storage::DocumentWrite>>,
            ) -> $crate::storage::Result<(i64, u64)> {
                let mut tx = self.writer.begin_with($begin).await?;
                let epoch: i64 = sqlx::query_scalar(
                    "UPDATE datasets SET epoch = epoch + 1 WHERE id = $1 AND mode = 'demo' RETURNING epoch",
                )
                .bind(dataset)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or($crate::storage::Error::NotDemo)?;
                for statement in [
                    "DELETE FROM answers WHERE dataset = $1",
                    "DELETE FROM responses WHERE dataset = $1",
                    "DELETE FROM site_tallies WHERE dataset = $1",
                    "DELETE FROM device_tallies WHERE dataset = $1",
                    "DELETE FROM site_totals WHERE dataset = $1",
                    "DELETE FROM tally_days WHERE dataset = $1",
                    "DELETE FROM conflicts WHERE document IN (SELECT id FROM documents WHERE dataset = $1 AND kind <> 'form')",
                    "DELETE FROM doc_actors WHERE document IN (SELECT id FROM documents WHERE dataset = $1 AND kind <> 'form')",
                    "DELETE FROM quarantine WHERE dataset = $1",
                    "DELETE FROM reviews WHERE dataset = $1",
                    "DELETE FROM documents WHERE dataset = $1 AND kind <> 'form'",
                ] {
                    sqlx::query(statement).bind(dataset).execute(&mut *tx).await?;
                }
                let mut seeded = 0u64;
                let mut received = Vec::with_capacity(SEED_CHUNK);
                while seeds.recv_many(&mut received, SEED_CHUNK).await > 0 {
                    let chunk = received
                        .drain(..)
                        .collect::<sync_core::Result<Vec<_>>>()
                        .map_err($crate::storage::Error::Seed)?;
                    match write_batches_in(&mut tx, &[&chunk]).await?.pop() {
                        Some($crate::storage::BatchOutcome::Saved { stale }) if !stale.contains(&true) => {}
                        _ => return Err($crate::storage::Error::Corrupt("demo data reused an id or an actor".into())),
                    }
                    seeded += chunk.iter().filter(|w| w.kind == sync_core::DocKind::Response).count() as u64;
                    $crate::pause_points::reached("reset-seeding").await;
                }
                audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok((epoch, seeded))
            }
        }

        $crate::storage::write::document_writes!($db);
        $crate::storage::access::access_queries!($db, $begin);
        $crate::storage::deletion::deletion_queries!($db, $begin);
        $crate::storage::review::review_queries!($db, $begin);

        /// `select` (a table's columns) narrowed to the rows whose `column` names one of
        /// `documents`, and nothing else: with the dataset and form in the query too, SQLite
        /// prefers scanning the form's whole range of `answers_by_value` to looking the few
        /// documents up (seconds at a million responses); [`in_form`] filters instead.
        fn of_documents(
            select: &'static str,
            column: &'static str,
            documents: &[uuid::Uuid],
        ) -> sqlx::QueryBuilder<$db> {
            let mut builder = sqlx::QueryBuilder::new(select);
            builder.push(format_args!(" WHERE {column} IN ("));
            let mut ids = builder.separated(", ");
            for &id in documents {
                ids.push_bind(id);
            }
            builder.push(")");
            builder
        }

        fn response_fact(
            row: &<$db as sqlx::Database>::Row,
        ) -> Result<$crate::storage::ResponseFact, sqlx::Error> {
            use sqlx::Row as _;
            Ok($crate::storage::ResponseFact {
                document: row.try_get("document")?,
                submitted: row.try_get::<&str, _>("status")? == "submitted",
                approved: row.try_get::<&str, _>("review")? == "approved",
                area: row.try_get("area")?,
                collected_on: row.try_get("collected_on")?,
                record_key: $crate::storage::record_key::from_stored(row.try_get("record_key")?),
            })
        }

        fn in_form(row: &<$db as sqlx::Database>::Row, dataset: uuid::Uuid, form: &str) -> bool {
            use sqlx::Row as _;
            row.try_get::<uuid::Uuid, _>("dataset").is_ok_and(|d| d == dataset)
                && row.try_get::<&str, _>("form").is_ok_and(|f| f == form)
        }

        /// Documents a reset writes per batch of statements.
        const SEED_CHUNK: usize = 512;

        async fn audit_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            audit: &$crate::storage::AuditEntry,
        ) -> $crate::storage::Result<()> {
            sqlx::query("INSERT INTO audit_log (actor_name, actor_role, action, dataset, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&audit.actor_name)
                .bind(&audit.actor_role)
                .bind(&audit.action)
                .bind(audit.dataset)
                .bind($crate::clock::unix_now())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        fn dataset_from_row(row: &<$db as sqlx::Database>::Row) -> $crate::storage::Result<$crate::storage::Dataset> {
            use sqlx::Row as _;
            Ok($crate::storage::Dataset {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                mode: $crate::storage::Mode::parse(row.try_get::<&str, _>(2)?)?,
                k: row.try_get(3)?,
                epoch: row.try_get(4)?,
                retention_days: row.try_get(5)?,
            })
        }
    };
}

pub(super) use impl_storage;
