//! Every change of a document checked on its own, not only the state they merge to.
//!
//! Automerge keeps every change forever: a value written and later overwritten or deleted, the
//! losing side of two concurrent edits and every character ever typed into a text object stay
//! in the stored bytes, and a site document carries them to every phone of its dataset. So each
//! operation of each change is checked against the schema: the key it writes, at any depth and
//! in objects deleted later; the value it puts, by the same rules as the final state; the
//! bound of a counter increment. A text object a change touches is checked as everything ever
//! typed into it, deleted characters included, and as it reads after that change.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{ElementId, Key, ObjectId, Op, OpId, OpType};
use automerge::{AutoCommit, Change, ChangeHash, ObjType, Prop, ReadDoc, ScalarValue};
use uuid::Uuid;

use super::read::whole_number;
use super::{Against, DocKind, counters, response, site, tally};
use crate::answer::check_free_text;
use crate::{Answer, Day, Error, Form, QuestionKind, Result, check_identifier, is_scrubbed};

/// Where an object sits in a document's schema.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Root,
    /// A response's `answers` map.
    Answers,
    /// A response's `review` map.
    Review,
    /// The list answering a multi question.
    Choices(String),
    /// The `tallies` map of a site or of a tally document.
    Tallies,
    /// A text object holding a string field (the JS library's default for strings).
    Text(Field),
}

/// A place that holds a string or number.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    Root(String),
    Answer(String),
    Choice(String),
    Review(String),
}

impl Field {
    fn name(&self) -> String {
        match self {
            Field::Root(key) => crate::quoted(key),
            Field::Answer(q) | Field::Choice(q) => format!("answers.{}", crate::quoted(q)),
            Field::Review(key) => format!("review.{}", crate::quoted(key)),
        }
    }
}

/// The checks of one document's changes.
pub(crate) struct History<'a> {
    doc: &'a mut AutoCommit,
    kind: DocKind,
    form: Option<&'a Form>,
    /// A tally document's site's metrics, when known: the only counters it may hold.
    metrics: Option<&'a [String]>,
    /// Objects whose place is known: made by a checked change, or looked up in the document.
    slots: HashMap<OpId, Slot>,
    /// Objects the checked changes made.
    made: HashSet<OpId>,
    /// Text objects the changes touched, with the changes that did.
    texts: HashMap<OpId, (Field, Vec<ChangeHash>)>,
    /// Characters inserted into those text objects by the checked changes.
    inserted: Vec<Insert>,
    /// Tallies the checked changes took away from: (tallies map, metric, change).
    decrements: Vec<(OpId, String, ChangeHash)>,
    /// When the checked changes are the document's whole history in one change (a new
    /// response, as our clients send it), the operations of it that a later one of it
    /// overwrote or deleted; every other value it puts is one the merged state shows, which
    /// its caller has checked already.
    hidden_by_itself: Option<HashSet<OpId>>,
    /// The changes come from a device, which may not touch a response's review: supervisors
    /// review through the server, which writes those changes itself.
    from_device: bool,
}

struct Insert {
    text: OpId,
    element: OpId,
    after: ElementId,
    value: String,
}

/// Checks `changes`, all of them already applied to `doc`, as changes to a `kind` document
/// (responses against `form`, tally documents against their site's metrics), whose merged
/// state the caller has checked. `created` says whether `doc` held nothing before them, the
/// only case in which a change may start a history (a change without dependencies).
/// `from_device` changes may not write the review, nor make its map anywhere but in the change
/// that creates the response.
pub(crate) fn check_changes(
    doc: &mut AutoCommit,
    changes: &[Change],
    kind: DocKind,
    against: Against<'_>,
    created: bool,
    from_device: bool,
) -> Result<()> {
    if kind == DocKind::Form {
        // Written by the server alone, from a form that passed `Form::from_json`.
        return Ok(());
    }
    if matches!(kind, DocKind::Site | DocKind::Tally) {
        let starts = changes.iter().filter(|c| c.deps().is_empty()).count();
        if starts > usize::from(created) {
            return Err(Error::FieldType {
                field: "tallies".into(),
                expected: "created once, with the document",
            });
        }
    }
    let mut history = History {
        doc,
        kind,
        form: against.form(),
        metrics: against.metrics(),
        slots: HashMap::new(),
        made: HashSet::new(),
        texts: HashMap::new(),
        inserted: Vec::new(),
        decrements: Vec::new(),
        hidden_by_itself: None,
        from_device,
    };
    let decoded: Vec<_> = changes.iter().map(|c| (c, c.decode().operations)).collect();
    if let [(_, ops)] = decoded.as_slice()
        && created
    {
        let hidden = ops.iter().flat_map(|op| op.pred.iter().cloned()).collect();
        history.hidden_by_itself = Some(hidden);
    }
    for (change, ops) in &decoded {
        history.check_change(change, ops)?;
    }
    history.check_decrements()?;
    history.check_texts(changes)
}

impl History<'_> {
    fn check_change(&mut self, change: &Change, ops: &[Op]) -> Result<()> {
        let creating = change.deps().is_empty();
        let start = change.start_op().get();
        // Objects made by an operation are looked up before their own operations run, so the
        // made ones are known first.
        for (i, op) in ops.iter().enumerate() {
            let id = OpId(start + i as u64, change.actor_id().clone());
            let slot = self.slot_of(&op.obj)?;
            if self.kind == DocKind::Tally && !creating && !matches!(op.action, OpType::Increment(_)) {
                return Err(self.wrong(
                    &field_at(&slot, &op.key),
                    "written by the tally document's first change only",
                ));
            }
            if !key_fits(&slot, op) {
                return Err(Error::Automerge(
                    "an operation's key does not fit its object".into(),
                ));
            }
            if let Key::Map(key) = &op.key {
                self.check_key(&slot, key)?;
            }
            if self.from_device && writes_review(&slot, &op.key, &op.action, creating) {
                return Err(Error::ReviewFromDevice);
            }
            match &op.action {
                OpType::Make(made) => {
                    let child = self.child(&slot, &op.key, *made, creating)?;
                    if let Slot::Text(field) = &child {
                        self.touch(&id, field, change.hash());
                    }
                    self.made.insert(id.clone());
                    self.slots.insert(id, child);
                }
                OpType::Put(value) => match &slot {
                    Slot::Text(field) if op.insert => {
                        let ObjectId::Id(text) = &op.obj else {
                            unreachable!("the root is a map")
                        };
                        let (Key::Seq(after), Some(value)) = (&op.key, value.as_str()) else {
                            return Err(self.wrong(field, "text"));
                        };
                        self.touch(text, field, change.hash());
                        self.inserted.push(Insert {
                            text: text.clone(),
                            element: id,
                            after: after.clone(),
                            value: value.to_owned(),
                        });
                    }
                    Slot::Text(field) => return Err(self.wrong(field, "text typed, not overwritten")),
                    Slot::Tallies => self.check_new_counter(&op.key, value, creating)?,
                    _ if self
                        .hidden_by_itself
                        .as_ref()
                        .is_some_and(|hidden| !hidden.contains(&id)) => {}
                    _ => self.check_value(&field_at(&slot, &op.key), value)?,
                },
                OpType::Delete => match &slot {
                    Slot::Tallies => return Err(Error::NotACounter("a deleted tally".into())),
                    Slot::Text(field) => {
                        let ObjectId::Id(text) = &op.obj else {
                            unreachable!("the root is a map")
                        };
                        self.touch(text, field, change.hash());
                    }
                    _ => {}
                },
                OpType::Increment(by) => match (&slot, &op.key) {
                    (Slot::Tallies, Key::Map(metric)) => {
                        counters::check_step(metric, *by)?;
                        if let (true, ObjectId::Id(tallies)) = (*by < 0, &op.obj) {
                            self.decrements
                                .push((tallies.clone(), metric.to_string(), change.hash()));
                        }
                    }
                    _ => return Err(Error::NotACounter(field_at(&slot, &op.key).name())),
                },
                OpType::MarkBegin(_) | OpType::MarkEnd(_) => {
                    return Err(Error::FieldType {
                        field: "text".into(),
                        expected: "plain text without marks",
                    });
                }
            }
            for actor in op.pred.iter().map(OpId::actor).chain(object_actor(&op.obj)) {
                super::check::check_actor(actor)?;
            }
        }
        Ok(())
    }

    /// A change may take away only what the state it was made on counted: a tally read right
    /// after it is not below zero.
    fn check_decrements(&mut self) -> Result<()> {
        for (tallies, metric, change) in &self.decrements {
            let tallies = self.import(tallies)?;
            let count = match self.doc.get_at(&tallies, metric.as_str(), &[*change])? {
                Some((automerge::Value::Scalar(value), _)) => match value.as_ref() {
                    ScalarValue::Counter(c) => i64::from(c),
                    _ => return Err(Error::NotACounter(crate::quoted(metric))),
                },
                _ => return Err(Error::NotACounter(crate::quoted(metric))),
            };
            if count < 0 {
                return Err(Error::NegativeTally(crate::quoted(metric)));
            }
        }
        Ok(())
    }

    /// The document's id for an object an operation names.
    fn import(&self, id: &OpId) -> Result<automerge::ObjId> {
        self.doc
            .import(&format!("{}@{}", id.counter(), id.actor()))
            .map(|(obj, _)| obj)
            .map_err(|_| Error::Automerge("an operation names an object the document lacks".into()))
    }

    fn touch(&mut self, text: &OpId, field: &Field, change: ChangeHash) {
        let (_, changes) = self
            .texts
            .entry(text.clone())
            .or_insert_with(|| (field.clone(), Vec::new()));
        if changes.last() != Some(&change) {
            changes.push(change);
        }
    }

    /// The place of an object: known, or looked up in the document by its path.
    fn slot_of(&mut self, obj: &ObjectId) -> Result<Slot> {
        let ObjectId::Id(id) = obj else {
            return Ok(Slot::Root);
        };
        if let Some(slot) = self.slots.get(id) {
            return Ok(slot.clone());
        }
        let exid = self.import(id)?;
        let kind = self.doc.object_type(&exid)?;
        let mut steps: Vec<_> = self.doc.parents(&exid)?.collect();
        steps.reverse();
        let mut slot = Slot::Root;
        for (i, step) in steps.iter().enumerate() {
            let made = steps.get(i + 1).map_or(kind, |next| next.typ);
            let key = match &step.prop {
                Prop::Map(key) => Key::Map(key.as_str().into()),
                Prop::Seq(_) => Key::Seq(ElementId::Head),
            };
            // Counters and the tallies map were checked when the document was created.
            slot = self.child(&slot, &key, made, true)?;
        }
        self.slots.insert(id.clone(), slot.clone());
        Ok(slot)
    }

    fn check_key(&self, slot: &Slot, key: &str) -> Result<()> {
        let allowed = match (slot, self.kind) {
            (Slot::Root, DocKind::Response) => response::FIELDS.contains(&key),
            (Slot::Root, DocKind::Site) => site::FIELDS.contains(&key),
            (Slot::Root, DocKind::Tally) => tally::FIELDS.contains(&key),
            (Slot::Review, _) => response::REVIEW_FIELDS.contains(&key),
            (Slot::Answers, _) => self.form.is_some_and(|f| f.question(key).is_ok()),
            (Slot::Tallies, _) => match self.metrics {
                Some(metrics) => metrics.iter().any(|m| m == key),
                None => check_identifier("tally metric", key).is_ok(),
            },
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            let prefix = match slot {
                Slot::Answers => "answers.",
                Slot::Review => "review.",
                Slot::Tallies => "tallies.",
                _ => "",
            };
            Err(Error::UndeclaredField(format!("{prefix}{}", crate::quoted(key))))
        }
    }

    /// The place of an object of type `made` under `key` of an object at `slot`.
    fn child(&self, slot: &Slot, key: &Key, made: ObjType, creating: bool) -> Result<Slot> {
        let field = field_at(slot, key);
        let child = match (slot, key, made) {
            (Slot::Root, Key::Map(k), ObjType::Map) if self.kind == DocKind::Response && k == "answers" => {
                Some(Slot::Answers)
            }
            (Slot::Root, Key::Map(k), ObjType::Map) if self.kind == DocKind::Response && k == "review" => {
                Some(Slot::Review)
            }
            (Slot::Root, Key::Map(k), ObjType::Map)
                if matches!(self.kind, DocKind::Site | DocKind::Tally) && k == "tallies" =>
            {
                creating.then_some(Slot::Tallies)
            }
            (Slot::Root, Key::Map(k), ObjType::Text)
                if !["answers", "review", "tallies"].contains(&k.as_str()) =>
            {
                Some(Slot::Text(field.clone()))
            }
            (Slot::Review, _, ObjType::Text) => Some(Slot::Text(field.clone())),
            (Slot::Answers, Key::Map(q), made) => match (self.question_kind(q), made) {
                (Some(QuestionKind::Multi { .. }), ObjType::List) => Some(Slot::Choices(q.to_string())),
                (
                    Some(QuestionKind::Single { .. } | QuestionKind::Text { .. } | QuestionKind::Date),
                    ObjType::Text,
                ) => Some(Slot::Text(field.clone())),
                _ => None,
            },
            (Slot::Choices(_), _, ObjType::Text) => Some(Slot::Text(field.clone())),
            _ => None,
        };
        child.ok_or_else(|| self.wrong(&field, "a value of its schema's type"))
    }

    fn question_kind(&self, question: &str) -> Option<&QuestionKind> {
        Some(&self.form?.question(question).ok()?.kind)
    }

    fn wrong(&self, field: &Field, expected: &'static str) -> Error {
        Error::FieldType {
            field: field.name(),
            expected,
        }
    }

    /// A tally counter is made with the site, starting at a count a change could add.
    fn check_new_counter(&self, key: &Key, value: &ScalarValue, creating: bool) -> Result<()> {
        let metric = match key {
            Key::Map(metric) => metric.to_string(),
            Key::Seq(_) => String::new(),
        };
        match value {
            ScalarValue::Counter(start) if creating => counters::check_start(&metric, i64::from(start)),
            _ => Err(Error::NotACounter(crate::quoted(&metric))),
        }
    }

    /// The rules the final state's readers apply to the same field, for a value any change
    /// puts, overwritten and conflicting ones included.
    fn check_value(&self, field: &Field, value: &ScalarValue) -> Result<()> {
        if let (Field::Root(key), DocKind::Response) = (field, self.kind)
            && key == "form_version"
        {
            return match whole_number(value) {
                Some(version) if version >= 1 => Ok(()),
                _ => Err(self.wrong(field, "a form version of 1 or more")),
            };
        }
        if let Field::Answer(q) = field
            && let Some(QuestionKind::Likert { .. } | QuestionKind::Integer { .. }) = self.question_kind(q)
        {
            let n = whole_number(value).ok_or_else(|| Error::WrongAnswerType {
                question: q.clone(),
                expected: "a whole number",
            })?;
            let answer = match self.question_kind(q) {
                Some(QuestionKind::Likert { .. }) => Answer::Likert(n),
                _ => Answer::Integer(n),
            };
            return self.form_of(q)?.check_answer(q, &answer);
        }
        let text = value.as_str().ok_or_else(|| self.wrong(field, "text"))?;
        self.check_string(field, text)
    }

    fn form_of(&self, question: &str) -> Result<&Form> {
        self.form
            .ok_or_else(|| Error::UndeclaredField(format!("answers.{question}")))
    }

    /// A string field's rules: free text is scrubbed and bounded, everything else must be one
    /// of the values the schema or the form allows.
    fn check_string(&self, field: &Field, text: &str) -> Result<()> {
        match (field, self.kind) {
            (Field::Root(key), kind) if key == "schema" => {
                if text == kind.schema() {
                    Ok(())
                } else {
                    Err(Error::Schema {
                        expected: kind.schema(),
                        found: crate::quoted(text),
                    })
                }
            }
            (Field::Root(key), _) if key == "dataset" => Uuid::parse_str(text)
                .map(|_| ())
                .map_err(|_| self.wrong(field, "a uuid")),
            (Field::Root(key), DocKind::Response) => {
                let form = self
                    .form
                    .ok_or_else(|| self.wrong(field, "a response of a known form"))?;
                match key.as_str() {
                    "form" if text == form.id => Ok(()),
                    "status" => response::parse_status(text).map(|_| ()),
                    "collected_on" => Day::parse(text).map(|_| ()),
                    "area" => form.check_area(text),
                    _ => Err(self.wrong(field, "the value its schema gives it")),
                }
            }
            (Field::Root(key), DocKind::Site) => match key.as_str() {
                "site" => check_identifier("site code", text),
                "name" => check_free_text("site name", text, site::NAME_MAX),
                _ => Err(self.wrong(field, "the value its schema gives it")),
            },
            (Field::Root(key), DocKind::Tally) if key == "site" => Uuid::parse_str(text)
                .map(|_| ())
                .map_err(|_| self.wrong(field, "a uuid")),
            (Field::Review(key), _) => match key.as_str() {
                "state" => response::parse_review_state(text).map(|_| ()),
                _ => check_free_text("review note", text, response::REVIEW_NOTE_MAX),
            },
            (Field::Answer(q), _) => {
                let form = self.form_of(q)?;
                let answer = match &form.question(q)?.kind {
                    QuestionKind::Single { .. } => Answer::Single(text.to_owned()),
                    QuestionKind::Text { .. } => Answer::Text(text.to_owned()),
                    QuestionKind::Date => Answer::Date(Day::parse(text)?),
                    _ => return Err(self.wrong(field, "an answer of its question's type")),
                };
                form.check_answer(q, &answer)
            }
            (Field::Choice(q), _) => self
                .form_of(q)?
                .check_answer(q, &Answer::Multi(vec![text.to_owned()])),
            _ => Err(self.wrong(field, "the value its schema gives it")),
        }
    }

    fn is_free_text(&self, field: &Field) -> bool {
        match field {
            Field::Root(key) => self.kind == DocKind::Site && key == "name",
            Field::Answer(q) => matches!(self.question_kind(q), Some(QuestionKind::Text { .. })),
            Field::Review(key) => key == "note",
            Field::Choice(_) => false,
        }
    }

    /// Each touched text object, as every character ever typed into it in document order
    /// (deleted ones too: they stay in the history) and as it reads after each change that
    /// touched it. Free text must be scrubbed in both; any other field's text must be one
    /// allowed value typed once, so nothing else was ever typed there.
    fn check_texts(&mut self, changes: &[Change]) -> Result<()> {
        if self.texts.is_empty() {
            return Ok(());
        }
        let older: Vec<OpId> = self
            .texts
            .keys()
            .filter(|text| !self.made.contains(*text))
            .cloned()
            .collect();
        if !older.is_empty() {
            let before = inserts_before(self.doc, changes, &older);
            self.inserted.extend(before);
        }
        for (text, (field, touched_by)) in &self.texts {
            let typed = typed_text(self.inserted.iter().filter(|i| &i.text == text));
            if self.is_free_text(field) {
                if !is_scrubbed(&typed) {
                    return Err(Error::UnscrubbedText { field: field.name() });
                }
                let exid = self.import(text)?;
                for change in touched_by {
                    let shown = self.doc.text_at(&exid, &[*change])?;
                    if !is_scrubbed(&shown) {
                        return Err(Error::UnscrubbedText { field: field.name() });
                    }
                }
            } else {
                self.check_string(field, &typed)?;
            }
        }
        Ok(())
    }
}

/// Whether an operation addresses its object the way Automerge itself writes one: a map by
/// key, a list or text by element; an insert puts or makes a new element after the head or an
/// element; anything else names an element, never the head. Automerge 0.12 applies an
/// overwrite of a list's head (one bit changed in a change) and then saves the document to
/// bytes it cannot load again.
fn key_fits(slot: &Slot, op: &Op) -> bool {
    let inserts = matches!(op.action, OpType::Put(_) | OpType::Make(_));
    match (slot, &op.key) {
        (Slot::Choices(_) | Slot::Text(_), Key::Seq(ElementId::Head)) => op.insert && inserts,
        (Slot::Choices(_) | Slot::Text(_), Key::Seq(ElementId::Id(_))) => !op.insert || inserts,
        (Slot::Choices(_) | Slot::Text(_), Key::Map(_)) | (_, Key::Seq(_)) => false,
        (_, Key::Map(_)) => !op.insert,
    }
}

/// The field an operation under `key` of an object at `slot` writes.
fn field_at(slot: &Slot, key: &Key) -> Field {
    let key = match key {
        Key::Map(key) => key.to_string(),
        Key::Seq(_) => String::new(),
    };
    match slot {
        Slot::Root => Field::Root(key),
        Slot::Answers => Field::Answer(key),
        Slot::Review => Field::Review(key),
        Slot::Choices(q) => Field::Choice(q.clone()),
        Slot::Tallies => Field::Root(format!("tallies.{key}")),
        Slot::Text(field) => field.clone(),
    }
}

/// Whether an operation changes a response's review: anything inside the review map (or a
/// text object in it), or the map itself, except making it in the change that creates the
/// response. A review map made again later would hide the one a supervisor filled.
fn writes_review(slot: &Slot, key: &Key, action: &OpType, creating: bool) -> bool {
    match (slot, key) {
        (Slot::Review | Slot::Text(Field::Review(_)), _) => true,
        (Slot::Root, Key::Map(k)) if k == "review" => {
            !(creating && matches!(action, OpType::Make(ObjType::Map)))
        }
        _ => false,
    }
}

/// The actor an object's id names, if it is not the root.
fn object_actor(obj: &ObjectId) -> Option<&automerge::ActorId> {
    match obj {
        ObjectId::Id(id) => Some(id.actor()),
        ObjectId::Root => None,
    }
}

/// What changes of `doc` other than `checked` typed into the text objects `texts`.
fn inserts_before(doc: &mut AutoCommit, checked: &[Change], texts: &[OpId]) -> Vec<Insert> {
    let checked: HashSet<ChangeHash> = checked.iter().map(Change::hash).collect();
    let mut found = Vec::new();
    for change in doc.document().get_changes(&[]) {
        if checked.contains(&change.hash()) {
            continue;
        }
        let start = change.start_op().get();
        for (i, op) in change.decode().operations.into_iter().enumerate() {
            let (ObjectId::Id(text), Key::Seq(after), OpType::Put(value)) = (op.obj, op.key, op.action)
            else {
                continue;
            };
            if op.insert && texts.contains(&text) {
                found.push(Insert {
                    text,
                    element: OpId(start + i as u64, change.actor_id().clone()),
                    after,
                    value: value.as_str().unwrap_or_default().to_owned(),
                });
            }
        }
    }
    found
}

/// Characters inserted into one text object, in the order Automerge keeps them, deleted ones
/// included: each after the element it names, and of those inserted after the same element the
/// latest (highest operation id) first.
fn typed_text<'a>(inserts: impl Iterator<Item = &'a Insert>) -> String {
    let mut after: HashMap<&ElementId, Vec<&Insert>> = HashMap::new();
    for insert in inserts {
        after.entry(&insert.after).or_default().push(insert);
    }
    let order = |i: &Insert| (i.element.counter(), i.element.actor().to_bytes().to_vec());
    for siblings in after.values_mut() {
        siblings.sort_by_key(|i| std::cmp::Reverse(order(i)));
    }
    let mut typed = String::new();
    let mut stack: Vec<&Insert> = after
        .get(&ElementId::Head)
        .map(|first| first.iter().rev().copied().collect())
        .unwrap_or_default();
    while let Some(insert) = stack.pop() {
        typed.push_str(&insert.value);
        if let Some(next) = after.get(&ElementId::Id(insert.element.clone())) {
            stack.extend(next.iter().rev());
        }
    }
    typed
}
