//! Column stores per (dataset, form), kept between queries.
//!
//! Loading a form's responses costs a scan of the materialized tables; answering from loaded
//! columns costs milliseconds. A store is dropped when this process writes to its dataset
//! (sync, reset) and, because other replicas write too, when it is older than [`MAX_AGE`]:
//! an analyst may see data up to that old, never data a reset removed on this replica.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sync_core::{Day, Form};
use uuid::Uuid;

use super::columns::FormColumns;
use super::query::{AggregateQuery, Dimension, Metric};
use super::table::{AggregateTable, aggregate};
use crate::storage::{Dataset, Storage};
use crate::{ApiError, Result};

pub const MAX_AGE: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct AggregateCache {
    stores: Mutex<HashMap<(Uuid, String), SharedStore>>,
    generations: Mutex<HashMap<Uuid, u64>>,
}

/// One form's store, locked while a query fills or reads it.
type SharedStore = Arc<tokio::sync::Mutex<Store>>;

#[derive(Default)]
struct Store {
    loaded: Option<(u64, Instant, i64, FormColumns)>,
}

impl AggregateCache {
    /// Marks every store of `dataset` stale; the next query reloads it.
    pub fn invalidate(&self, dataset: Uuid) {
        *self
            .generations
            .lock()
            .expect("cache lock")
            .entry(dataset)
            .or_default() += 1;
    }

    fn generation(&self, dataset: Uuid) -> u64 {
        self.generations
            .lock()
            .expect("cache lock")
            .get(&dataset)
            .copied()
            .unwrap_or_default()
    }

    pub async fn query(
        &self,
        storage: &dyn Storage,
        dataset: &Dataset,
        form_id: &str,
        pairs: &[(String, String)],
    ) -> Result<AggregateTable> {
        let form = storage
            .latest_forms(dataset.id)
            .await?
            .iter()
            .filter_map(|json| Form::from_json(json).ok())
            .find(|f| f.id == form_id)
            .ok_or_else(|| {
                ApiError::NotFound(format!("form {:?}", form_id.chars().take(80).collect::<String>()))
            })?;
        let query = AggregateQuery::parse(&form, pairs)?;
        let store = {
            let mut stores = self.stores.lock().expect("cache lock");
            stores.entry((dataset.id, form.id.clone())).or_default().clone()
        };
        let mut store = store.lock().await;
        let generation = self.generation(dataset.id);
        let fresh = |(g, at, epoch, _): &(u64, Instant, i64, FormColumns)| {
            *g == generation && at.elapsed() < MAX_AGE && *epoch == dataset.epoch
        };
        if !store.loaded.as_ref().is_some_and(fresh) {
            let mut columns = FormColumns::new(&form);
            for fact in storage.response_facts(dataset.id, &form.id).await? {
                let day = Day::parse(&fact.collected_on)?;
                columns.push_response(fact.document, fact.submitted, &fact.area, day);
            }
            store.loaded = Some((generation, Instant::now(), dataset.epoch, columns));
        }
        let Some((_, _, _, columns)) = store.loaded.as_mut() else {
            return Err(ApiError::Internal("aggregate store was not loaded".into()));
        };
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
        Ok(aggregate(&form, columns, &query, k)?)
    }
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
