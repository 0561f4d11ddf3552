//! The one error type of the client. Every variant is something a field worker or an admin can
//! act on, so each message says what happened in plain words and, where there is one, what to
//! do next. The exit code tells scripts which kind of failure it was.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error(
        "cannot reach the server at {server} ({detail}). Check the address and the connection, then try again; nothing on this device was lost"
    )]
    Unreachable { server: String, detail: String },

    #[error(
        "the enrollment code was not accepted: it is unknown, used up or expired. Ask your coordinator for a new code"
    )]
    BadCode,

    #[error(
        "the server no longer accepts this device's token (the device may have been withdrawn). Collected data is still in the state file; ask your coordinator before enrolling again"
    )]
    Unauthorized,

    #[error(
        "this device's sign-in has expired. Nothing collected is lost: ask your coordinator for a new code and run `survey renew --code CODE`"
    )]
    TokenExpired,

    /// The server answered 401 `wiped`: the caller deletes the device's documents.
    #[error("the coordinator withdrew this device and asked it to delete its documents")]
    WipeRequested,

    #[error(
        "the coordinator withdrew this device and asked it to delete its data: every document it held was deleted ({unsent} not sent{}). What it sent before stays on the server; enroll with a new code to work again",
        .copy.as_ref().map(|p| format!("; a copy of them is in {}", p.display())).unwrap_or_default()
    )]
    Wiped { unsent: usize, copy: Option<PathBuf> },

    #[error("the server refuses enrollments for {0} s: too many wrong codes were tried. Try again then")]
    Throttled(u64),

    #[error("the server refused the request ({status} {code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },

    #[error("the server sent an answer this client cannot read: {0}")]
    BadAnswer(String),

    #[error(
        "there is no form {form:?} on this device. `survey forms` lists the forms it has; `survey sync` fetches new ones"
    )]
    UnknownForm { form: String },

    #[error("the answers in {file} do not fit form {form:?}: {reason}")]
    AnswersDontFit {
        file: String,
        form: String,
        reason: sync_core::Error,
    },

    #[error("there is no response {0} on this device; `survey responses` lists them")]
    UnknownResponse(uuid::Uuid),

    #[error("cannot read the answers file {file}: {detail}")]
    AnswersFile { file: String, detail: String },

    #[error(
        "there is no site {0:?} on this device. `survey site list` lists the sites it has; `survey sync` fetches sites others added"
    )]
    UnknownSite(String),

    #[error("a site {0:?} already exists on this device; bump its tallies with `survey tally --site {0}`")]
    SiteExists(String),

    #[error("site {site:?} has no tally {metric:?}; its tallies are: {known}")]
    UnknownMetric {
        site: String,
        metric: String,
        known: String,
    },

    #[error("{0}")]
    Refused(sync_core::Error),

    #[error("this device is not enrolled yet (no state file at {}). Run `survey enroll --server URL --code CODE` first", .0.display())]
    NotEnrolled(PathBuf),

    #[error(
        "a state file already exists at {}; it may hold data that is not synced yet, so it is not replaced. Use another --state path to enroll a second time", .0.display()
    )]
    AlreadyEnrolled(PathBuf),

    #[error(
        "the state file {} is damaged ({detail}). It was left exactly as it is: keep a copy of it for your coordinator, and use another --state path to go on working", path.display()
    )]
    CorruptState { path: PathBuf, detail: String },

    #[error("another `survey` command is using {}; wait for it to finish and try again", .0.display())]
    StateBusy(PathBuf),

    #[error("cannot {action} {}: {source}", path.display())]
    StateIo {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "sync stopped after {rounds} rounds with data still to send or fetch; what was acknowledged is saved. Run `survey sync` again"
    )]
    SyncIncomplete { rounds: usize },

    #[error("load test failed: {0}")]
    LoadTest(String),

    #[error("load test verification failed: {0}")]
    Verification(String),
}

impl Error {
    /// 2 for bad arguments (as clap uses), 3 when the server could not be reached (worth a
    /// retry later), 4 when a load test lost or duplicated data, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Unreachable { .. } => 3,
            Error::Verification(_) => 4,
            _ => 1,
        }
    }
}
