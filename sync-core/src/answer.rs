use serde_json::Value;

use crate::{Day, Error, Form, QuestionKind, Result, is_scrubbed, scrub_free_text};

/// One answer, typed by the question it answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Single(String),
    Multi(Vec<String>),
    Likert(i64),
    Integer(i64),
    Date(Day),
    Text(String),
}

impl Answer {
    /// Reads an answer from JSON (a CLI answers file, the web app) as the question expects it.
    /// Free text is scrubbed on the way in: the device is where identifying details are removed.
    pub fn from_json(form: &Form, question: &str, value: &Value) -> Result<Answer> {
        let q = form.question(question)?;
        let wrong = |expected| Error::WrongAnswerType {
            question: q.id.clone(),
            expected,
        };
        let answer = match &q.kind {
            QuestionKind::Single { .. } => {
                Answer::Single(value.as_str().ok_or_else(|| wrong("an option id"))?.to_owned())
            }
            QuestionKind::Multi { .. } => {
                let items = value.as_array().ok_or_else(|| wrong("a list of option ids"))?;
                let ids = items.iter().map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| wrong("a list of option ids"))
                });
                Answer::Multi(ids.collect::<Result<_>>()?)
            }
            QuestionKind::Likert { .. } => {
                Answer::Likert(value.as_i64().ok_or_else(|| wrong("a whole number"))?)
            }
            QuestionKind::Integer { .. } => {
                Answer::Integer(value.as_i64().ok_or_else(|| wrong("a whole number"))?)
            }
            QuestionKind::Date => Answer::Date(Day::parse(
                value.as_str().ok_or_else(|| wrong("a day written YYYY-MM-DD"))?,
            )?),
            QuestionKind::Text { .. } => {
                Answer::Text(scrub_free_text(value.as_str().ok_or_else(|| wrong("text"))?))
            }
            QuestionKind::Note => return Err(wrong(expected_for(&q.kind))),
        };
        form.check_answer(question, &answer)?;
        Ok(answer)
    }

    pub fn to_json(&self) -> Value {
        match self {
            Answer::Single(s) | Answer::Text(s) => Value::from(s.as_str()),
            Answer::Multi(ids) => Value::from(ids.clone()),
            Answer::Likert(n) | Answer::Integer(n) => Value::from(*n),
            Answer::Date(day) => Value::from(day.to_string()),
        }
    }
}

impl Form {
    /// Checks that `answer` fits question `question` of this form: type, option ids, range,
    /// length and scrubbing.
    pub fn check_answer(&self, question: &str, answer: &Answer) -> Result<()> {
        let q = self.question(question)?;
        let wrong = |expected| Error::WrongAnswerType {
            question: q.id.clone(),
            expected,
        };
        let unknown = |option: &str| Error::UnknownOption {
            question: q.id.clone(),
            option: option.chars().take(80).collect(),
        };
        match (&q.kind, answer) {
            (QuestionKind::Single { options }, Answer::Single(id)) => options
                .iter()
                .any(|o| o.id() == id)
                .then_some(())
                .ok_or_else(|| unknown(id)),
            (QuestionKind::Multi { options }, Answer::Multi(ids)) => {
                for (i, id) in ids.iter().enumerate() {
                    if !options.iter().any(|o| o.id() == id) {
                        return Err(unknown(id));
                    }
                    if ids[..i].contains(id) {
                        return Err(Error::RepeatedOption {
                            question: q.id.clone(),
                            option: id.clone(),
                        });
                    }
                }
                Ok(())
            }
            (QuestionKind::Likert { scale, .. }, Answer::Likert(n)) => in_range(&q.id, *n, 1, *scale),
            (QuestionKind::Integer { min, max }, Answer::Integer(n)) => in_range(&q.id, *n, *min, *max),
            (QuestionKind::Date, Answer::Date(_)) => Ok(()),
            (QuestionKind::Text { max_len }, Answer::Text(text)) => {
                check_free_text(&format!("answer to {:?}", q.id), text, *max_len as usize)
            }
            (kind, _) => Err(wrong(expected_for(kind))),
        }
    }
}

/// Length and scrubbing rules for any free text kept in a document.
pub(crate) fn check_free_text(field: &str, text: &str, max_len: usize) -> Result<()> {
    if text.chars().count() > max_len {
        return Err(Error::TextTooLong {
            field: field.to_owned(),
            max_len,
        });
    }
    if !is_scrubbed(text) {
        return Err(Error::UnscrubbedText {
            field: field.to_owned(),
        });
    }
    Ok(())
}

fn in_range(question: &str, value: i64, min: i64, max: i64) -> Result<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            question: question.to_owned(),
            value,
            min,
            max,
        })
    }
}

fn expected_for(kind: &QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Single { .. } => "an option id",
        QuestionKind::Multi { .. } => "a list of option ids",
        QuestionKind::Likert { .. } | QuestionKind::Integer { .. } => "a whole number",
        QuestionKind::Date => "a day written YYYY-MM-DD",
        QuestionKind::Text { .. } => "text",
        QuestionKind::Note => "no answer: it is a note",
    }
}
