//! XLSForm import: an `.xlsx` workbook, as ODK, KoboToolbox and SurveyCTO users write their
//! forms, becomes this platform's form definition and a report of what was left out.
//!
//! The converter knows nothing of HTTP or storage: bytes in, a [`Form`] (checked by sync-core
//! exactly as a published JSON form is) and a [`Report`] out, or every problem of the
//! workbook at once, each with its sheet and row, so a form author fixes them in one pass.
//! Rows that would identify a respondent (locations, media, phone numbers, names) are refused,
//! never dropped quietly: a form that silently lost a question would be collected with a gap
//! nobody chose. Rows that only record the device or the time (`start`, `deviceid`, ...) are
//! dropped and listed: this platform records neither, by design.

mod columns;
mod survey;
mod workbook;

use serde::Serialize;
use sync_core::Form;

pub use workbook::{MAX_CELLS, MAX_INFLATED_BYTES, MAX_WORKBOOK_BYTES};

/// What the request adds to the workbook: XLSForm has no areas, and a form id may come from
/// the file's name, as pyxform takes it.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// Used when the `settings` sheet has no `form_id`.
    pub form_id: Option<String>,
    /// Where the form is used; when empty, the `settings` sheet's `areas` column is read.
    pub areas: Vec<String>,
}

/// A workbook that converted.
#[derive(Debug, Serialize)]
pub struct Imported {
    pub form: Form,
    pub report: Report,
}

/// What the conversion left out or read in its own way.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Rows not imported: metadata this platform never records.
    pub dropped: Vec<Dropped>,
    /// Everything else worth knowing: columns ignored, lists read as likert scales, ranges
    /// given to integers.
    pub notes: Vec<Note>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dropped {
    pub sheet: String,
    pub row: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub reason: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub sheet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

/// One reason a workbook is refused.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub code: &'static str,
    pub sheet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{what} is larger than this server accepts ({limit} at most)")]
    TooLarge { what: &'static str, limit: u64 },
    #[error("the body is not an .xlsx workbook: {0}")]
    NotWorkbook(String),
    /// Every problem found, identifying questions first.
    #[error("{}", refusal_message(.0))]
    Refused(Vec<Problem>),
}

impl ImportError {
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::TooLarge { .. } => "too_large",
            ImportError::NotWorkbook(_) => "not_xlsx",
            ImportError::Refused(problems) => problems.first().map_or("invalid_xlsform", |p| p.code),
        }
    }

    pub fn problems(&self) -> &[Problem] {
        match self {
            ImportError::Refused(problems) => problems,
            _ => &[],
        }
    }
}

fn refusal_message(problems: &[Problem]) -> String {
    let first = problems.first().map_or_else(String::new, |p| {
        let at = match (p.row, &p.column) {
            (Some(row), Some(column)) => format!(" row {row}, column {column}"),
            (Some(row), None) => format!(" row {row}"),
            _ => String::new(),
        };
        format!(": sheet {}{at}: {}", p.sheet, p.message)
    });
    format!(
        "the workbook has {} problem{}{first}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    )
}

/// Converts an XLSForm workbook.
pub fn convert(bytes: &[u8], defaults: &Defaults) -> Result<Imported, ImportError> {
    let book = workbook::Workbook::read(bytes, &["survey", "choices", "settings"])?;
    survey::convert(book, defaults)
}

#[cfg(test)]
mod tests;
