use std::collections::HashSet;

use super::{Form, QuestionKind};
use crate::{Error, Result, check_identifier};

const MAX_QUESTIONS: usize = 500;
const MAX_OPTIONS: usize = 200;
const MAX_AREAS: usize = 1000;
const MAX_TEXT_LEN: i64 = 2000;
/// Names aggregates use for built-in dimensions; a question with one of them would be ambiguous.
const RESERVED_IDS: &[&str] = &["area", "week", "month", "status", "form", "dataset"];

impl Form {
    /// Checks everything serde cannot: ids, ranges, references between scores and questions.
    pub(super) fn validate(&self) -> Result<()> {
        check_identifier("form id", &self.id)?;
        if self.version < 1 {
            return Err(Error::BadVersion(self.id.clone()));
        }
        if self.title.trim().is_empty() {
            return Err(Error::EmptyTitle);
        }
        if self.areas.is_empty() {
            return Err(Error::NoAreas);
        }
        if self.questions.is_empty() {
            return Err(Error::NoQuestions);
        }
        limit("areas", self.areas.len(), MAX_AREAS)?;
        limit("questions", self.questions.len(), MAX_QUESTIONS)?;
        for area in &self.areas {
            check_identifier("area", area)?;
        }
        unique(self.areas.iter().map(String::as_str))?;
        unique(
            self.questions
                .iter()
                .map(|q| q.id.as_str())
                .chain(self.scores.iter().map(|s| s.id.as_str())),
        )?;

        for question in &self.questions {
            if RESERVED_IDS.contains(&question.id.as_str()) {
                return Err(Error::ReservedId(question.id.clone()));
            }
            check_question_kind(&question.id, &question.kind)?;
        }
        for score in &self.scores {
            check_identifier("score id", &score.id)?;
            if score.items.is_empty() {
                return Err(Error::EmptyScore {
                    score: score.id.clone(),
                });
            }
            unique(score.items.iter().map(String::as_str))?;
            for item in &score.items {
                let likert = self
                    .questions
                    .iter()
                    .any(|q| q.id == *item && matches!(q.kind, QuestionKind::Likert { .. }));
                if !likert {
                    return Err(Error::ScoreItemNotLikert {
                        score: score.id.clone(),
                        item: item.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

fn check_question_kind(question: &str, kind: &QuestionKind) -> Result<()> {
    check_identifier("question id", question)?;
    match kind {
        QuestionKind::Single { options } | QuestionKind::Multi { options } => {
            if options.is_empty() {
                return Err(Error::EmptyOptions {
                    question: question.to_owned(),
                });
            }
            limit("options", options.len(), MAX_OPTIONS)?;
            for option in options {
                check_identifier("option id", option.id())?;
            }
            unique(options.iter().map(|o| o.id()))
        }
        QuestionKind::Likert { scale, .. } if !(3..=7).contains(scale) => Err(Error::ScaleOutOfRange {
            question: question.to_owned(),
            scale: *scale,
        }),
        QuestionKind::Integer { min, max } if min > max => Err(Error::MinAboveMax {
            question: question.to_owned(),
            min: *min,
            max: *max,
        }),
        QuestionKind::Text { max_len } if !(1..=MAX_TEXT_LEN).contains(max_len) => Err(Error::BadTextLimit {
            question: question.to_owned(),
            max_len: *max_len,
        }),
        _ => Ok(()),
    }
}

fn unique<'a>(ids: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(Error::DuplicateId(id.to_owned()));
        }
    }
    Ok(())
}

fn limit(what: &'static str, count: usize, limit: usize) -> Result<()> {
    if count > limit {
        Err(Error::FormTooLarge { what, count, limit })
    } else {
        Ok(())
    }
}
