//! Concurrent edits to one field merge deterministically (Automerge picks a winner), but a
//! reviewer should see that they happened: a worker's late correction racing a supervisor's
//! review is exactly what needs a second look.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use serde::{Deserialize, Serialize};

use super::read::whole_number;
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
        let values = values.iter().map(|(value, id)| render(doc, value, id)).collect();
        found.push(Conflict {
            path: format!("{prefix}{key}"),
            values,
        });
    }
}

/// A value as the reviewer reads it: text as its content (the JS library writes strings as text
/// objects), whole numbers as the platform reads them (Automerge prints a float with 324
/// decimals, and a JS client writes 0 as a float).
fn render(doc: &AutoCommit, value: &Value<'_>, id: &ObjId) -> String {
    match value {
        Value::Object(ObjType::Text) => scrub_free_text(&doc.text(id).unwrap_or_default()),
        Value::Object(kind) => format!("({kind})"),
        Value::Scalar(s) => match (s.as_str(), whole_number(s)) {
            (Some(text), _) => scrub_free_text(text),
            (None, Some(n)) => n.to_string(),
            (None, None) => s.to_string(),
        },
    }
}
