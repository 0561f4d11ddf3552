//! Refuses questions that would identify a respondent. Survey respondents may be survivors of
//! trafficking; a stored phone number or name can put them in danger, so the platform has no
//! way to ask for one, whatever the form author intended.
//!
//! Every string of a question is checked, whatever key it sits under (id, label, hint,
//! options, each translation, and any field added later), against word lists kept as data
//! per language ([`lexicon`]). Matching is on folded text ([`words`]), so "Phοne" with a
//! Greek omicron, "E‑mail" with a non-breaking hyphen and "TELÉFONO" are the words the
//! lists name, and on whole words, so "surname" counts but "tournament" holds no "name".

mod lexicon;
mod words;

use serde_json::Value;

use crate::{Error, Result};
use lexicon::LEXICON;

/// Question types other tools offer that this platform never will.
const IDENTIFYING_TYPES: &[(&str, &str)] = &[
    ("name", "a name"),
    ("phone", "a phone number"),
    ("tel", "a phone number"),
    ("email", "an e-mail address"),
    ("gps", "a location"),
    ("geopoint", "a location"),
    ("geotrace", "a location"),
    ("geoshape", "a location"),
    ("location", "a location"),
    ("dob", "a date of birth"),
    ("birthdate", "a date of birth"),
    ("photo", "a photo"),
    ("image", "a photo"),
    ("audio", "a recording"),
    ("video", "a recording"),
    ("signature", "a signature"),
    ("barcode", "an id number"),
];

pub(super) fn refuse_identifying_questions(form: &Value) -> Result<()> {
    let items = |key| form.get(key).and_then(Value::as_array).into_iter().flatten();
    // A section label or a note can ask as plainly as a question ("Write your phone number
    // on the next page"), so both are read the way questions are.
    for question in items("questions").chain(items("sections")) {
        let id = question.get("id").and_then(Value::as_str).unwrap_or_default();
        let refuse = |what| Error::IdentifyingQuestion {
            question: id.chars().take(80).collect(),
            what,
        };
        if let Some(kind) = question.get("type").and_then(Value::as_str) {
            let kind = kind.to_ascii_lowercase();
            if let Some(&(_, what)) = IDENTIFYING_TYPES.iter().find(|(k, _)| *k == kind) {
                return Err(refuse(what));
            }
        }
        if let Some(what) = asked_for(question, true) {
            return Err(refuse(what));
        }
    }
    Ok(())
}

/// What a part of a question asks for, from every string in it. `alone` tells whether a
/// bare word such as "Phone?" counts: not inside options, which are choices, not requests.
fn asked_for(value: &Value, alone: bool) -> Option<&'static str> {
    match value {
        Value::String(text) => LEXICON.asked_for(text, alone),
        Value::Array(items) => items.iter().find_map(|item| asked_for(item, alone)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(key, field)| asked_for(field, alone && key != "options")),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
