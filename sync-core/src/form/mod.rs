//! Form definitions: what a survey may ask and how answers are scored.

mod expression;
mod identifying;
mod relevance;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};
pub use expression::Expr;

/// A published form definition. Forms are versioned: a new version is a new definition, and
/// responses keep the version they were collected with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub areas: Vec<String>,
    pub questions: Vec<Question>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<Score>,
    /// Pages of the form; questions name theirs, and a section's questions are contiguous.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    /// The language the untranslated texts are written in, e.g. `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_language: Option<String>,
    /// The title in other languages, by language tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub title_translations: BTreeMap<String, String>,
}

/// A group of questions shown together, skipped as a whole when its rule does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    /// The label in other languages, by language tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: QuestionKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Texts in other languages, by language tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, Translation>,
    /// When to ask: an [`Expr`] over earlier answers. Always asked when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    /// The id of the [`Section`] the question belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}

/// A question's texts in one language: a bare label (the first form shape), or every text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Translation {
    Label(String),
    Texts {
        label: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
        /// Option labels by option id.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        options: BTreeMap<String, String>,
        /// Likert point labels, one per point.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        points: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum QuestionKind {
    Single {
        options: Vec<Choice>,
    },
    Multi {
        options: Vec<Choice>,
    },
    Likert {
        scale: i64,
        #[serde(default)]
        reverse: bool,
        /// A label per point, lowest first; none means the points show as numbers.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<String>,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Date,
    /// Consent wording or instructions: shown, never answered.
    Note,
    Text {
        #[serde(default = "default_text_len")]
        max_len: i64,
    },
}

fn default_text_len() -> i64 {
    500
}

impl QuestionKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            QuestionKind::Single { .. } => "single",
            QuestionKind::Multi { .. } => "multi",
            QuestionKind::Likert { .. } => "likert",
            QuestionKind::Integer { .. } => "integer",
            QuestionKind::Date => "date",
            QuestionKind::Note => "note",
            QuestionKind::Text { .. } => "text",
        }
    }
}

/// An option of a single or multi question: a bare id, or an id with a display label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Choice {
    Id(String),
    Labelled { id: String, label: String },
}

impl Choice {
    pub fn id(&self) -> &str {
        match self {
            Choice::Id(id) | Choice::Labelled { id, .. } => id,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Choice::Id(id) => id,
            Choice::Labelled { label, .. } => label,
        }
    }
}

/// A scale score computed from likert items (e.g. a stigma index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub id: String,
    pub label: String,
    pub items: Vec<String>,
    pub method: ScoreMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreMethod {
    Sum,
    Mean,
}

impl Form {
    /// Parses and validates a form. A form that asks for identifying information is refused
    /// here, before its shape is even looked at, so the error names the real problem.
    pub fn from_json(json: &str) -> Result<Form> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::FormShape(e.to_string()))?;
        Form::from_value(value)
    }

    pub fn from_value(value: serde_json::Value) -> Result<Form> {
        identifying::refuse_identifying_questions(&value)?;
        Form::from_checked_value(value)
    }

    /// Reads a form that was published, so passed [`Form::from_json`] then: its responses stay
    /// readable when the identifying-question checks grow stricter later, and reading one for
    /// every sync request costs no word-list search.
    pub fn from_published(json: &str) -> Result<Form> {
        let value = serde_json::from_str(json).map_err(|e| Error::FormShape(e.to_string()))?;
        Form::from_checked_value(value)
    }

    fn from_checked_value(value: serde_json::Value) -> Result<Form> {
        let form: Form = serde_json::from_value(value).map_err(|e| Error::FormShape(e.to_string()))?;
        form.validate()?;
        Ok(form)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a form always serializes")
    }

    pub fn question(&self, id: &str) -> Result<&Question> {
        self.questions
            .iter()
            .find(|q| q.id == id)
            .ok_or_else(|| Error::UnknownQuestion {
                form: self.id.clone(),
                question: id.chars().take(80).collect(),
            })
    }

    pub fn score(&self, id: &str) -> Option<&Score> {
        self.scores.iter().find(|s| s.id == id)
    }

    pub fn check_area(&self, area: &str) -> Result<()> {
        if self.areas.iter().any(|a| a == area) {
            Ok(())
        } else {
            Err(Error::UnknownArea {
                form: self.id.clone(),
                area: area.chars().take(80).collect(),
            })
        }
    }

    /// The value a likert answer contributes to a score: reverse-coded items are flipped so a
    /// higher score always means the same direction.
    pub fn score_item_value(&self, item: &str, answer: i64) -> Option<i64> {
        match self.question(item).ok()?.kind {
            QuestionKind::Likert { scale, reverse, .. } => {
                Some(if reverse { scale + 1 - answer } else { answer })
            }
            _ => None,
        }
    }

    /// The score of one respondent, or `None` when an item is unanswered (a partial score
    /// would not be comparable with complete ones).
    pub fn compute_score(&self, score: &Score, likert_answer: impl Fn(&str) -> Option<i64>) -> Option<f64> {
        let mut total = 0i64;
        for item in &score.items {
            total += self.score_item_value(item, likert_answer(item)?)?;
        }
        Some(match score.method {
            ScoreMethod::Sum => total as f64,
            ScoreMethod::Mean => total as f64 / score.items.len() as f64,
        })
    }
}

#[cfg(test)]
mod tests;
