//! sync-core errors as JS `Error` objects. The web app shows plain words, so besides the stable
//! wire `code` it needs to know which question an error is about and what kind of problem it is.

use sync_core::Error;
use wasm_bindgen::JsValue;

/// A JS `Error` whose `message` is sync-core's, with `code` (the wire code, e.g. `invalid`),
/// `detail` (the precise kind, e.g. `missing_answer`) and, when the error names one, `question`.
pub fn to_js(err: &Error) -> JsValue {
    let (detail, question) = describe(err);
    js_error(err.code(), detail, question, &err.to_string())
}

pub fn js_error(code: &str, detail: &str, question: Option<&str>, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    let value: JsValue = error.into();
    set(&value, "code", code);
    set(&value, "detail", detail);
    if let Some(question) = question {
        set(&value, "question", question);
    }
    value
}

/// Errors for bad input from the JS side itself (not sync-core's), e.g. unparsable JSON.
pub fn bad_input(message: impl Into<String>) -> JsValue {
    js_error("invalid", "bad_input", None, &message.into())
}

fn set(target: &JsValue, key: &str, value: &str) {
    // Setting a property on a fresh Error object cannot fail; if it ever did, the error would
    // still carry its message, which is enough.
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), &JsValue::from_str(value));
}

/// The precise kind of an error and the question it concerns, for errors a person can fix.
pub fn describe(err: &Error) -> (&'static str, Option<&str>) {
    match err {
        Error::MissingAnswer { question } => ("missing_answer", Some(question)),
        Error::OutOfRange { question, .. } => ("out_of_range", Some(question)),
        Error::WrongAnswerType { question, .. } => ("wrong_answer_type", Some(question)),
        Error::UnknownOption { question, .. } => ("unknown_option", Some(question)),
        Error::RepeatedOption { question, .. } => ("repeated_option", Some(question)),
        Error::UnknownQuestion { question, .. } => ("unknown_question", Some(question)),
        Error::IrrelevantAnswer { question } => ("irrelevant_answer", Some(question)),
        Error::TextTooLong { field, .. } => ("text_too_long", answered_question(field)),
        Error::UnscrubbedText { field } => ("unscrubbed_text", answered_question(field)),
        Error::UnknownArea { .. } => ("unknown_area", None),
        Error::BadDay(_) => ("bad_day", None),
        Error::MissingField(_) => ("missing_field", None),
        Error::UnknownForm { .. } => ("unknown_form", None),
        Error::UnknownDocument(_) => ("unknown_document", None),
        Error::BadIdentifier { .. } => ("bad_identifier", None),
        Error::NotACounter(_) => ("not_a_counter", None),
        Error::NegativeTally(_) => ("negative_tally", None),
        Error::EngineState(_) => ("engine_state", None),
        Error::WrongDataset { .. } => ("wrong_dataset", None),
        Error::OtherEpoch { .. } => ("other_epoch", None),
        Error::Cbor(_) | Error::UnsupportedVersion(_) | Error::TooLarge { .. } => ("bad_reply", None),
        _ => ("other", None),
    }
}

/// sync-core names free-text fields `answer to "q"`; the question id is inside the quotes.
fn answered_question(field: &str) -> Option<&str> {
    field.strip_prefix("answer to \"")?.strip_suffix('"')
}
