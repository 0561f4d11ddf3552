//! Names and labels people type (a dataset's name, a code's label, a token's name): they end
//! up in admin screens and CSV headers, so they are checked once where they come in.

use crate::{ApiError, Result};

/// Checks a human-readable name or label: present, bounded, printable. Control characters
/// are refused rather than escaped everywhere the label is shown.
pub fn check_label(field: &'static str, text: &str, max_chars: usize) -> Result<()> {
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid",
            format!("{field} must not be empty"),
        ));
    }
    if text.chars().count() > max_chars {
        return Err(ApiError::bad_request(
            "invalid",
            format!("{field} is longer than {max_chars} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid",
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(())
}
