//! Refuses questions that would identify a respondent. Survey respondents may be survivors of
//! trafficking; a stored phone number or name can put them in danger, so the platform has no
//! way to ask for one, whatever the form author intended.

use serde_json::Value;

use crate::{Error, Result};

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

/// Words in a question id (split on `_` and `-`) that give the question away.
const IDENTIFYING_ID_WORDS: &[(&str, &str)] = &[
    ("name", "a name"),
    ("fullname", "a name"),
    ("firstname", "a name"),
    ("lastname", "a name"),
    ("surname", "a name"),
    ("phone", "a phone number"),
    ("telephone", "a phone number"),
    ("mobile", "a phone number"),
    ("whatsapp", "a phone number"),
    ("email", "an e-mail address"),
    ("gps", "a location"),
    ("latitude", "a location"),
    ("longitude", "a location"),
    ("coordinates", "a location"),
    ("geopoint", "a location"),
    ("dob", "a date of birth"),
    ("birthdate", "a date of birth"),
    ("birthday", "a date of birth"),
    ("birth", "a date of birth"),
    ("passport", "an id number"),
    ("ssn", "an id number"),
];

/// Id word pairs (adjacent) that give the question away.
const IDENTIFYING_ID_PAIRS: &[(&str, &str, &str)] = &[
    ("e", "mail", "an e-mail address"),
    ("home", "address", "an address"),
    ("street", "address", "an address"),
    ("id", "number", "an id number"),
    ("national", "id", "an id number"),
];

/// Phrases in a label (lower-cased) that give the question away.
const IDENTIFYING_LABEL_PHRASES: &[(&str, &str)] = &[
    ("phone number", "a phone number"),
    ("telephone", "a phone number"),
    ("mobile number", "a phone number"),
    ("whatsapp", "a phone number"),
    ("e-mail", "an e-mail address"),
    ("email", "an e-mail address"),
    ("full name", "a name"),
    ("first name", "a name"),
    ("last name", "a name"),
    ("surname", "a name"),
    ("your name", "a name"),
    ("respondent's name", "a name"),
    ("name of the respondent", "a name"),
    ("date of birth", "a date of birth"),
    ("birthday", "a date of birth"),
    ("when were you born", "a date of birth"),
    ("gps", "a location"),
    ("coordinates", "a location"),
    ("latitude", "a location"),
    ("longitude", "a location"),
    ("home address", "an address"),
    ("street address", "an address"),
    ("where do you live exactly", "an address"),
    ("passport number", "an id number"),
    ("id number", "an id number"),
    ("national id", "an id number"),
];

pub(super) fn refuse_identifying_questions(form: &Value) -> Result<()> {
    let Some(questions) = form.get("questions").and_then(Value::as_array) else {
        return Ok(());
    };
    for question in questions {
        let id = question.get("id").and_then(Value::as_str).unwrap_or_default();
        let refuse = |what| Error::IdentifyingQuestion {
            question: id.chars().take(80).collect(),
            what,
        };
        if let Some(kind) = question.get("type").and_then(Value::as_str) {
            if let Some(what) = lookup(IDENTIFYING_TYPES, &kind.to_ascii_lowercase()) {
                return Err(refuse(what));
            }
        }
        if let Some(what) = identifying_id(id) {
            return Err(refuse(what));
        }
        let labels = question
            .get("label")
            .into_iter()
            .chain(question.get("hint"))
            .chain(
                question
                    .get("translations")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|m| m.values()),
            );
        for label in labels.filter_map(Value::as_str) {
            let label = label.to_lowercase();
            if let Some((_, what)) = IDENTIFYING_LABEL_PHRASES.iter().find(|(p, _)| label.contains(p)) {
                return Err(refuse(what));
            }
        }
    }
    Ok(())
}

fn identifying_id(id: &str) -> Option<&'static str> {
    let lower = id.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['_', '-', '.']).filter(|w| !w.is_empty()).collect();
    words
        .iter()
        .find_map(|w| lookup(IDENTIFYING_ID_WORDS, w))
        .or_else(|| {
            words.windows(2).find_map(|pair| {
                IDENTIFYING_ID_PAIRS
                    .iter()
                    .find(|(a, b, _)| pair[0] == *a && pair[1] == *b)
                    .map(|(_, _, what)| *what)
            })
        })
}

fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, what)| *what)
}
