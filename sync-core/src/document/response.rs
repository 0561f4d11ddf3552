//! Survey response documents: written by one device, reviewed later by supervisors.

use std::collections::BTreeMap;

use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commit_private;
use super::first_change::FirstChange;
use super::read::Fields;
use crate::answer::check_free_text;
use crate::{Answer, Day, Error, Form, QuestionKind, Result};

pub const SCHEMA: &str = "survey.response/1";
pub(super) const FIELDS: &[&str] = &[
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
pub(super) const REVIEW_FIELDS: &[&str] = &["state", "note"];
pub(super) const REVIEW_NOTE_MAX: usize = 500;

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
    check_edit(form, &BTreeMap::new(), edit)?;
    let (_, edit) = settled(form, &BTreeMap::new(), edit);
    let status = if edit.submit {
        ResponseStatus::Submitted
    } else {
        ResponseStatus::Draft
    };
    let mut change = FirstChange::new(actor);
    let root = FirstChange::root();
    change.put(&root, "schema", SCHEMA);
    change.put(&root, "dataset", dataset.to_string());
    change.put(&root, "form", form.id.as_str());
    change.put(&root, "form_version", form.version);
    change.put(&root, "status", status.as_str());
    change.put(&root, "collected_on", day.to_string());
    change.put(&root, "area", area);
    let answers = change.make(&root, "answers", ObjType::Map);
    for (question, answer) in &edit.answers {
        match answer {
            Answer::Single(s) | Answer::Text(s) => change.put(&answers, question, s.as_str()),
            Answer::Likert(n) | Answer::Integer(n) => change.put(&answers, question, *n),
            Answer::Date(day) => change.put(&answers, question, day.to_string()),
            Answer::Multi(ids) => change.list(
                &answers,
                question,
                ids.iter().map(|id| ScalarValue::from(id.as_str())),
            ),
        }
    }
    change.make(&root, "review", ObjType::Map);
    change.into_document()
}

/// Everything about `edit` that can be refused, checked before anything is written.
fn check_edit(form: &Form, current: &BTreeMap<String, Answer>, edit: &ResponseEdit) -> Result<()> {
    if let Some(area) = &edit.area {
        form.check_area(area)?;
    }
    for (i, (question, answer)) in edit.answers.iter().enumerate() {
        form.check_answer(question, answer)?;
        if edit.answers[..i].iter().any(|(q, _)| q == question) {
            return Err(Error::DuplicateId(question.clone()));
        }
    }
    for question in &edit.cleared {
        form.question(question)?;
    }
    if edit.submit {
        form.check_complete(&settled(form, current, edit).0)?;
    }
    Ok(())
}

/// The answers `edit` leaves, and the edit that leaves them without answers to questions no
/// longer asked: a changed answer that hides a later question clears that question's answer,
/// so a respondent's earlier choice never lingers in what the server receives.
fn settled(
    form: &Form,
    current: &BTreeMap<String, Answer>,
    edit: &ResponseEdit,
) -> (BTreeMap<String, Answer>, ResponseEdit) {
    let mut answers = current.clone();
    for question in &edit.cleared {
        answers.remove(question);
    }
    answers.extend(edit.answers.iter().cloned());
    let asked = form.relevant_questions(&answers);
    let mut edit = edit.clone();
    edit.answers.retain(|(q, _)| asked.contains(q));
    for question in current.keys().filter(|q| !asked.contains(*q)) {
        if !edit.cleared.contains(question) {
            edit.cleared.push(question.clone());
        }
    }
    answers.retain(|q, _| asked.contains(q));
    (answers, edit)
}

/// Applies `edit` as one change, or nothing at all if any part of it does not fit the form.
/// Answers to questions the edit leaves unasked are cleared in the same change.
pub fn apply_edit(doc: &mut AutoCommit, form: &Form, edit: &ResponseEdit) -> Result<()> {
    let current = read(doc, form)?.answers;
    check_edit(form, &current, edit)?;
    let (_, edit) = settled(form, &current, edit);
    let edit = &edit;
    let answers = Fields::of(doc, &ROOT)
        .required_object("answers", ObjType::Map)?
        .clone();
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
    let target = match Fields::of(doc, &ROOT).object("review", ObjType::Map)? {
        Some(id) => id.clone(),
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
    let root = Fields::of(doc, &ROOT);
    Ok((root.string("form")?.to_owned(), root.int("form_version")?))
}

/// Reads and fully checks a response against its form.
pub fn read(doc: &AutoCommit, form: &Form) -> Result<ResponseView> {
    let root = Fields::of(doc, &ROOT);
    root.only("", FIELDS)?;
    let schema = root.string("schema")?;
    if schema != SCHEMA {
        return Err(Error::Schema {
            expected: SCHEMA,
            found: schema.chars().take(80).collect(),
        });
    }
    let (form_id, form_version) = (root.string("form")?, root.int("form_version")?);
    if form_id != form.id || form_version != form.version {
        return Err(Error::UnknownForm {
            form: form_id.chars().take(80).collect(),
            version: form_version,
        });
    }
    let status = parse_status(root.string("status")?)?;
    let area = root.string("area")?;
    form.check_area(area)?;
    let answers = read_answers(doc, root.required_object("answers", ObjType::Map)?, form)?;
    if status == ResponseStatus::Submitted {
        // A draft may be incomplete; what is handed in answers every required question it
        // asked, and nothing it did not.
        form.check_complete(&answers)?;
    }
    Ok(ResponseView {
        dataset: root.uuid("dataset")?,
        form: form_id.to_owned(),
        form_version,
        status,
        collected_on: root.day("collected_on")?,
        area: area.to_owned(),
        answers,
        review: match root.object("review", ObjType::Map)? {
            Some(review) => read_review(&Fields::of(doc, review))?,
            None => Review::default(),
        },
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

fn read_answers(doc: &AutoCommit, answers: &ObjId, form: &Form) -> Result<BTreeMap<String, Answer>> {
    let fields = Fields::of(doc, answers);
    let mut out = BTreeMap::new();
    for key in fields.keys() {
        let question = form.question(key).map_err(|_| {
            Error::UndeclaredField(format!("answers.{}", key.chars().take(80).collect::<String>()))
        })?;
        let answer = match &question.kind {
            QuestionKind::Multi { .. } => {
                let list = fields.required_object(key, ObjType::List)?;
                let ids = doc.values(list).map(|(value, id)| match value {
                    Value::Object(ObjType::Text) => Ok(doc.text(&id)?),
                    _ => value
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| Error::WrongAnswerType {
                            question: key.to_owned(),
                            expected: "a list of option ids",
                        }),
                });
                Answer::Multi(ids.collect::<Result<_>>()?)
            }
            QuestionKind::Likert { .. } => Answer::Likert(fields.int(key)?),
            QuestionKind::Integer { .. } => Answer::Integer(fields.int(key)?),
            QuestionKind::Date => Answer::Date(fields.day(key)?),
            QuestionKind::Single { .. } => Answer::Single(fields.string(key)?.to_owned()),
            QuestionKind::Text { .. } => Answer::Text(fields.string(key)?.to_owned()),
            QuestionKind::Note => {
                return Err(Error::WrongAnswerType {
                    question: key.to_owned(),
                    expected: "no answer: it is a note",
                });
            }
        };
        form.check_answer(key, &answer)?;
        out.insert(key.to_owned(), answer);
    }
    Ok(out)
}

pub(super) fn parse_status(text: &str) -> Result<ResponseStatus> {
    match text {
        "draft" => Ok(ResponseStatus::Draft),
        "submitted" => Ok(ResponseStatus::Submitted),
        _ => Err(Error::FieldType {
            field: "status".into(),
            expected: "\"draft\" or \"submitted\"",
        }),
    }
}

pub(super) fn parse_review_state(text: &str) -> Result<ReviewState> {
    [ReviewState::Pending, ReviewState::Approved, ReviewState::Flagged]
        .into_iter()
        .find(|state| state.as_str() == text)
        .ok_or_else(|| Error::FieldType {
            field: "review.state".into(),
            expected: "pending, approved or flagged",
        })
}

fn read_review(review: &Fields) -> Result<Review> {
    review.only("review.", REVIEW_FIELDS)?;
    let state = match review.scalar("state")? {
        None => None,
        Some(_) => Some(parse_review_state(review.string("state")?)?),
    };
    let note = match review.scalar("note")? {
        None => None,
        Some(_) => Some(review.string("note")?.to_owned()),
    };
    if let Some(note) = &note {
        check_free_text("review note", note, REVIEW_NOTE_MAX)?;
    }
    Ok(Review { state, note })
}
