//! The expression language of `relevant` rules: which questions and sections a respondent
//! sees, given the answers before them. One evaluator serves the server, the field app and
//! the CLI, so a device and the server never disagree about what a complete response is.
//!
//! Rules may only look back: a question's rule names questions asked before it. That keeps
//! evaluation a single pass in form order, and makes cycles impossible by construction.

mod parse;

use std::collections::BTreeMap;

use super::{Form, QuestionKind};
use crate::Answer;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Box<Expr>, Compare, Box<Expr>),
    Selected(String, String),
    CountSelected(String),
    Question(String),
    Text(String),
    Number(i64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Compare {
    fn symbol(self) -> &'static str {
        match self {
            Compare::Eq => "=",
            Compare::Ne => "!=",
            Compare::Lt => "<",
            Compare::Le => "<=",
            Compare::Gt => ">",
            Compare::Ge => ">=",
        }
    }
}

/// What an expression yields, as far as checking goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Bool,
    Number,
    Text,
    /// A question's answer, compared only with what fits its kind.
    Answer,
}

impl Expr {
    pub fn parse(source: &str) -> Result<Expr, String> {
        parse::parse(source)
    }

    /// Checks the rule against the questions it may look at: `earlier`, those asked before
    /// the question or section it decides. Every fault names what is wrong in words a form
    /// author can act on.
    pub fn check(&self, form: &Form, earlier: &[&str]) -> Result<(), String> {
        match self.type_of(form, earlier)? {
            Type::Bool => Ok(()),
            _ => Err("is not a yes-or-no condition (compare an answer with something)".into()),
        }
    }

    fn type_of(&self, form: &Form, earlier: &[&str]) -> Result<Type, String> {
        let question = |id: &str| -> Result<&QuestionKind, String> {
            let q = form
                .questions
                .iter()
                .find(|q| q.id == id)
                .ok_or_else(|| format!("names ${{{id}}}, which is not a question of this form"))?;
            if !earlier.contains(&id) {
                return Err(format!("names ${{{id}}}, which is not asked before it"));
            }
            if matches!(q.kind, QuestionKind::Note) {
                return Err(format!("names ${{{id}}}, a note, which has no answer"));
            }
            Ok(&q.kind)
        };
        let condition = |expr: &Expr| match expr.type_of(form, earlier)? {
            Type::Bool => Ok(()),
            _ => Err("combines something that is not a yes-or-no condition".to_owned()),
        };
        Ok(match self {
            Expr::Or(terms) | Expr::And(terms) => {
                terms.iter().try_for_each(condition)?;
                Type::Bool
            }
            Expr::Not(inner) => {
                condition(inner)?;
                Type::Bool
            }
            Expr::Selected(q, option) => match question(q)? {
                QuestionKind::Multi { options } | QuestionKind::Single { options } => {
                    if !options.iter().any(|o| o.id() == option) {
                        return Err(format!(
                            "asks whether ${{{q}}} has option '{option}', which it does not offer"
                        ));
                    }
                    Type::Bool
                }
                _ => {
                    return Err(format!(
                        "uses selected() on ${{{q}}}, which is not a choice question"
                    ));
                }
            },
            Expr::CountSelected(q) => match question(q)? {
                QuestionKind::Multi { .. } => Type::Number,
                _ => {
                    return Err(format!(
                        "uses count-selected() on ${{{q}}}, which is not a multiple choice"
                    ));
                }
            },
            Expr::Question(q) => {
                question(q)?;
                Type::Answer
            }
            Expr::Text(_) => Type::Text,
            Expr::Number(_) => Type::Number,
            Expr::Bool(_) => Type::Bool,
            Expr::Compare(left, op, right) => {
                let (l, r) = (left.type_of(form, earlier)?, right.type_of(form, earlier)?);
                match (l, r) {
                    (Type::Answer, _) => check_against(form, left, *op, right)?,
                    (_, Type::Answer) => check_against(form, right, *op, left)?,
                    (Type::Number, Type::Number) => {}
                    _ => {
                        return Err(format!(
                            "compares things of different kinds with {:?}",
                            op.symbol()
                        ));
                    }
                }
                Type::Bool
            }
        })
    }

    /// Whether the rule holds for these answers. Unanswered questions read as XLSForm reads
    /// them: equal to `''`, and neither more nor less than any number.
    pub fn holds(&self, answers: &BTreeMap<String, Answer>) -> bool {
        match self.value(answers) {
            Value::Bool(b) => b,
            _ => false,
        }
    }

    fn value(&self, answers: &BTreeMap<String, Answer>) -> Value {
        match self {
            Expr::Or(terms) => Value::Bool(terms.iter().any(|t| t.holds(answers))),
            Expr::And(terms) => Value::Bool(terms.iter().all(|t| t.holds(answers))),
            Expr::Not(inner) => Value::Bool(!inner.holds(answers)),
            Expr::Selected(q, option) => Value::Bool(match answers.get(q) {
                Some(Answer::Multi(ids)) => ids.contains(option),
                Some(Answer::Single(id)) => id == option,
                _ => false,
            }),
            Expr::CountSelected(q) => Value::Number(match answers.get(q) {
                Some(Answer::Multi(ids)) => ids.len() as i64,
                _ => 0,
            }),
            Expr::Question(q) => match answers.get(q) {
                None => Value::Text(String::new()),
                Some(Answer::Likert(n) | Answer::Integer(n)) => Value::Number(*n),
                Some(Answer::Single(s) | Answer::Text(s)) => Value::Text(s.clone()),
                Some(Answer::Date(day)) => Value::Text(day.to_string()),
                Some(Answer::Multi(ids)) => Value::Text(ids.join(" ")),
            },
            Expr::Text(t) => Value::Text(t.clone()),
            Expr::Number(n) => Value::Number(*n),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Compare(left, op, right) => {
                let ordering = match (left.value(answers), right.value(answers)) {
                    (Value::Number(a), Value::Number(b)) => Some(a.cmp(&b)),
                    (Value::Text(a), Value::Text(b)) => {
                        Some(a.cmp(&b)).filter(|_| matches!(op, Compare::Eq | Compare::Ne))
                    }
                    _ => None,
                };
                Value::Bool(match (ordering, op) {
                    (Some(o), Compare::Eq) => o.is_eq(),
                    (Some(o), Compare::Ne) => o.is_ne(),
                    (Some(o), Compare::Lt) => o.is_lt(),
                    (Some(o), Compare::Le) => o.is_le(),
                    (Some(o), Compare::Gt) => o.is_gt(),
                    (Some(o), Compare::Ge) => o.is_ge(),
                    // An unanswered number is not equal to any number, so `!=` holds.
                    (None, Compare::Ne) => true,
                    (None, _) => false,
                })
            }
        }
    }
}

enum Value {
    Bool(bool),
    Number(i64),
    Text(String),
}

/// What an answer may be compared with: `''` (answered or not) for any question, an offered
/// option by `=`/`!=` for a single choice, a whole number for likert and integer questions.
fn check_against(form: &Form, answer: &Expr, op: Compare, other: &Expr) -> Result<(), String> {
    let Expr::Question(q) = answer else {
        return Err("compares two answers; compare an answer with a value".into());
    };
    let kind = &form.questions.iter().find(|x| x.id == *q).map(|x| &x.kind);
    let equality = matches!(op, Compare::Eq | Compare::Ne);
    match (kind, other) {
        (_, Expr::Text(t)) if t.is_empty() && equality => Ok(()),
        (Some(QuestionKind::Single { options }), Expr::Text(option)) if equality => {
            if options.iter().any(|o| o.id() == option) {
                Ok(())
            } else {
                Err(format!(
                    "compares ${{{q}}} with '{option}', which it does not offer"
                ))
            }
        }
        (
            Some(QuestionKind::Likert { .. } | QuestionKind::Integer { .. }),
            Expr::Number(_) | Expr::CountSelected(_),
        ) => Ok(()),
        (Some(QuestionKind::Multi { .. }), _) => Err(format!(
            "compares ${{{q}}}, a multiple choice; use selected() or count-selected()"
        )),
        _ => Err(format!(
            "compares ${{{q}}} with {:?} using {:?}, which does not fit its type",
            other_kind(other),
            op.symbol()
        )),
    }
}

fn other_kind(expr: &Expr) -> &'static str {
    match expr {
        Expr::Text(_) => "text",
        Expr::Number(_) | Expr::CountSelected(_) => "a number",
        Expr::Question(_) => "another answer",
        _ => "a condition",
    }
}

#[cfg(test)]
mod tests;
