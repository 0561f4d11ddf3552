//! Which questions the app shows while a survey is being filled. The app hands over what is
//! typed so far; sync-core's one evaluator decides, so the phone never shows a question the
//! server would refuse an answer to, nor hides one it would require.

use std::collections::{BTreeMap, BTreeSet};

use sync_core::{Answer, Form};

/// The ids of the questions and notes of `form` asked given `answers_json`, a JSON object of
/// question id to value in the shape `editResponse` takes. A value that is not (yet) a valid
/// answer, such as a half-typed number, or names no question of the form, counts as
/// unanswered: the screen keeps updating while the worker types.
/// A refusal is the message of what was wrong with the JSON itself.
pub fn relevant_questions(form: &Form, answers_json: &str) -> Result<BTreeSet<String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(answers_json).map_err(|e| format!("answers are not JSON: {e}"))?;
    let given = value.as_object().ok_or("answers must be a JSON object")?;
    let answers: BTreeMap<String, Answer> = given
        .iter()
        .filter_map(|(question, value)| {
            Answer::from_json(form, question, value)
                .ok()
                .map(|answer| (question.clone(), answer))
        })
        .collect();
    Ok(form.relevant_questions(&answers))
}
