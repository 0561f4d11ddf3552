//! Responses of one form in memory, a column per field. Aggregating a million responses is a
//! few passes over small arrays here, where the same cross-tab in SQL is a join of millions of
//! answer rows. Columns are filled from the materialized tables and only for the questions a
//! query needs.

use std::collections::HashMap;

use sync_core::{Day, Form, QuestionKind};
use uuid::Uuid;

use crate::storage::{DocumentFacts, ResponseFact};

/// Absent numbers: the question was not answered.
pub const MISSING: i32 = i32::MIN;
/// Integer questions are shown in this many equal-width bins.
pub const INTEGER_BINS: i64 = 5;

pub enum Column {
    /// A single-choice answer: 0 when unanswered, else 1 + the option's index in `labels`.
    Choice { codes: Vec<u16>, labels: Vec<String> },
    /// A multi-choice answer: bit i set when option `labels[i]` was chosen.
    Choices { masks: Vec<u64>, labels: Vec<String> },
    /// A likert or integer answer, or [`MISSING`].
    Number {
        values: Vec<i32>,
        min: i64,
        max: i64,
        likert: bool,
    },
}

pub struct FormColumns {
    rows: HashMap<Uuid, u32>,
    pub submitted: Vec<bool>,
    /// The response's review standing is `approved`.
    pub approved: Vec<bool>,
    pub area: Vec<u16>,
    pub areas: Vec<String>,
    pub day: Vec<i32>,
    /// Each response's record key (`storage::record_key`).
    pub key: Vec<u8>,
    pub questions: HashMap<String, Column>,
}

impl FormColumns {
    pub fn new(form: &Form) -> FormColumns {
        FormColumns {
            rows: HashMap::new(),
            submitted: Vec::new(),
            approved: Vec::new(),
            area: Vec::new(),
            areas: form.areas.clone(),
            day: Vec::new(),
            key: Vec::new(),
            questions: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.day.len()
    }

    pub fn push_response(&mut self, fact: &ResponseFact, day: Day) {
        let code = self.area_code(&fact.area);
        self.rows.insert(fact.document, self.day.len() as u32);
        self.submitted.push(fact.submitted);
        self.approved.push(fact.approved);
        self.area.push(code);
        self.day.push(day.to_days() as i32);
        self.key.push(fact.record_key);
    }

    fn area_code(&mut self, area: &str) -> u16 {
        match self.areas.iter().position(|a| a == area) {
            Some(i) => i as u16,
            None => {
                self.areas.push(area.to_owned());
                (self.areas.len() - 1) as u16
            }
        }
    }

    /// Fills the column of `question` from its answer rows `(document, value, num)`. Answers
    /// of documents not pushed before are ignored.
    pub fn load_question(
        &mut self,
        form: &Form,
        question: &str,
        answers: impl IntoIterator<Item = (Uuid, Option<String>, Option<i64>)>,
    ) {
        let Ok(definition) = form.question(question) else {
            return;
        };
        let rows = self.len();
        let mut column = match &definition.kind {
            QuestionKind::Single { options } => Column::Choice {
                codes: vec![0; rows],
                labels: options.iter().map(|o| o.id().to_owned()).collect(),
            },
            QuestionKind::Multi { options } => Column::Choices {
                masks: vec![0; rows],
                labels: options.iter().map(|o| o.id().to_owned()).collect(),
            },
            QuestionKind::Likert { scale, .. } => Column::Number {
                values: vec![MISSING; rows],
                min: 1,
                max: *scale,
                likert: true,
            },
            QuestionKind::Integer { min, max } => Column::Number {
                values: vec![MISSING; rows],
                min: *min,
                max: *max,
                likert: false,
            },
            QuestionKind::Date | QuestionKind::Text { .. } | QuestionKind::Note => return,
        };
        for (document, value, num) in answers {
            if let Some(&row) = self.rows.get(&document) {
                column.set(row as usize, value, num);
            }
        }
        self.questions.insert(question.to_owned(), column);
    }

    /// Brings the rows of `documents` up to date with `facts`, read after they were written:
    /// a document missing from `facts` no longer counts (its row stays, never submitted), a new
    /// one gets a row, and the loaded questions take its answers.
    pub fn update(&mut self, documents: &[Uuid], facts: DocumentFacts) {
        for document in documents {
            if let Some(&row) = self.rows.get(document) {
                let row = row as usize;
                self.submitted[row] = false;
                self.approved[row] = false;
                for column in self.questions.values_mut() {
                    column.clear(row);
                }
            }
        }
        for fact in facts.responses {
            let Ok(day) = Day::parse(&fact.collected_on) else {
                continue;
            };
            match self.rows.get(&fact.document) {
                Some(&row) => {
                    let row = row as usize;
                    self.submitted[row] = fact.submitted;
                    self.approved[row] = fact.approved;
                    self.area[row] = self.area_code(&fact.area);
                    self.day[row] = day.to_days() as i32;
                    self.key[row] = fact.record_key;
                }
                None => {
                    self.push_response(&fact, day);
                    for column in self.questions.values_mut() {
                        column.push_empty();
                    }
                }
            }
        }
        for (question, answer) in facts.answers {
            if let (Some(&row), Some(column)) =
                (self.rows.get(&answer.document), self.questions.get_mut(&question))
            {
                column.set(row as usize, answer.value, answer.num);
            }
        }
    }
}

impl Column {
    /// Records one answer row (a multi-choice answer has one per option chosen); values outside
    /// the question's range are ignored.
    fn set(&mut self, row: usize, value: Option<String>, num: Option<i64>) {
        match (self, value, num) {
            (Column::Choice { codes, labels }, Some(value), _) => {
                codes[row] = 1 + label_code(labels, value) as u16
            }
            (Column::Choices { masks, labels }, Some(value), _) => {
                let bit = label_code(labels, value);
                if bit < 64 {
                    masks[row] |= 1 << bit;
                }
            }
            (Column::Number { values, min, max, .. }, _, Some(num)) if (*min..=*max).contains(&num) => {
                values[row] = num as i32;
            }
            _ => {}
        }
    }

    fn clear(&mut self, row: usize) {
        match self {
            Column::Choice { codes, .. } => codes[row] = 0,
            Column::Choices { masks, .. } => masks[row] = 0,
            Column::Number { values, .. } => values[row] = MISSING,
        }
    }

    fn push_empty(&mut self) {
        match self {
            Column::Choice { codes, .. } => codes.push(0),
            Column::Choices { masks, .. } => masks.push(0),
            Column::Number { values, .. } => values.push(MISSING),
        }
    }
}

/// The index of `value` in `labels`, appending it when an older form version had it.
fn label_code(labels: &mut Vec<String>, value: String) -> usize {
    match labels.iter().position(|l| *l == value) {
        Some(i) => i,
        None => {
            labels.push(value);
            labels.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::storage::AnswerFact;

    const FORM: &str = r#"{ "id": "f", "version": 1, "title": "T", "areas": ["north", "south"],
      "questions": [
        { "id": "gender", "type": "single", "label": "G", "options": ["f", "m"] },
        { "id": "help", "type": "multi", "label": "H", "options": ["ngo", "police"] },
        { "id": "s1", "type": "likert", "label": "S1", "scale": 5 } ] }"#;
    const QUESTIONS: [&str; 3] = ["gender", "help", "s1"];

    /// A response as stored: submitted, area, day, and its answer rows.
    type Stored = (
        bool,
        &'static str,
        &'static str,
        Vec<(&'static str, Option<&'static str>, Option<i64>)>,
    );

    fn facts(stored: &BTreeMap<Uuid, Stored>) -> DocumentFacts {
        let mut facts = DocumentFacts::default();
        for (&document, (submitted, area, day, answers)) in stored {
            facts.responses.push(ResponseFact {
                document,
                submitted: *submitted,
                approved: false,
                area: (*area).into(),
                collected_on: (*day).into(),
                record_key: document.as_bytes()[0],
            });
            for (question, value, num) in answers {
                let answer = AnswerFact {
                    document,
                    value: value.map(str::to_owned),
                    num: *num,
                };
                facts.answers.push(((*question).into(), answer));
            }
        }
        facts
    }

    /// Loads the columns the way a query does: responses, then one question at a time.
    fn loaded(form: &Form, stored: &BTreeMap<Uuid, Stored>) -> FormColumns {
        let mut columns = FormColumns::new(form);
        let facts = facts(stored);
        for fact in &facts.responses {
            let day = Day::parse(&fact.collected_on).expect("day");
            columns.push_response(fact, day);
        }
        for question in QUESTIONS {
            let answers = facts.answers.iter().filter(|(q, _)| q == question);
            let answers = answers.map(|(_, a)| (a.document, a.value.clone(), a.num));
            columns.load_question(form, question, answers);
        }
        columns
    }

    /// What aggregates can see of each counted response: area, day and every answer.
    fn counted(columns: &FormColumns) -> BTreeMap<Uuid, String> {
        let mut seen = BTreeMap::new();
        for (&document, &row) in &columns.rows {
            let row = row as usize;
            if !columns.submitted[row] {
                continue;
            }
            let mut shown = format!(
                "{} {}",
                columns.areas[columns.area[row] as usize], columns.day[row]
            );
            for question in QUESTIONS {
                shown += &match &columns.questions[question] {
                    Column::Choice { codes, labels } => {
                        format!(" {:?}", labels.get((codes[row] as usize).wrapping_sub(1)))
                    }
                    Column::Choices { masks, labels } => {
                        let chosen = labels
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| masks[row] & (1 << i) != 0);
                        format!(" {:?}", chosen.map(|(_, l)| l).collect::<Vec<_>>())
                    }
                    Column::Number { values, .. } => format!(" {}", values[row]),
                };
            }
            seen.insert(document, shown);
        }
        seen
    }

    #[test]
    fn caught_up_columns_equal_columns_loaded_afresh() {
        let form = Form::from_json(FORM).expect("form");
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        let mut stored: BTreeMap<Uuid, Stored> = BTreeMap::new();
        stored.insert(
            ids[0],
            (
                true,
                "north",
                "2026-11-02",
                vec![
                    ("gender", Some("f"), None),
                    ("help", Some("ngo"), None),
                    ("help", Some("police"), None),
                    ("s1", None, Some(2)),
                ],
            ),
        );
        stored.insert(
            ids[1],
            (true, "south", "2026-11-03", vec![("gender", Some("m"), None)]),
        );
        stored.insert(
            ids[2],
            (false, "north", "2026-11-04", vec![("s1", None, Some(5))]),
        );
        stored.insert(ids[3], (true, "north", "2026-11-05", vec![("s1", None, Some(1))]));
        let mut columns = loaded(&form, &stored);

        // Edited: new area, one option fewer, an answer cleared, one added from an older
        // version's options; submitted; removed (a response that moved to another form); new.
        stored.insert(
            ids[0],
            (
                true,
                "south",
                "2026-11-09",
                vec![("gender", Some("m"), None), ("help", Some("police"), None)],
            ),
        );
        stored.insert(
            ids[1],
            (true, "south", "2026-11-03", vec![("gender", Some("other"), None)]),
        );
        stored.insert(ids[2], (true, "north", "2026-11-04", vec![("s1", None, Some(5))]));
        stored.remove(&ids[3]);
        stored.insert(
            ids[4],
            (
                true,
                "east",
                "2026-11-06",
                vec![("s1", None, Some(3)), ("help", Some("ngo"), None)],
            ),
        );
        let written = [ids[0], ids[1], ids[2], ids[3], ids[4]];
        let changed: BTreeMap<Uuid, Stored> = stored
            .iter()
            .filter(|(id, _)| written.contains(id))
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        columns.update(&written, facts(&changed));

        let afresh = loaded(&form, &stored);
        assert_eq!(counted(&columns), counted(&afresh));
        assert_eq!(counted(&columns).len(), 4, "{:?}", counted(&columns));
        assert_eq!(columns.len(), 5, "the removed response keeps its row, uncounted");
    }
}
