//! Writing merged documents with everything they add (actors, materialized rows, conflicts),
//! batched: the requests of one commit group, or a chunk of a demo reset, go into one
//! transaction in a handful of multi-row statements for the whole group, instead of some forty
//! statements per document or a score per request. Stamped out per backend by
//! [`document_writes`] inside `impl_storage!`; what to write is decided in plain functions
//! (`batch`: chains, stale writes, actors; `tally_growth`: how tally sums move), so the macro
//! holds the SQL only.

/// Bound values per statement, under SQLite's limit of 32,766 (PostgreSQL allows 65,535).
pub(super) const MAX_BINDS: usize = 30_000;

macro_rules! document_writes {
    ($db:ty) => {
        /// Writes `batches` (one per request, in queue order) inside `tx`; one outcome each.
        ///
        /// - A batch with an actor that already wrote another document (in the database or in
        ///   an earlier batch) is refused before anything is written.
        /// - Writes of one document in several batches build on each other (each names the
        ///   version the one before it stores): only the last is stored, guarded by the first
        ///   one's base, so a busy site is rewritten once per group, not once per request. A
        ///   write that names any other version is stale, and so is every write of a document
        ///   whose stored version moved since it was read (or that someone else created first):
        ///   nothing of it is written and the caller merges it again.
        async fn write_batches_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            batches: &[&[$crate::storage::DocumentWrite]],
        ) -> $crate::storage::Result<Vec<$crate::storage::BatchOutcome>> {
            use std::collections::HashSet;

            use sqlx::Row as _;
            use $crate::storage::batch;
            use $crate::storage::{DocumentWrite, Materialized};

            let (linked, stored_actors) = linked_actors_in(tx, batches).await?;
            let mut plan = batch::plan(batches, linked);

            let mut stored: HashSet<uuid::Uuid> = HashSet::new();
            let mut rewritten: Vec<&DocumentWrite> = Vec::new();
            for chain in &plan.chains {
                let (first, last) = (chain.first, chain.last);
                let Some(base) = first.base_version else { continue };
                let updated = sqlx::query(
                    "UPDATE documents SET heads = $1, bytes = $2, version = $3
                     WHERE id = $4 AND version = $5",
                )
                .bind(&last.heads)
                .bind(&last.bytes)
                .bind(last.version)
                .bind(last.id)
                .bind(base)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if updated > 0 {
                    stored.insert(last.id);
                    rewritten.push(last);
                }
            }
            let grown_from = stored_tallies_in(tx, &rewritten).await?;
            let kept = kept_of_responses_in(tx, &rewritten).await?;
            let counted_before = device_tallies_in(tx, &rewritten).await?;
            clear_contents_in(tx, &rewritten).await?;
            let new: Vec<&DocumentWrite> = plan
                .chains
                .iter()
                .filter(|chain| chain.first.base_version.is_none())
                .map(|chain| chain.last)
                .collect();
            // A response withdrawn since the request checked is not created again: left stale,
            // it is checked once more and refused.
            let new_ids: Vec<uuid::Uuid> = new.iter().map(|w| w.id).collect();
            let withdrawn = if new_ids.is_empty() {
                HashSet::new()
            } else {
                deletion::withdrawn(&mut **tx, &new_ids).await?
            };
            let new: Vec<&DocumentWrite> = new.into_iter().filter(|w| !withdrawn.contains(&w.id)).collect();
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
            .await?;
            for row in &created {
                stored.insert(row.try_get::<uuid::Uuid, _>(0)?);
            }
            let live = plan.stored(&stored);
            let written: Vec<&DocumentWrite> = live.iter().map(|chain| chain.last).collect();

            // The actors were checked above; claiming them can only find one taken in between
            // by another server's transaction on the same database. This group has written
            // already, so it fails: its requests are then committed one by one, and the check
            // above refuses the entry.
            let actors = batch::actors_to_claim(&live);
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
            .collect::<Result<HashSet<_>, _>>()?;
            batch::check_claims(&actors, &claimed, &stored_actors)?;

            let responses: Vec<_> = written
                .iter()
                .copied()
                .filter_map(|w| match &w.rows {
                    Materialized::Response(r) => Some((w, r)),
                    Materialized::Site(_) | Materialized::Tally(_) => None,
                })
                .collect();
            insert_rows(
                tx,
                "INSERT INTO responses (document, dataset, device, form, form_version, status, collected_on, area, week, month, record_key, submitted_on) ",
                "",
                &responses,
                12,
                |mut row, (write, response)| {
                    let (record_key, submitted_on) = batch::response_keeps(kept.get(&write.id), write, response);
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(response.device)
                        .push_bind(&response.form)
                        .push_bind(response.form_version)
                        .push_bind(response.status)
                        .push_bind(&response.collected_on)
                        .push_bind(&response.area)
                        .push_bind(&response.week)
                        .push_bind(&response.month)
                        .push_bind(record_key)
                        .push_bind(submitted_on);
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
            let tallies: Vec<_> = written
                .iter()
                .copied()
                .filter_map(|w| match &w.rows {
                    Materialized::Site(site) => Some(site.tallies.iter().map(move |t| (w, site.site.as_str(), t))),
                    Materialized::Response(_) | Materialized::Tally(_) => None,
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
            let device_tallies: Vec<_> = written
                .iter()
                .copied()
                .filter_map(|w| match &w.rows {
                    Materialized::Tally(tally) => Some(tally.tallies.iter().map(move |t| (w, tally, t))),
                    Materialized::Response(_) | Materialized::Site(_) => None,
                })
                .flatten()
                .collect();
            insert_rows(
                tx,
                "INSERT INTO device_tallies (document, dataset, device, site, metric, total) ",
                "",
                &device_tallies,
                6,
                |mut row, (write, tally, (metric, total))| {
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(tally.device)
                        .push_bind(tally.site)
                        .push_bind(metric)
                        .push_bind(*total);
                },
            )
            .await?;
            let device_moves = $crate::storage::tally_growth::device_tally_moves(&written, &counted_before);
            // The running sums move by what each tally document counts now less what it
            // counted before this write.
            let moved = batch::site_total_moves(&device_moves);
            insert_rows(
                tx,
                "INSERT INTO site_totals (site, dataset, metric, devices) ",
                " ON CONFLICT (site, metric) DO UPDATE SET devices = site_totals.devices + excluded.devices",
                &moved,
                4,
                |mut row, m| {
                    row.push_bind(m.site).push_bind(m.dataset).push_bind(m.metric).push_bind(m.delta);
                },
            )
            .await?;
            let folded = batch::folded(&live);
            let folded_rows: Vec<_> = written
                .iter()
                .copied()
                .filter_map(|last| folded.get(&last.id).map(|f| f.iter().map(move |(m, n)| (last, m, n))))
                .flatten()
                .collect();
            insert_rows(
                tx,
                "INSERT INTO site_totals (site, dataset, metric, folded) ",
                " ON CONFLICT (site, metric) DO UPDATE SET folded = excluded.folded",
                &folded_rows,
                4,
                |mut row, (write, metric, folded)| {
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(*metric)
                        .push_bind(**folded);
                },
            )
            .await?;
            let codes = site_codes_in(tx, &device_moves).await?;
            let days = $crate::storage::tally_growth::tally_growth(&written, &grown_from, &folded, &device_moves, &codes)?;
            insert_rows(
                tx,
                "INSERT INTO tally_days (document, dataset, site, metric, day, amount, record_key) ",
                " ON CONFLICT (document, metric, day) DO UPDATE SET amount = tally_days.amount + excluded.amount",
                &days,
                7,
                |mut row, day| {
                    row.push_bind(day.document)
                        .push_bind(day.dataset)
                        .push_bind(day.site)
                        .push_bind(day.metric)
                        .push_bind(day.day.to_string())
                        .push_bind(day.amount)
                        .push_bind(day.record_key);
                },
            )
            .await?;
            let conflicts: Vec<_> = written
                .iter()
                .flat_map(|&w| w.conflicts.iter().map(move |c| (w.id, c)))
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
            Ok(plan.outcomes())
        }

        /// Per batch, its first write with an actor that already wrote another document, in
        /// the database or in an earlier batch not refused (`None`: the batch may be written);
        /// and the document the database has for each actor it knows. Checked before anything
        /// is written, so a refused batch needs nothing undone: batches sharing a transaction
        /// need no savepoint each, whose journal cost the SQLite writer a copy of every page a
        /// batch touched.
        async fn linked_actors_in<'w>(
            tx: &mut sqlx::Transaction<'static, $db>,
            batches: &[&'w [$crate::storage::DocumentWrite]],
        ) -> $crate::storage::Result<(Vec<Option<usize>>, std::collections::HashMap<&'w [u8], uuid::Uuid>)> {
            use sqlx::Row as _;
            let all: std::collections::HashSet<&'w [u8]> = batches
                .iter()
                .flat_map(|writes| writes.iter())
                .flat_map(|write| write.actors.iter().map(Vec::as_slice))
                .collect();
            let listed: Vec<&'w [u8]> = all.iter().copied().collect();
            let mut stored = std::collections::HashMap::new();
            for chunk in listed.chunks($crate::storage::write::MAX_BINDS) {
                let mut builder =
                    sqlx::QueryBuilder::<$db>::new("SELECT actor, document FROM doc_actors WHERE actor IN (");
                let mut binds = builder.separated(", ");
                for actor in chunk {
                    binds.push_bind(*actor);
                }
                builder.push(")");
                for row in builder.build().persistent(false).fetch_all(&mut **tx).await? {
                    let actor: &[u8] = row.try_get(0)?;
                    if let Some(&actor) = all.get(actor) {
                        stored.insert(actor, row.try_get::<uuid::Uuid, _>(1)?);
                    }
                }
            }
            let linked = $crate::storage::batch::linked_batches(batches, &stored);
            Ok((linked, stored))
        }

        /// What the tally documents among `writes` counted before they are rewritten, by
        /// document and metric.
        async fn device_tallies_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &[&$crate::storage::DocumentWrite],
        ) -> $crate::storage::Result<std::collections::HashMap<(uuid::Uuid, String), i64>> {
            use sqlx::Row as _;
            let ids: Vec<uuid::Uuid> = writes
                .iter()
                .filter(|w| matches!(w.rows, $crate::storage::Materialized::Tally(_)))
                .map(|w| w.id)
                .collect();
            let mut counted = std::collections::HashMap::new();
            for chunk in ids.chunks($crate::storage::write::MAX_BINDS) {
                let rows = of_documents("SELECT document, metric, total FROM device_tallies", "document", chunk)
                    .build()
                    .persistent(false)
                    .fetch_all(&mut **tx)
                    .await?;
                for row in &rows {
                    counted.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
                }
            }
            Ok(counted)
        }

        /// The tally totals the database holds for the site documents among `writes`, which
        /// are about to be rewritten, with how much of each the server added for device
        /// tallies: what their tallies grow from.
        async fn stored_tallies_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &[&$crate::storage::DocumentWrite],
        ) -> $crate::storage::Result<std::collections::HashMap<(uuid::Uuid, String), $crate::storage::tally_growth::StoredTally>> {
            use sqlx::Row as _;
            let sites: Vec<uuid::Uuid> = writes
                .iter()
                .filter(|w| matches!(w.rows, $crate::storage::Materialized::Site(_)))
                .map(|w| w.id)
                .collect();
            let mut totals = std::collections::HashMap::new();
            for chunk in sites.chunks($crate::storage::write::MAX_BINDS) {
                let rows = of_documents(
                    "SELECT t.document, t.metric, t.total, COALESCE(s.folded, 0) FROM site_tallies t
                     LEFT JOIN site_totals s ON s.site = t.document AND s.metric = t.metric",
                    "t.document",
                    chunk,
                )
                .build()
                .persistent(false)
                .fetch_all(&mut **tx)
                .await?;
                for row in &rows {
                    let stored = $crate::storage::tally_growth::StoredTally {
                        total: row.try_get(2)?,
                        folded: row.try_get(3)?,
                    };
                    totals.insert((row.try_get(0)?, row.try_get(1)?), stored);
                }
            }
            Ok(totals)
        }

        /// The site codes of the site documents device tallies moved for.
        async fn site_codes_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            moves: &[$crate::storage::tally_growth::DeviceTallyMove<'_>],
        ) -> $crate::storage::Result<std::collections::HashMap<uuid::Uuid, String>> {
            use sqlx::Row as _;
            let mut sites: Vec<uuid::Uuid> = moves.iter().map(|m| m.site).collect();
            sites.sort_unstable();
            sites.dedup();
            let mut codes = std::collections::HashMap::new();
            for chunk in sites.chunks($crate::storage::write::MAX_BINDS) {
                let rows = of_documents("SELECT DISTINCT document, site FROM site_tallies", "document", chunk)
                    .build()
                    .persistent(false)
                    .fetch_all(&mut **tx)
                    .await?;
                for row in &rows {
                    codes.insert(row.try_get(0)?, row.try_get(1)?);
                }
            }
            Ok(codes)
        }

        /// What the responses among `writes`, which are about to be rewritten, keep from their
        /// stored rows: the record key they were first stored with, and the day they were
        /// first stored submitted.
        async fn kept_of_responses_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &[&$crate::storage::DocumentWrite],
        ) -> $crate::storage::Result<std::collections::HashMap<uuid::Uuid, $crate::storage::batch::KeptOfResponse>> {
            use sqlx::Row as _;
            let responses: Vec<uuid::Uuid> = writes
                .iter()
                .filter(|w| matches!(w.rows, $crate::storage::Materialized::Response(_)))
                .map(|w| w.id)
                .collect();
            let mut kept = std::collections::HashMap::new();
            for chunk in responses.chunks($crate::storage::write::MAX_BINDS) {
                let rows = of_documents("SELECT document, record_key, submitted_on FROM responses", "document", chunk)
                    .build()
                    .persistent(false)
                    .fetch_all(&mut **tx)
                    .await?;
                for row in &rows {
                    let of_response = $crate::storage::batch::KeptOfResponse {
                        record_key: row.try_get(1)?,
                        submitted_on: row.try_get(2)?,
                    };
                    kept.insert(row.try_get(0)?, of_response);
                }
            }
            Ok(kept)
        }

        /// Drops the materialized rows of stored documents about to be rewritten.
        async fn clear_contents_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &[&$crate::storage::DocumentWrite],
        ) -> $crate::storage::Result<()> {
            use $crate::storage::Materialized;
            let ids = |is: fn(&Materialized) -> bool| {
                writes.iter().filter(|w| is(&w.rows)).map(|w| w.id).collect::<Vec<_>>()
            };
            let responses = ids(|rows| matches!(rows, Materialized::Response(_)));
            let sites = ids(|rows| matches!(rows, Materialized::Site(_)));
            let tallies = ids(|rows| matches!(rows, Materialized::Tally(_)));
            let all = ids(|_| true);
            for (table, documents) in [
                ("DELETE FROM answers", &responses),
                ("DELETE FROM responses", &responses),
                ("DELETE FROM site_tallies", &sites),
                ("DELETE FROM device_tallies", &tallies),
                ("DELETE FROM conflicts", &all),
            ] {
                for chunk in documents.chunks($crate::storage::write::MAX_BINDS) {
                    of_documents(table, "document", chunk)
                        .build()
                        .persistent(false)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
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
        ) -> $crate::storage::Result<Vec<<$db as sqlx::Database>::Row>> {
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
