//! What the app lists: responses and sites as JSON, each marked `waiting` while the server has
//! not confirmed its latest edits, and `refused` when the server turned it down.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sync_core::{ClientEngine, DocKind, Result};
use uuid::Uuid;

/// Documents with edits the server has not confirmed.
pub fn waiting_ids(engine: &mut ClientEngine) -> BTreeSet<Uuid> {
    engine.pending_documents().into_iter().collect()
}

pub fn response(engine: &mut ClientEngine, id: Uuid, waiting: &BTreeSet<Uuid>) -> Result<Value> {
    let mut view = engine.response(id)?.to_json();
    view["id"] = json!(id.to_string());
    view["waiting"] = json!(waiting.contains(&id));
    view["refused"] = refusal(engine, id);
    Ok(view)
}

pub fn responses(engine: &mut ClientEngine) -> Value {
    let waiting = waiting_ids(engine);
    let list: Vec<Value> = engine
        .document_ids(DocKind::Response)
        .into_iter()
        .map(|id| {
            response(engine, id, &waiting).unwrap_or_else(|err| {
                json!({ "id": id.to_string(), "error": err.to_string(), "waiting": waiting.contains(&id) })
            })
        })
        .collect();
    Value::Array(list)
}

pub fn sites(engine: &mut ClientEngine) -> Value {
    let waiting = waiting_ids(engine);
    let list: Vec<Value> = engine
        .sites()
        .into_iter()
        .map(|(id, site)| {
            json!({
                "id": id.to_string(),
                "site": site.site,
                "name": site.name,
                "tallies": site.tallies,
                "waiting": waiting.contains(&id),
                "refused": refusal(engine, id),
            })
        })
        .collect();
    Value::Array(list)
}

fn refusal(engine: &ClientEngine, id: Uuid) -> Value {
    engine
        .rejections()
        .iter()
        .find(|r| r.id == id)
        .map_or(Value::Null, |r| json!({ "code": r.code, "message": r.message }))
}
