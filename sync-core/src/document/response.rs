//! Survey response documents: written by one device, reviewed later by supervisors.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::read::{self, only_keys};
use super::{commit_private, new_document_as};
use crate::answer::check_free_text;
use crate::{Answer, Day, Error, Form, QuestionKind, Result};

pub const SCHEMA: &str = "survey.response/1";
const FIELDS: &[&str] = &[
    "schema",
    "dataset",
    "form",
    "form_version",
    "status",
    "collected_on",
    "area",
    "answers",
    "review",
];
const REVIEW_FIELDS: &[&str] = &["state", "note"];
const REVIEW_NOTE_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseStatus {
    Draft,
    Submitted,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::Draft => "draft",
            ResponseStatus::Submitted => "submitted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewState {
    Pending,
    Approved,
    Flagged,
}

impl ReviewState {
    fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Approved => "approved",
            ReviewState::Flagged => "flagged",
        }
    }
}

/// A supervisor's review of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub state: Option<ReviewState>,
    pub note: Option<String>,
}

/// One batch of edits to a response, committed as a single change: fewer, larger changes keep
/// a response well under a kilobyte on the wire.
#[derive(Debug, Clone, Default)]
pub struct ResponseEdit {
    pub area: Option<String>,
    pub collected_on: Option<Day>,
    pub answers: Vec<(String, Answer)>,
    pub cleared: Vec<String>,
    pub submit: bool,
}

impl ResponseEdit {
    /// Reads an edit from JSON, as the CLI's answers file and the web app write it:
    /// `{ "area": "north", "collected_on": "2026-11-20", "answers": { "s1": 4, "help": ["ngo"] },
    /// "cleared": ["notes"], "submit": true }`, every key optional. Text answers are scrubbed.
    pub fn from_json(form: &Form, json: &serde_json::Value) -> Result<ResponseEdit> {
        let shape = |expected| Error::FieldType {
            field: "edit".into(),
            expected,
        };
        let object = json.as_object().ok_or_else(|| shape("a JSON object"))?;
        if let Some(key) = object
            .keys()
            .find(|k| !["area", "collected_on", "answers", "cleared", "submit"].contains(&k.as_str()))
        {
            return Err(Error::UndeclaredField(key.chars().take(80).collect()));
        }
        let text = |key: &str| -> Result<Option<String>> {
            match object.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(value) => value
                    .as_str()
                    .map(|s| Some(s.to_owned()))
                    .ok_or_else(|| shape("text")),
            }
        };
        let mut answers = Vec::new();
        if let Some(given) = object.get("answers") {
            for (question, value) in given
                .as_object()
                .ok_or_else(|| shape("answers as a JSON object"))?
            {
                answers.push((question.clone(), Answer::from_json(form, question, value)?));
            }
        }
        let cleared = match object.get("cleared") {
            None => Vec::new(),
            Some(list) => list
                .as_array()
                .ok_or_else(|| shape("cleared as a list of question ids"))?
                .iter()
                .map(|q| {
                    q.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| shape("cleared as a list of question ids"))
                })
                .collect::<Result<_>>()?,
        };
        Ok(ResponseEdit {
            area: text("area")?,
            collected_on: text("collected_on")?.map(|d| Day::parse(&d)).transpose()?,
            answers,
            cleared,
            submit: match object.get("submit") {
                None => false,
                Some(flag) => flag.as_bool().ok_or_else(|| shape("submit as true or false"))?,
            },
        })
    }
}

/// A response as read back from its document.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseView {
    pub dataset: Uuid,
    pub form: String,
    pub form_version: i64,
    pub status: ResponseStatus,
    pub collected_on: Day,
    pub area: String,
    pub answers: BTreeMap<String, Answer>,
    pub review: Review,
}

impl ResponseView {
    /// The response as JSON for display, answers in the same shape [`ResponseEdit::from_json`]
    /// reads.
    pub fn to_json(&self) -> serde_json::Value {
        let answers: serde_json::Map<String, serde_json::Value> = self
            .answers
            .iter()
            .map(|(q, a)| (q.clone(), a.to_json()))
            .collect();
        serde_json::json!({
            "dataset": self.dataset.to_string(),
            "form": self.form,
            "form_version": self.form_version,
            "status": self.status,
            "collected_on": self.collected_on,
            "area": self.area,
            "answers": answers,
            "review": self.review,
        })
    }
}

/// Creates a response document of `form` in `dataset`. `edit` must give the area and the day.
pub fn create(dataset: Uuid, form: &Form, edit: &ResponseEdit) -> Result<AutoCommit> {
    create_as(ActorId::random(), dataset, form, edit)
}

/// [`create`] with a chosen actor, for deterministic generators such as demo data. Give every
/// document its own actor.
pub fn create_as(actor: ActorId, dataset: Uuid, form: &Form, edit: &ResponseEdit) -> Result<AutoCommit> {
    let area = edit
        .area
        .as_deref()
        .ok_or_else(|| Error::MissingField("area".into()))?;
    let day = edit
        .collected_on
        .ok_or_else(|| Error::MissingField("collected_on".into()))?;
    form.check_area(area)?;
    let mut doc = new_document_as(actor);
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "dataset", dataset.to_string())?;
    doc.put(ROOT, "form", form.id.as_str())?;
    doc.put(ROOT, "form_version", form.version)?;
    doc.put(ROOT, "status", ResponseStatus::Draft.as_str())?;
    doc.put(ROOT, "collected_on", day.to_string())?;
    doc.put(ROOT, "area", area)?;
    doc.put_object(ROOT, "answers", ObjType::Map)?;
    doc.put_object(ROOT, "review", ObjType::Map)?;
    apply_edit(&mut doc, form, edit)?;
    Ok(doc)
}

/// Applies `edit` as one change, or nothing at all if any part of it does not fit the form.
pub fn apply_edit(doc: &mut AutoCommit, form: &Form, edit: &ResponseEdit) -> Result<()> {
    let current = read(doc, form)?;
    if let Some(area) = &edit.area {
        form.check_area(area)?;
    }
    for (question, answer) in &edit.answers {
        form.check_answer(question, answer)?;
    }
    for question in &edit.cleared {
        form.question(question)?;
    }
    if edit.submit {
        let answered = |q: &str| {
            edit.answers.iter().any(|(id, _)| id == q)
                || (current.answers.contains_key(q) && !edit.cleared.iter().any(|c| c == q))
        };
        if let Some(missing) = form.questions.iter().find(|q| q.required && !answered(&q.id)) {
            return Err(Error::MissingAnswer {
                question: missing.id.clone(),
            });
        }
    }

    let answers = read::object(doc, &ROOT, "answers", ObjType::Map)?
        .ok_or_else(|| Error::MissingField("answers".into()))?;
    if let Some(area) = &edit.area {
        doc.put(ROOT, "area", area.as_str())?;
    }
    if let Some(day) = edit.collected_on {
        doc.put(ROOT, "collected_on", day.to_string())?;
    }
    for question in &edit.cleared {
        doc.delete(&answers, question.as_str())?;
    }
    for (question, answer) in &edit.answers {
        put_answer(doc, &answers, question, answer)?;
    }
    if edit.submit {
        doc.put(ROOT, "status", ResponseStatus::Submitted.as_str())?;
    }
    commit_private(doc);
    Ok(())
}

/// Writes a supervisor's review as one change.
pub fn set_review(doc: &mut AutoCommit, review: &Review) -> Result<()> {
    if let Some(note) = &review.note {
        check_free_text("review note", note, REVIEW_NOTE_MAX)?;
    }
    let target = match read::object(doc, &ROOT, "review", ObjType::Map)? {
        Some(id) => id,
        None => doc.put_object(ROOT, "review", ObjType::Map)?,
    };
    if let Some(state) = review.state {
        doc.put(&target, "state", state.as_str())?;
    }
    if let Some(note) = &review.note {
        doc.put(&target, "note", note.as_str())?;
    }
    commit_private(doc);
    Ok(())
}

/// The form id and version a response claims, to find the form before reading the rest.
pub fn form_ref(doc: &AutoCommit) -> Result<(String, i64)> {
    Ok((
        read::string(doc, &ROOT, "form")?,
        read::int(doc, &ROOT, "form_version")?,
    ))
}

/// Reads and fully checks a response against its form.
pub fn read(doc: &AutoCommit, form: &Form) -> Result<ResponseView> {
    only_keys(doc, &ROOT, "", FIELDS)?;
    let schema = read::string(doc, &ROOT, "schema")?;
    if schema != SCHEMA {
        return Err(Error::Schema {
            expected: SCHEMA,
            found: schema.chars().take(80).collect(),
        });
    }
    let (form_id, form_version) = form_ref(doc)?;
    if form_id != form.id || form_version != form.version {
        return Err(Error::UnknownForm {
            form: form_id.chars().take(80).collect(),
            version: form_version,
        });
    }
    let status = match read::string(doc, &ROOT, "status")?.as_str() {
        "draft" => ResponseStatus::Draft,
        "submitted" => ResponseStatus::Submitted,
        _ => {
            return Err(Error::FieldType {
                field: "status".into(),
                expected: "\"draft\" or \"submitted\"",
            });
        }
    };
    let area = read::string(doc, &ROOT, "area")?;
    form.check_area(&area)?;
    Ok(ResponseView {
        dataset: read::uuid(doc, &ROOT, "dataset")?,
        form: form_id,
        form_version,
        status,
        collected_on: read::day(doc, &ROOT, "collected_on")?,
        area,
        answers: read_answers(doc, form)?,
        review: read_review(doc)?,
    })
}

fn put_answer(doc: &mut AutoCommit, answers: &ObjId, question: &str, answer: &Answer) -> Result<()> {
    match answer {
        Answer::Single(s) | Answer::Text(s) => doc.put(answers, question, s.as_str())?,
        Answer::Likert(n) | Answer::Integer(n) => doc.put(answers, question, *n)?,
        Answer::Date(day) => doc.put(answers, question, day.to_string())?,
        Answer::Multi(ids) => {
            let list = doc.put_object(answers, question, ObjType::List)?;
            for (i, id) in ids.iter().enumerate() {
                doc.insert(&list, i, id.as_str())?;
            }
        }
    }
    Ok(())
}

fn read_answers(doc: &AutoCommit, form: &Form) -> Result<BTreeMap<String, Answer>> {
    let answers = read::object(doc, &ROOT, "answers", ObjType::Map)?
        .ok_or_else(|| Error::MissingField("answers".into()))?;
    let mut out = BTreeMap::new();
    for key in doc.keys(&answers) {
        let question = form.question(&key).map_err(|_| {
            Error::UndeclaredField(format!("answers.{}", key.chars().take(80).collect::<String>()))
        })?;
        let answer = match &question.kind {
            QuestionKind::Multi { .. } => {
                let list = read::object(doc, &answers, &key, ObjType::List)?
                    .ok_or_else(|| Error::MissingField(key.clone()))?;
                let ids = doc.values(&list).map(|(value, _)| match value.as_str() {
                    Some(s) => Ok(s.to_owned()),
                    None => Err(Error::WrongAnswerType {
                        question: key.clone(),
                        expected: "a list of option ids",
                    }),
                });
                Answer::Multi(ids.collect::<Result<_>>()?)
            }
            QuestionKind::Likert { .. } => Answer::Likert(read::int(doc, &answers, &key)?),
            QuestionKind::Integer { .. } => Answer::Integer(read::int(doc, &answers, &key)?),
            QuestionKind::Date => Answer::Date(read::day(doc, &answers, &key)?),
            QuestionKind::Single { .. } => Answer::Single(read::string(doc, &answers, &key)?),
            QuestionKind::Text { .. } => Answer::Text(read::string(doc, &answers, &key)?),
        };
        form.check_answer(&key, &answer)?;
        out.insert(key, answer);
    }
    Ok(out)
}

fn read_review(doc: &AutoCommit) -> Result<Review> {
    let Some(review) = read::object(doc, &ROOT, "review", ObjType::Map)? else {
        return Ok(Review::default());
    };
    only_keys(doc, &review, "review.", REVIEW_FIELDS)?;
    let state = match read::scalar(doc, &review, "state")? {
        None => None,
        Some(ScalarValue::Str(s)) if s == "pending" => Some(ReviewState::Pending),
        Some(ScalarValue::Str(s)) if s == "approved" => Some(ReviewState::Approved),
        Some(ScalarValue::Str(s)) if s == "flagged" => Some(ReviewState::Flagged),
        Some(_) => {
            return Err(Error::FieldType {
                field: "review.state".into(),
                expected: "pending, approved or flagged",
            });
        }
    };
    let note = match read::scalar(doc, &review, "note")? {
        None => None,
        Some(_) => Some(read::string(doc, &review, "note")?),
    };
    if let Some(note) = &note {
        check_free_text("review note", note, REVIEW_NOTE_MAX)?;
    }
    Ok(Review { state, note })
}
