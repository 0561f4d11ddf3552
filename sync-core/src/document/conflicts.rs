//! Concurrent edits to one field merge deterministically (Automerge picks a winner), but a
//! reviewer should see that they happened: a worker's late correction racing a supervisor's
//! review is exactly what needs a second look.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use serde::{Deserialize, Serialize};

use crate::scrub_free_text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Dotted path of the field, e.g. `answers.s1` or `name`.
    pub path: String,
    /// Every concurrent value, the one Automerge chose first.
    pub values: Vec<String>,
}

/// Every field of the document that currently holds more than one concurrent value.
pub fn conflicts(doc: &AutoCommit) -> Vec<Conflict> {
    let mut found = Vec::new();
    collect(doc, &ROOT, "", &mut found);
    for nested in ["answers", "review"] {
        if let Ok(Some((Value::Object(ObjType::Map), id))) = doc.get(ROOT, nested) {
            collect(doc, &id, &format!("{nested}."), &mut found);
        }
    }
    found
}

fn collect(doc: &AutoCommit, obj: &ObjId, prefix: &str, found: &mut Vec<Conflict>) {
    // `map_range` flags conflicted keys, so only those pay for a `get_all`.
    let conflicted: Vec<String> = doc
        .map_range(obj, ..)
        .filter(|item| item.conflict)
        .map(|item| item.key.into_owned())
        .collect();
    for key in conflicted {
        let Ok(values) = doc.get_all(obj, key.as_str()) else {
            continue;
        };
        let values = values.iter().map(|(value, _)| render(value)).collect();
        found.push(Conflict {
            path: format!("{prefix}{key}"),
            values,
        });
    }
}

fn render(value: &Value<'_>) -> String {
    match value {
        Value::Scalar(s) => match s.as_str() {
            Some(text) => scrub_free_text(text),
            None => s.to_string(),
        },
        Value::Object(kind) => format!("({kind})"),
    }
}
