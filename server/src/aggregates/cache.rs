//! Column stores per (dataset, form), kept between queries and kept current.
//!
//! Loading a form's responses costs a scan of the materialized tables (seconds at a million
//! responses); answering from loaded columns costs milliseconds. During fieldwork phones sync
//! all the time, so a store that was dropped on every write would almost never be warm.
//! Instead a sync tells the cache which documents it wrote, and the next query reads just those
//! documents' rows back from SQL before answering. SQL stays the source of truth: the cache only
//! learns which rows to re-read, never their values, so the order in which concurrent writes
//! report does not matter.
//!
//! Other replicas write too, unseen: a store older than [`MAX_AGE`] is reloaded in the
//! background while queries keep using it. A reset is never served stale: a store loaded
//! under an older epoch is reloaded before the query is answered.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sync_core::{Day, Form};
use uuid::Uuid;

use super::columns::FormColumns;
use super::query::{AggregateQuery, Dimension, Metric};
use super::table::{AggregateTable, aggregate};
use crate::disclosure::Disclosure;
use crate::storage::{Dataset, DocumentWrite, Materialized, Storage};
use crate::{ApiError, Result};

pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Written documents a store remembers before it gives up and reloads in full: a store nobody
/// queries while a large import runs should not grow without bound.
const MAX_WRITTEN: usize = 100_000;

#[derive(Default)]
pub struct AggregateCache {
    stores: Mutex<HashMap<(Uuid, String), Arc<Store>>>,
}

#[derive(Default)]
struct Store {
    written: Mutex<Written>,
    loaded: tokio::sync::Mutex<Option<Loaded>>,
}

/// Documents written since the store last read them. Its own lock, so a sync never waits for a
/// query.
#[derive(Default)]
struct Written {
    documents: HashSet<Uuid>,
    overflowed: bool,
    /// A background reload is reading SQL: queries catch up without forgetting what they read,
    /// because the reloaded columns may have been read before those writes.
    reloading: bool,
}

struct Loaded {
    epoch: i64,
    at: Instant,
    columns: FormColumns,
}

impl AggregateCache {
    /// Notes documents a sync has committed. Every store of the dataset hears of them, as a
    /// response could move between forms; the re-read filters by form.
    pub fn written<'a>(&self, dataset: Uuid, writes: impl IntoIterator<Item = &'a DocumentWrite>) {
        let ids: Vec<Uuid> = writes
            .into_iter()
            .filter(|w| matches!(w.rows, Materialized::Response(_)))
            .map(|w| w.id)
            .collect();
        self.changed(dataset, &ids);
    }

    /// Notes responses changed or deleted (withdrawn): the next query re-reads them, and those
    /// found gone stop counting.
    pub fn changed(&self, dataset: Uuid, ids: &[Uuid]) {
        if ids.is_empty() {
            return;
        }
        for store in self.stores_of(dataset) {
            let mut written = store.written.lock().expect("cache lock");
            written.documents.extend(ids.iter().copied());
            if written.documents.len() > MAX_WRITTEN {
                written.documents = HashSet::new();
                written.overflowed = true;
            }
        }
    }

    /// Drops the dataset's stores, freeing their memory: after a reset nothing in them counts.
    pub fn forget(&self, dataset: Uuid) {
        self.stores
            .lock()
            .expect("cache lock")
            .retain(|(d, _), _| *d != dataset);
    }

    fn stores_of(&self, dataset: Uuid) -> Vec<Arc<Store>> {
        let stores = self.stores.lock().expect("cache lock");
        stores
            .iter()
            .filter(|((d, _), _)| *d == dataset)
            .map(|(_, store)| store.clone())
            .collect()
    }

    pub async fn query(
        &self,
        storage: &Arc<dyn Storage>,
        dataset: &Dataset,
        form_id: &str,
        pairs: &[(String, String)],
        disclosure: Disclosure,
    ) -> Result<AggregateTable> {
        let form = storage
            .latest_forms(dataset.id)
            .await?
            .iter()
            .filter_map(|json| Form::from_published(json).ok())
            .find(|f| f.id == form_id)
            .ok_or_else(|| ApiError::NotFound(format!("form {:?}", sync_core::quoted(form_id))))?;
        let query = AggregateQuery::parse(&form, pairs)?;
        let store = {
            let mut stores = self.stores.lock().expect("cache lock");
            stores.entry((dataset.id, form.id.clone())).or_default().clone()
        };
        let mut loaded = store.loaded.lock().await;
        let usable = loaded.as_ref().is_some_and(|l| l.epoch == dataset.epoch) && !store.take_overflow();
        let loaded = match loaded.as_mut() {
            Some(current) if usable => {
                store
                    .catch_up(storage.as_ref(), dataset.id, &form.id, current)
                    .await?;
                if current.at.elapsed() > MAX_AGE {
                    store
                        .clone()
                        .reload_in_background(storage.clone(), dataset, &form, current);
                }
                current
            }
            _ => {
                // What was written before this read is in it.
                store.written.lock().expect("cache lock").documents.clear();
                let columns = load(storage.as_ref(), dataset.id, &form, &[]).await?;
                loaded.insert(Loaded {
                    epoch: dataset.epoch,
                    at: Instant::now(),
                    columns,
                })
            }
        };
        let columns = &mut loaded.columns;
        for question in needed_questions(&form, &query) {
            if !columns.questions.contains_key(&question) {
                let answers = storage.answer_facts(dataset.id, &form.id, &question).await?;
                columns.load_question(
                    &form,
                    &question,
                    answers.into_iter().map(|a| (a.document, a.value, a.num)),
                );
            }
        }
        let k = u64::try_from(dataset.k).unwrap_or(11);
        Ok(aggregate(&form, columns, &query, k, disclosure)?)
    }
}

impl Store {
    fn take_overflow(&self) -> bool {
        std::mem::take(&mut self.written.lock().expect("cache lock").overflowed)
    }

    /// Re-reads the rows of the documents written since `loaded` last saw them.
    async fn catch_up(
        &self,
        storage: &dyn Storage,
        dataset: Uuid,
        form: &str,
        loaded: &mut Loaded,
    ) -> Result<()> {
        let documents: Vec<Uuid> = {
            let mut written = self.written.lock().expect("cache lock");
            if written.reloading {
                written.documents.iter().copied().collect()
            } else {
                written.documents.drain().collect()
            }
        };
        if documents.is_empty() {
            return Ok(());
        }
        match storage.document_facts(dataset, form, &documents).await {
            Ok(facts) => {
                loaded.columns.update(&documents, facts);
                Ok(())
            }
            Err(err) => {
                // Read again next time.
                self.written
                    .lock()
                    .expect("cache lock")
                    .documents
                    .extend(documents);
                Err(err.into())
            }
        }
    }

    /// Loads the form's columns afresh (the questions `loaded` has) and swaps them in, unless a
    /// reload is already under way. Writes noted meanwhile stay noted and are read again on top.
    fn reload_in_background(
        self: Arc<Self>,
        storage: Arc<dyn Storage>,
        dataset: &Dataset,
        form: &Form,
        loaded: &Loaded,
    ) {
        {
            let mut written = self.written.lock().expect("cache lock");
            if written.reloading {
                return;
            }
            written.reloading = true;
        }
        let (dataset, epoch, form) = (dataset.id, loaded.epoch, form.clone());
        let questions: Vec<String> = loaded.columns.questions.keys().cloned().collect();
        tokio::spawn(async move {
            let started = Instant::now();
            match load(storage.as_ref(), dataset, &form, &questions).await {
                Ok(columns) => {
                    let mut loaded = self.loaded.lock().await;
                    if let Some(current) = loaded.as_mut().filter(|l| l.epoch == epoch) {
                        current.columns = columns;
                        current.at = started;
                    }
                }
                Err(err) => {
                    tracing::warn!(%dataset, form = %form.id, error = %err, "aggregate store reload failed")
                }
            }
            self.written.lock().expect("cache lock").reloading = false;
        });
    }
}

/// A form's responses and the answers to `questions`, read from the materialized tables.
async fn load(
    storage: &dyn Storage,
    dataset: Uuid,
    form: &Form,
    questions: &[String],
) -> Result<FormColumns> {
    let mut columns = FormColumns::new(form);
    for fact in storage.response_facts(dataset, &form.id).await? {
        let day = Day::parse(&fact.collected_on)?;
        columns.push_response(&fact, day);
    }
    for question in questions {
        let answers = storage.answer_facts(dataset, &form.id, question).await?;
        columns.load_question(
            form,
            question,
            answers.into_iter().map(|a| (a.document, a.value, a.num)),
        );
    }
    Ok(columns)
}

/// The questions whose columns a query reads.
fn needed_questions(form: &Form, query: &AggregateQuery) -> Vec<String> {
    let dimensions = query.by.iter().chain(query.filters.iter().map(|f| &f.dimension));
    let mut needed: Vec<String> = dimensions
        .filter_map(|d| match d {
            Dimension::Question(q) => Some(q.clone()),
            Dimension::Area | Dimension::Week | Dimension::Month => None,
        })
        .collect();
    if let Metric::Mean(name) = &query.metric {
        match form.score(name) {
            Some(score) => needed.extend(score.items.iter().cloned()),
            None => needed.push(name.clone()),
        }
    }
    needed.sort();
    needed.dedup();
    needed
}
