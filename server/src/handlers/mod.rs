//! HTTP handlers by resource. The sync endpoint has its own module (`crate::sync`).

pub mod audit;
pub mod built_in_pages;
pub mod datasets;
pub mod devices;
pub mod enrollments;
pub mod field_app;
pub mod form_versions;
pub mod forms;
pub mod ops;
pub mod quarantine;
pub mod query_log;
pub mod responses;
pub mod retention;
pub mod reviews;
pub mod tokens;

use crate::{ApiError, Result};

/// Checks a human-readable name or label: present, bounded, printable. These end up in admin
/// screens and CSV headers, so control characters are refused rather than escaped everywhere.
fn check_label(field: &'static str, text: &str, max_chars: usize) -> Result<()> {
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
