//! Writing merged documents with everything they add (actors, materialized rows, conflicts),
//! batched: a sync request's documents, or a chunk of a demo reset, go into one transaction in
//! a handful of multi-row statements instead of some forty statements per document. Stamped
//! out per backend by [`document_writes`] inside `impl_storage!`.

/// Bound values per statement, under SQLite's limit of 32,766 (PostgreSQL allows 65,535).
pub(super) const MAX_BINDS: usize = 30_000;

macro_rules! document_writes {
    ($db:ty) => {
        /// Writes `writes` inside `tx`. A document whose stored version moved since it was read
        /// (or that someone else created first) is left out and marked stale; a document whose
        /// actor already wrote another document stops the batch before anything is written.
        async fn write_documents_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &[$crate::storage::DocumentWrite],
        ) -> $crate::Result<$crate::storage::BatchOutcome> {
            use sqlx::Row as _;
            use $crate::storage::{BatchOutcome, Materialized};

            let (culprit, known_actors) = check_actors_in(tx, writes).await?;
            if let Some(culprit) = culprit {
                return Ok(BatchOutcome::LinkedActor(culprit));
            }
            // Rows are locked in id order, so two requests touching the same site documents
            // wait for each other instead of deadlocking (PostgreSQL).
            let mut by_id: Vec<usize> = (0..writes.len()).collect();
            by_id.sort_by_key(|&i| writes[i].id);
            let mut stale = vec![false; writes.len()];
            for &i in &by_id {
                let write = &writes[i];
                let Some(base) = write.base_version else { continue };
                let updated = sqlx::query(
                    "UPDATE documents SET heads = $1, bytes = $2, version = $3
                     WHERE id = $4 AND version = $5",
                )
                .bind(&write.heads)
                .bind(&write.bytes)
                .bind(write.version)
                .bind(write.id)
                .bind(base)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                stale[i] = updated == 0;
                if !stale[i] {
                    clear_contents_in(tx, write).await?;
                }
            }
            let new: Vec<&$crate::storage::DocumentWrite> = by_id
                .iter()
                .map(|&i| &writes[i])
                .filter(|w| w.base_version.is_none())
                .collect();
            let created = insert_rows(
                tx,
                "INSERT INTO documents (id, dataset, kind, owner, heads, bytes, version) ",
                " ON CONFLICT (id) DO NOTHING RETURNING id",
                &new,
                7,
                |mut row, write| {
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(write.kind.as_str())
                        .push_bind(write.owner)
                        .push_bind(&write.heads)
                        .push_bind(&write.bytes)
                        .push_bind(write.version);
                },
            )
            .await?
            .iter()
            .map(|row| row.try_get::<uuid::Uuid, _>(0))
            .collect::<Result<std::collections::HashSet<_>, _>>()?;
            for (i, write) in writes.iter().enumerate() {
                if write.base_version.is_none() && !created.contains(&write.id) {
                    stale[i] = true;
                }
            }
            let live: Vec<(usize, &$crate::storage::DocumentWrite)> =
                writes.iter().enumerate().filter(|(i, _)| !stale[*i]).collect();

            // The actors were checked above; claiming them can only find one taken in between
            // by another server's transaction on the same database. This batch has written
            // already, so it fails: its group is then committed request by request, and the
            // check above refuses the entry.
            let mut actors: Vec<(&[u8], uuid::Uuid)> = Vec::new();
            for &(_, write) in &live {
                let this_write = actors.len();
                for actor in &write.actors {
                    if !actors[this_write..].iter().any(|(a, _)| *a == actor.as_slice()) {
                        actors.push((actor.as_slice(), write.id));
                    }
                }
            }
            let claimed = insert_rows(
                tx,
                "INSERT INTO doc_actors (actor, document) ",
                " ON CONFLICT (actor) DO NOTHING RETURNING actor",
                &actors,
                2,
                |mut row, (actor, document)| {
                    row.push_bind(*actor).push_bind(*document);
                },
            )
            .await?
            .iter()
            .map(|row| row.try_get::<Vec<u8>, _>(0))
            .collect::<Result<std::collections::HashSet<_>, _>>()?;
            for (actor, _) in &actors {
                if !claimed.contains(*actor) && !known_actors.contains(actor) {
                    return Err($crate::ApiError::Conflict {
                        code: "linked_actor",
                        message: "a change's actor was claimed for another document at the same moment; sync again".into(),
                    });
                }
            }

            let responses: Vec<_> = live
                .iter()
                .filter_map(|(_, w)| match &w.rows {
                    Materialized::Response(r) => Some((*w, r)),
                    Materialized::Site(_) => None,
                })
                .collect();
            insert_rows(
                tx,
                "INSERT INTO responses (document, dataset, device, form, form_version, status, collected_on, area, week, month) ",
                "",
                &responses,
                10,
                |mut row, (write, response)| {
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(response.device)
                        .push_bind(&response.form)
                        .push_bind(response.form_version)
                        .push_bind(response.status)
                        .push_bind(&response.collected_on)
                        .push_bind(&response.area)
                        .push_bind(&response.week)
                        .push_bind(&response.month);
                },
            )
            .await?;
            let answers: Vec<_> = responses
                .iter()
                .flat_map(|(w, r)| r.answers.iter().map(move |a| (*w, r.form.as_str(), a)))
                .collect();
            insert_rows(
                tx,
                "INSERT INTO answers (document, dataset, form, question, value, num) ",
                "",
                &answers,
                6,
                |mut row, (write, form, answer)| {
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(*form)
                        .push_bind(&answer.question)
                        .push_bind(&answer.value)
                        .push_bind(answer.num);
                },
            )
            .await?;
            let tallies: Vec<_> = live
                .iter()
                .filter_map(|(_, w)| match &w.rows {
                    Materialized::Site(site) => Some(site.tallies.iter().map(move |t| (*w, site.site.as_str(), t))),
                    Materialized::Response(_) => None,
                })
                .flatten()
                .collect();
            insert_rows(
                tx,
                "INSERT INTO site_tallies (document, dataset, site, metric, total) ",
                "",
                &tallies,
                5,
                |mut row, (write, site, (metric, total))| {
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(*site)
                        .push_bind(metric)
                        .push_bind(*total);
                },
            )
            .await?;
            let conflicts: Vec<_> = live
                .iter()
                .flat_map(|(_, w)| w.conflicts.iter().map(move |c| (w.id, c)))
                .collect();
            insert_rows(
                tx,
                "INSERT INTO conflicts (document, path, candidates) ",
                "",
                &conflicts,
                3,
                |mut row, (document, conflict)| {
                    row.push_bind(*document)
                        .push_bind(&conflict.path)
                        .push_bind(&conflict.candidates);
                },
            )
            .await?;
            Ok(BatchOutcome::Saved { stale })
        }

        /// Drops the materialized rows of a stored document about to be rewritten.
        async fn clear_contents_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            write: &$crate::storage::DocumentWrite,
        ) -> $crate::Result<()> {
            let statements: &[&'static str] = match write.rows {
                $crate::storage::Materialized::Response(_) => &[
                    "DELETE FROM answers WHERE document = $1",
                    "DELETE FROM responses WHERE document = $1",
                    "DELETE FROM conflicts WHERE document = $1",
                ],
                $crate::storage::Materialized::Site(_) => &[
                    "DELETE FROM site_tallies WHERE document = $1",
                    "DELETE FROM conflicts WHERE document = $1",
                ],
            };
            for &statement in statements {
                sqlx::query(statement).bind(write.id).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// The first write of `writes` with an actor that already wrote another document, in
        /// the database or earlier in `writes`, and the actors the database already has as
        /// their write's. Checked before anything is written, so a batch refused for it needs
        /// nothing undone: batches sharing a transaction need no savepoint each, whose journal
        /// cost the SQLite writer a copy of every page a batch touched.
        async fn check_actors_in<'w>(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &'w [$crate::storage::DocumentWrite],
        ) -> $crate::Result<(Option<usize>, std::collections::HashSet<&'w [u8]>)> {
            use sqlx::Row as _;
            let mut writer_of: std::collections::HashMap<&[u8], (usize, uuid::Uuid)> =
                std::collections::HashMap::new();
            let mut culprit: Option<usize> = None;
            let mut known = std::collections::HashSet::new();
            for (i, write) in writes.iter().enumerate() {
                for actor in &write.actors {
                    let (_, first) = *writer_of.entry(actor.as_slice()).or_insert((i, write.id));
                    if first != write.id {
                        culprit = Some(culprit.map_or(i, |c| c.min(i)));
                    }
                }
            }
            let actors: Vec<&[u8]> = writer_of.keys().copied().collect();
            for chunk in actors.chunks($crate::storage::write::MAX_BINDS) {
                let mut builder = sqlx::QueryBuilder::<$db>::new("SELECT actor, document FROM doc_actors WHERE actor IN (");
                let mut binds = builder.separated(", ");
                for actor in chunk {
                    binds.push_bind(*actor);
                }
                builder.push(")");
                for row in builder.build().persistent(false).fetch_all(&mut **tx).await? {
                    let (actor, owner): (&[u8], uuid::Uuid) = (row.try_get(0)?, row.try_get(1)?);
                    let Some((&actor, &(i, document))) = writer_of.get_key_value(actor) else {
                        continue;
                    };
                    if document == owner {
                        known.insert(actor);
                    } else {
                        culprit = Some(culprit.map_or(i, |c| c.min(i)));
                    }
                }
            }
            Ok((culprit, known))
        }

        /// `head VALUES (…), (…) tail` over `rows`, chunked under the bound-value limit; returns
        /// what a `RETURNING` tail gives back.
        async fn insert_rows<T>(
            tx: &mut sqlx::Transaction<'static, $db>,
            head: &str,
            tail: &'static str,
            rows: &[T],
            columns: usize,
            mut push: impl FnMut(sqlx::query_builder::Separated<'_, $db, &'static str>, &T),
        ) -> $crate::Result<Vec<<$db as sqlx::Database>::Row>> {
            let mut returned = Vec::new();
            for chunk in rows.chunks($crate::storage::write::MAX_BINDS / columns) {
                let mut builder = sqlx::QueryBuilder::<$db>::new(head);
                builder.push_values(chunk, |row, item| push(row, item));
                builder.push(tail);
                // Row counts vary, so each statement is used once: not worth a cached plan.
                returned.extend(builder.build().persistent(false).fetch_all(&mut **tx).await?);
            }
            Ok(returned)
        }
    };
}

pub(super) use document_writes;
