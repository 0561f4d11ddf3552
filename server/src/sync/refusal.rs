//! Refusing an entry: the wire code and message the device gets, and the quarantine record
//! kept of it (see [`quarantine`](super::quarantine) for what is kept). A refused entry
//! changes nothing else.

use sync_core::{DocEntry, Error as CoreError, Rejection};

use super::context::SyncContext;
use super::merge::Outcome;
use super::quarantine;
use crate::{ApiError, Result};

/// Why an entry is refused: a wire code and a message for the device.
pub(super) struct Refusal {
    code: &'static str,
    message: String,
    /// The refusal is about what the document says: the quarantine keeps neither the entry nor
    /// the message.
    about_content: bool,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            about_content: false,
        }
    }

    pub fn forbidden(message: &str) -> Refusal {
        Refusal::new("forbidden", message)
    }

    pub fn server_only() -> Refusal {
        Refusal::forbidden("form documents are written by the server only")
    }
}

impl From<CoreError> for Refusal {
    fn from(err: CoreError) -> Refusal {
        Refusal {
            about_content: err.concerns_content(),
            ..Refusal::new(err.code(), err.to_string())
        }
    }
}

/// Why an entry is not stored: refused (the device is told, the request goes on), or the
/// server failed (the request fails).
pub(super) enum Stop {
    Refused(Refusal),
    Failed(ApiError),
}

impl From<ApiError> for Stop {
    fn from(err: ApiError) -> Stop {
        Stop::Failed(err)
    }
}

impl From<crate::storage::Error> for Stop {
    fn from(err: crate::storage::Error) -> Stop {
        Stop::Failed(err.into())
    }
}

impl Stop {
    /// A sync-core check that refused the document.
    pub fn core(err: CoreError) -> Stop {
        Stop::Refused(err.into())
    }
}

impl From<Refusal> for Stop {
    fn from(refusal: Refusal) -> Stop {
        Stop::Refused(refusal)
    }
}

/// Records a refusal of an entry that carried changes in the quarantine, and answers it.
pub(super) async fn refuse(context: &SyncContext<'_>, entry: &DocEntry, refusal: Refusal) -> Result<Outcome> {
    if !entry.changes.is_empty() {
        let message = (!refusal.about_content).then_some(refusal.message.as_str());
        let record = quarantine::record(
            context.device,
            entry,
            refusal.code,
            message,
            context.state.clock.today(),
        )?;
        context.state.storage.quarantine(&record).await?;
    }
    Ok(Outcome::Rejected(Rejection {
        id: entry.id,
        code: refusal.code.to_owned(),
        message: refusal.message,
    }))
}
