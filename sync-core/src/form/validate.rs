use std::collections::HashSet;

use super::{Expr, Form, Question, QuestionKind, Translation};
use crate::{Error, Result, check_identifier};

const MAX_QUESTIONS: usize = 500;
const MAX_OPTIONS: usize = 200;
const MAX_AREAS: usize = 1000;
const MAX_TEXT_LEN: i64 = 2000;
const MAX_SECTIONS: usize = 100;
const MAX_LANGUAGES: usize = 20;
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
            if question.required && question.kind == QuestionKind::Note {
                return Err(Error::WrongAnswerType {
                    question: question.id.clone(),
                    expected: "no answer: a note cannot be required",
                });
            }
            check_translations(question)?;
        }
        limit("title translations", self.title_translations.len(), MAX_LANGUAGES)?;
        for language in self.title_translations.keys().chain(&self.default_language) {
            check_identifier("language", language)?;
        }
        self.check_sections()?;
        self.check_rules()?;
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

impl Form {
    /// Sections are pages: each named once, holding one unbroken run of questions.
    fn check_sections(&self) -> Result<()> {
        limit("sections", self.sections.len(), MAX_SECTIONS)?;
        for section in &self.sections {
            check_identifier("section id", &section.id)?;
            limit("section translations", section.translations.len(), MAX_LANGUAGES)?;
        }
        unique(
            self.sections
                .iter()
                .map(|s| s.id.as_str())
                .chain(self.questions.iter().map(|q| q.id.as_str())),
        )?;
        let mut finished: Vec<&str> = Vec::new();
        let mut current: Option<&str> = None;
        for question in &self.questions {
            let section = question.section.as_deref();
            if let Some(id) = section {
                if !self.sections.iter().any(|s| s.id == id) {
                    return Err(Error::BadSection {
                        problem: format!(
                            "question {:?} names section {id:?}, which the form does not define",
                            question.id
                        ),
                    });
                }
                if finished.contains(&id) {
                    return Err(Error::BadSection {
                        problem: format!(
                            "section {id:?} is interrupted before question {:?}; keep its questions together",
                            question.id
                        ),
                    });
                }
            }
            if section != current {
                finished.extend(current);
                current = section;
            }
        }
        Ok(())
    }

    /// Every rule parses, and looks only at questions asked before what it decides.
    fn check_rules(&self) -> Result<()> {
        let mut earlier: Vec<&str> = Vec::new();
        let mut checked_sections: Vec<&str> = Vec::new();
        for question in &self.questions {
            if let Some(id) = question.section.as_deref()
                && !checked_sections.contains(&id)
            {
                checked_sections.push(id);
                let section = self.sections.iter().find(|s| s.id == id);
                if let Some(rule) = section.and_then(|s| s.relevant.as_deref()) {
                    self.check_rule(&format!("section {id:?}"), rule, &earlier)?;
                }
            }
            if let Some(rule) = &question.relevant {
                self.check_rule(&format!("question {:?}", question.id), rule, &earlier)?;
            }
            earlier.push(&question.id);
        }
        if let Some(section) = self
            .sections
            .iter()
            .find(|s| !checked_sections.contains(&s.id.as_str()))
        {
            return Err(Error::BadSection {
                problem: format!("section {:?} has no questions", section.id),
            });
        }
        Ok(())
    }

    fn check_rule(&self, at: &str, rule: &str, earlier: &[&str]) -> Result<()> {
        Expr::parse(rule)
            .and_then(|expr| expr.check(self, earlier))
            .map_err(|problem| Error::BadExpression {
                at: at.to_owned(),
                problem,
            })
    }
}

/// Translations name real options and give a label per likert point.
fn check_translations(question: &Question) -> Result<()> {
    limit("translations", question.translations.len(), MAX_LANGUAGES)?;
    for (language, translation) in &question.translations {
        check_identifier("language", language)?;
        let Translation::Texts { options, points, .. } = translation else {
            continue;
        };
        let fault = |problem: String| Error::BadTranslation {
            at: format!("question {:?} in {language:?}", question.id),
            problem,
        };
        let offered = match &question.kind {
            QuestionKind::Single { options } | QuestionKind::Multi { options } => options.as_slice(),
            _ => &[],
        };
        if let Some(option) = options
            .keys()
            .find(|id| !offered.iter().any(|o| o.id() == id.as_str()))
        {
            return Err(fault(format!(
                "translates option {option:?}, which the question does not offer"
            )));
        }
        let scale = match question.kind {
            QuestionKind::Likert { scale, .. } => scale as usize,
            _ => 0,
        };
        if !points.is_empty() && points.len() != scale {
            return Err(fault(format!(
                "gives {} point labels for a scale of {scale}",
                points.len()
            )));
        }
    }
    Ok(())
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
        QuestionKind::Likert { scale, labels, .. } if !labels.is_empty() && labels.len() as i64 != *scale => {
            Err(Error::FormShape(format!(
                "likert question {question:?} gives {} point labels for a scale of {scale}",
                labels.len()
            )))
        }
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
