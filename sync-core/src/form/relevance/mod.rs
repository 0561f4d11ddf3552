//! Which questions a respondent is asked, given their answers. The server refuses a submitted
//! response that disagrees, and the documents layer clears answers that stop applying, both
//! through [`Form::relevant_questions`], so there is one answer to "was this asked?".

use std::collections::{BTreeMap, BTreeSet};

use super::{Expr, Form};
use crate::{Answer, Error, Result};

impl Form {
    /// The ids of the questions (notes included) asked given `answers`. Answers to questions
    /// not asked are ignored, as if already cleared: a rule never sees a hidden answer.
    pub fn relevant_questions(&self, answers: &BTreeMap<String, Answer>) -> BTreeSet<String> {
        let mut seen = BTreeMap::new();
        let mut sections: BTreeMap<&str, bool> = BTreeMap::new();
        let mut asked = BTreeSet::new();
        for question in &self.questions {
            let section = match question.section.as_deref() {
                None => true,
                Some(id) => *sections.entry(id).or_insert_with(|| {
                    let rule = self
                        .sections
                        .iter()
                        .find(|s| s.id == id)
                        .and_then(|s| s.relevant.as_deref());
                    holds(rule, &seen)
                }),
            };
            if section && holds(question.relevant.as_deref(), &seen) {
                asked.insert(question.id.clone());
                if let Some(answer) = answers.get(&question.id) {
                    seen.insert(question.id.clone(), answer.clone());
                }
            }
        }
        asked
    }

    /// Refuses a handed-in set of answers that answers a question not asked, or leaves a
    /// required question that was asked unanswered.
    pub fn check_complete(&self, answers: &BTreeMap<String, Answer>) -> Result<()> {
        let asked = self.relevant_questions(answers);
        if let Some(question) = answers.keys().find(|q| !asked.contains(*q)) {
            return Err(Error::IrrelevantAnswer {
                question: question.clone(),
            });
        }
        match self
            .questions
            .iter()
            .find(|q| q.required && asked.contains(&q.id) && !answers.contains_key(&q.id))
        {
            Some(missing) => Err(Error::MissingAnswer {
                question: missing.id.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// A published form's rules were checked when it was published; one that no longer parses
/// (never expected) hides nothing rather than refusing every response.
fn holds(rule: Option<&str>, answers: &BTreeMap<String, Answer>) -> bool {
    rule.is_none_or(|rule| Expr::parse(rule).is_ok_and(|expr| expr.holds(answers)))
}

#[cfg(test)]
mod tests;
