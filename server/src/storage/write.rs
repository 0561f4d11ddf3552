//! Writing merged documents with everything they add (actors, materialized rows, conflicts),
//! batched: the requests of one commit group, or a chunk of a demo reset, go into one
//! transaction in a handful of multi-row statements for the whole group, instead of some forty
//! statements per document or a score per request. Stamped out per backend by
//! [`document_writes`] inside `impl_storage!`.

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
        ) -> $crate::Result<Vec<$crate::storage::BatchOutcome>> {
            use std::collections::{HashMap, HashSet};

            use sqlx::Row as _;
            use $crate::storage::{BatchOutcome, DocumentWrite, Materialized};

            let (linked, stored_actors) = linked_actors_in(tx, batches).await?;
            let mut stale: Vec<Vec<bool>> = batches.iter().map(|b| vec![false; b.len()]).collect();
            // Per document, the accepted writes that build on each other, in order.
            let mut chains: HashMap<uuid::Uuid, Vec<(usize, usize)>> = HashMap::new();
            for (b, writes) in batches.iter().enumerate().filter(|(b, _)| linked[*b].is_none()) {
                for (i, write) in writes.iter().enumerate() {
                    match chains.get_mut(&write.id) {
                        None => {
                            chains.insert(write.id, vec![(b, i)]);
                        }
                        Some(chain) => {
                            let &(lb, li) = chain.last().expect("chains are never empty");
                            if write.base_version == Some(batches[lb][li].version) {
                                chain.push((b, i));
                            } else {
                                stale[b][i] = true;
                            }
                        }
                    }
                }
            }
            let write_at = |(b, i): (usize, usize)| &batches[b][i];
            let mut ordered: Vec<(&DocumentWrite, &DocumentWrite, &Vec<(usize, usize)>)> = chains
                .values()
                .map(|chain| (write_at(chain[0]), write_at(chain[chain.len() - 1]), chain))
                .collect();
            // Rows are locked in id order, so two groups touching the same site documents wait
            // for each other instead of deadlocking (PostgreSQL).
            ordered.sort_by_key(|(first, _, _)| first.id);

            let mut stored: HashSet<uuid::Uuid> = HashSet::new();
            let mut rewritten: Vec<&DocumentWrite> = Vec::new();
            for &(first, last, _) in &ordered {
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
            let counted_before = device_tallies_in(tx, &rewritten).await?;
            clear_contents_in(tx, &rewritten).await?;
            let new: Vec<&DocumentWrite> = ordered
                .iter()
                .filter(|(first, _, _)| first.base_version.is_none())
                .map(|&(_, last, _)| last)
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
            .await?;
            for row in &created {
                stored.insert(row.try_get::<uuid::Uuid, _>(0)?);
            }
            for &(first, _, chain) in &ordered {
                if !stored.contains(&first.id) {
                    for &(b, i) in chain {
                        stale[b][i] = true;
                    }
                }
            }
            let live: Vec<(&DocumentWrite, &Vec<(usize, usize)>)> = ordered
                .iter()
                .filter(|(first, _, _)| stored.contains(&first.id))
                .map(|&(_, last, chain)| (last, chain))
                .collect();

            // The actors were checked above; claiming them can only find one taken in between
            // by another server's transaction on the same database. This group has written
            // already, so it fails: its requests are then committed one by one, and the check
            // above refuses the entry.
            let mut actors: Vec<(&[u8], uuid::Uuid)> = Vec::new();
            for &(last, chain) in &live {
                let this_document = actors.len();
                for actor in chain.iter().flat_map(|&at| &write_at(at).actors) {
                    if !actors[this_document..].iter().any(|(a, _)| *a == actor.as_slice()) {
                        actors.push((actor.as_slice(), last.id));
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
            .collect::<Result<HashSet<_>, _>>()?;
            for (actor, document) in &actors {
                if !claimed.contains(*actor) && stored_actors.get(actor) != Some(document) {
                    return Err($crate::ApiError::Conflict {
                        code: "linked_actor",
                        message: "a change's actor was claimed for another document at the same moment; sync again".into(),
                    });
                }
            }

            let responses: Vec<_> = live
                .iter()
                .filter_map(|&(w, _)| match &w.rows {
                    Materialized::Response(r) => Some((w, r)),
                    Materialized::Site(_) | Materialized::Tally(_) => None,
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
                .filter_map(|&(w, _)| match &w.rows {
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
            let device_tallies: Vec<_> = live
                .iter()
                .filter_map(|&(w, _)| match &w.rows {
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
            // The running sums move by what each tally document counts now less what it
            // counted before this write.
            let mut moved: std::collections::BTreeMap<(uuid::Uuid, &str), (uuid::Uuid, i64)> =
                std::collections::BTreeMap::new();
            for (write, tally, (metric, total)) in &device_tallies {
                moved.entry((tally.site, metric.as_str())).or_insert((write.dataset, 0)).1 += total;
            }
            for (site, dataset, metric, total) in &counted_before {
                moved.entry((*site, metric.as_str())).or_insert((*dataset, 0)).1 -= total;
            }
            let moved: Vec<_> = moved.into_iter().filter(|(_, (_, delta))| *delta != 0).collect();
            insert_rows(
                tx,
                "INSERT INTO site_totals (site, dataset, metric, devices) ",
                " ON CONFLICT (site, metric) DO UPDATE SET devices = site_totals.devices + excluded.devices",
                &moved,
                4,
                |mut row, ((site, metric), (dataset, delta))| {
                    row.push_bind(*site).push_bind(*dataset).push_bind(*metric).push_bind(*delta);
                },
            )
            .await?;
            // What a write that added device tallies to a site left the site carrying.
            let folded: Vec<_> = live
                .iter()
                .filter_map(|&(last, chain)| {
                    let folded = chain.iter().rev().find_map(|&at| match &write_at(at).rows {
                        Materialized::Site(site) => site.folded.as_ref(),
                        _ => None,
                    })?;
                    Some(folded.iter().map(move |(metric, n)| (last, metric, n)))
                })
                .flatten()
                .collect();
            insert_rows(
                tx,
                "INSERT INTO site_totals (site, dataset, metric, folded) ",
                " ON CONFLICT (site, metric) DO UPDATE SET folded = excluded.folded",
                &folded,
                4,
                |mut row, (write, metric, folded)| {
                    row.push_bind(write.id)
                        .push_bind(write.dataset)
                        .push_bind(*metric)
                        .push_bind(**folded);
                },
            )
            .await?;
            let conflicts: Vec<_> = live
                .iter()
                .flat_map(|&(w, _)| w.conflicts.iter().map(move |c| (w.id, c)))
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
            Ok(linked
                .into_iter()
                .zip(stale)
                .map(|(culprit, stale)| match culprit {
                    Some(i) => BatchOutcome::LinkedActor(i),
                    None => BatchOutcome::Saved { stale },
                })
                .collect())
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
        ) -> $crate::Result<(Vec<Option<usize>>, std::collections::HashMap<&'w [u8], uuid::Uuid>)> {
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
            let mut claims = stored.clone();
            let linked = batches
                .iter()
                .map(|writes| {
                    let mut mine: std::collections::HashMap<&[u8], uuid::Uuid> = std::collections::HashMap::new();
                    for (i, write) in writes.iter().enumerate() {
                        for actor in &write.actors {
                            let owner = mine.get(actor.as_slice()).or(claims.get(actor.as_slice()));
                            match owner {
                                Some(&owner) if owner != write.id => return Some(i),
                                _ => {
                                    mine.insert(actor.as_slice(), write.id);
                                }
                            }
                        }
                    }
                    claims.extend(mine);
                    None
                })
                .collect();
            Ok((linked, stored))
        }

        /// What the tally documents among `writes` counted before they are rewritten: (site,
        /// dataset, metric, total).
        async fn device_tallies_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &[&$crate::storage::DocumentWrite],
        ) -> $crate::Result<Vec<(uuid::Uuid, uuid::Uuid, String, i64)>> {
            use sqlx::Row as _;
            let ids: Vec<uuid::Uuid> = writes
                .iter()
                .filter(|w| matches!(w.rows, $crate::storage::Materialized::Tally(_)))
                .map(|w| w.id)
                .collect();
            let mut counted = Vec::new();
            for chunk in ids.chunks($crate::storage::write::MAX_BINDS) {
                let rows = of_documents("SELECT site, dataset, metric, total FROM device_tallies", "document", chunk)
                    .build()
                    .persistent(false)
                    .fetch_all(&mut **tx)
                    .await?;
                for row in &rows {
                    counted.push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?));
                }
            }
            Ok(counted)
        }

        /// Drops the materialized rows of stored documents about to be rewritten.
        async fn clear_contents_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            writes: &[&$crate::storage::DocumentWrite],
        ) -> $crate::Result<()> {
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
