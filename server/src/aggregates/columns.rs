//! Responses of one form in memory, a column per field. Aggregating a million responses is a
//! few passes over small arrays here, where the same cross-tab in SQL is a join of millions of
//! answer rows. Columns are filled from the materialized tables and only for the questions a
//! query needs.

use std::collections::HashMap;

use sync_core::{Day, Form, QuestionKind};
use uuid::Uuid;

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
    pub area: Vec<u16>,
    pub areas: Vec<String>,
    pub day: Vec<i32>,
    pub questions: HashMap<String, Column>,
}

impl FormColumns {
    pub fn new(form: &Form) -> FormColumns {
        FormColumns {
            rows: HashMap::new(),
            submitted: Vec::new(),
            area: Vec::new(),
            areas: form.areas.clone(),
            day: Vec::new(),
            questions: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.day.len()
    }

    pub fn push_response(&mut self, document: Uuid, submitted: bool, area: &str, day: Day) {
        let code = match self.areas.iter().position(|a| a == area) {
            Some(i) => i,
            None => {
                self.areas.push(area.to_owned());
                self.areas.len() - 1
            }
        };
        self.rows.insert(document, self.day.len() as u32);
        self.submitted.push(submitted);
        self.area.push(code as u16);
        self.day.push(day.to_days() as i32);
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
            QuestionKind::Date | QuestionKind::Text { .. } => return,
        };
        for (document, value, num) in answers {
            let Some(&row) = self.rows.get(&document) else {
                continue;
            };
            let row = row as usize;
            match (&mut column, value, num) {
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
        self.questions.insert(question.to_owned(), column);
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
