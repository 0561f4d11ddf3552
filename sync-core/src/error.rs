use uuid::Uuid;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything sync-core can refuse. Each variant maps to a stable wire code ([`Error::code`]) so
/// a device, the server's JSON errors and the sync `rejected` list all speak the same words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    // --- forms -----------------------------------------------------------------------------
    #[error("form JSON does not match the form shape: {0}")]
    FormShape(String),
    #[error(
        "{what} {value:?} is not a valid identifier: use 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit"
    )]
    BadIdentifier { what: &'static str, value: String },
    #[error("form {0:?} must have a version of 1 or more")]
    BadVersion(String),
    #[error("form must have a non-empty title")]
    EmptyTitle,
    #[error("form must list at least one area")]
    NoAreas,
    #[error("form must have at least one question")]
    NoQuestions,
    #[error("form has too many {what} ({count}, at most {limit})")]
    FormTooLarge {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("id {0:?} is given more than once")]
    DuplicateId(String),
    #[error("question id {0:?} is reserved for aggregate dimensions")]
    ReservedId(String),
    #[error("question {question:?} must have at least one option")]
    EmptyOptions { question: String },
    #[error("likert question {question:?} has scale {scale}; scales run from 3 to 7")]
    ScaleOutOfRange { question: String, scale: i64 },
    #[error("integer question {question:?} has min {min} above max {max}")]
    MinAboveMax { question: String, min: i64, max: i64 },
    #[error("text question {question:?} has max_len {max_len}; it must be 1 to 2000")]
    BadTextLimit { question: String, max_len: i64 },
    #[error("score {score:?} must name at least one item")]
    EmptyScore { score: String },
    #[error("score {score:?} names {item:?}, which is not a likert question of this form")]
    ScoreItemNotLikert { score: String, item: String },
    #[error("the relevant rule of {at} {problem}")]
    BadExpression { at: String, problem: String },
    #[error("{problem}")]
    BadSection { problem: String },
    #[error("{at}: {problem}")]
    BadTranslation { at: String, problem: String },
    #[error("question {question:?} asks for {what}; this platform never collects identifying information")]
    IdentifyingQuestion { question: String, what: &'static str },

    // --- answers ---------------------------------------------------------------------------
    #[error("form {form:?} has no question {question:?}")]
    UnknownQuestion { form: String, question: String },
    #[error("question {question:?} takes {expected}")]
    WrongAnswerType {
        question: String,
        expected: &'static str,
    },
    #[error("question {question:?} has no option {option:?}")]
    UnknownOption { question: String, option: String },
    #[error("question {question:?} lists option {option:?} twice")]
    RepeatedOption { question: String, option: String },
    #[error("answer {value} to {question:?} is outside {min}..={max}")]
    OutOfRange {
        question: String,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{0:?} is not a calendar day written YYYY-MM-DD")]
    BadDay(String),
    #[error("{field} is longer than {max_len} characters")]
    TextTooLong { field: String, max_len: usize },
    #[error("{field} contains contact details or an id number; scrub it before saving")]
    UnscrubbedText { field: String },
    #[error("form {form:?} has no area {area:?}")]
    UnknownArea { form: String, area: String },
    #[error("required question {question:?} has no answer")]
    MissingAnswer { question: String },
    #[error("question {question:?} is answered but was not asked: its relevant rule does not hold")]
    IrrelevantAnswer { question: String },

    // --- documents -------------------------------------------------------------------------
    #[error("Automerge data is malformed: {0}")]
    Automerge(String),
    #[error("document has schema {found:?}, expected {expected:?}")]
    Schema { expected: &'static str, found: String },
    #[error("document field {0:?} is missing")]
    MissingField(String),
    #[error("document field {field:?} must be {expected}")]
    FieldType { field: String, expected: &'static str },
    #[error("document field {0:?} is not defined by its form or schema")]
    UndeclaredField(String),
    #[error("a change carries timestamp {0}; changes must be committed with timestamp 0")]
    NonZeroTimestamp(i64),
    #[error("a change carries a commit message or author; changes must carry neither")]
    ChangeMetadata,
    #[error("document belongs to dataset {found}, not {expected}")]
    WrongDataset { expected: Uuid, found: String },
    #[error("document was sent as a {claimed} but is a {actual}")]
    WrongKind {
        claimed: &'static str,
        actual: &'static str,
    },
    #[error(
        "the saved copy is of epoch {found} and this device is on epoch {expected}: the training data was reset in between, so its documents are stale"
    )]
    OtherEpoch { expected: u64, found: u64 },
    #[error("document {0} is not known")]
    UnknownDocument(Uuid),
    #[error("form {form:?} version {version} is not known")]
    UnknownForm { form: String, version: i64 },
    #[error("tally metric {0:?} is not a counter")]
    NotACounter(String),
    #[error("tally {metric:?} changes by {by}; one change adds or takes away 1 to {limit}")]
    TallyStep { metric: String, by: i64, limit: i64 },
    #[error("tally {0:?} would fall below zero")]
    NegativeTally(String),
    #[error("a change's actor is {0} bytes; every document gets its own 16 random bytes")]
    ActorLength(usize),
    #[error("a response's review is written by supervisors through the server; a device never changes it")]
    ReviewFromDevice,
    #[error("a change carries {ops} operations (limit {limit})")]
    TooManyOperations { ops: usize, limit: usize },

    // --- protocol --------------------------------------------------------------------------
    #[error("CBOR message is malformed: {0}")]
    Cbor(String),
    #[error("protocol version {0} is not supported here; versions 1, 2 and 3 are, each at its own /vN/sync")]
    UnsupportedVersion(u64),
    #[error("{0} is sent by the server only; devices send changes")]
    ServerOnly(&'static str),
    #[error("{what} is too large: {size} (limit {limit})")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("a head must be 32 bytes, got {0}")]
    BadHead(usize),
    #[error("engine state is malformed: {0}")]
    EngineState(String),
}

impl Error {
    /// The stable machine-readable code of this error, as used in `rejected` entries and JSON
    /// error bodies.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            Automerge(_) | Cbor(_) | BadHead(_) | EngineState(_) | ServerOnly(_) => "malformed",
            UnsupportedVersion(_) => "unsupported_version",
            TooLarge { .. } | FormTooLarge { .. } | TooManyOperations { .. } => "too_large",
            IdentifyingQuestion { .. } => "identifying_question",
            BadExpression { .. } => "bad_expression",
            IrrelevantAnswer { .. } => "irrelevant_answer",
            UnknownDocument(_) => "not_found",
            UnknownForm { .. } => "unknown_form",
            ReviewFromDevice => "forbidden",
            _ => "invalid",
        }
    }

    /// Whether the refusal is about what a document says (its keys, values and text) rather
    /// than who sent it or how. Such a document may hold the very personal data the check keeps
    /// out, and the message may quote it, so the server keeps neither its bytes nor its message.
    pub fn concerns_content(&self) -> bool {
        use Error::*;
        matches!(
            self,
            UnknownQuestion { .. }
                | WrongAnswerType { .. }
                | UnknownOption { .. }
                | RepeatedOption { .. }
                | OutOfRange { .. }
                | BadDay(_)
                | TextTooLong { .. }
                | UnscrubbedText { .. }
                | UnknownArea { .. }
                | MissingAnswer { .. }
                | IrrelevantAnswer { .. }
                | Schema { .. }
                | MissingField(_)
                | FieldType { .. }
                | UndeclaredField(_)
                | NotACounter(_)
                | ActorLength(_)
                | IdentifyingQuestion { .. }
                | BadIdentifier { .. }
                // A review note sent by a device was never checked for contact details.
                | ReviewFromDevice
        )
    }
}

impl From<automerge::AutomergeError> for Error {
    fn from(err: automerge::AutomergeError) -> Self {
        Error::Automerge(err.to_string())
    }
}

/// How much of a value from outside an error message quotes: enough to recognise it, never a
/// whole long text.
pub const QUOTED_CHARS: usize = 80;

/// The first [`QUOTED_CHARS`] characters of `text`, for an error message.
pub fn quoted(text: &str) -> String {
    text.chars().take(QUOTED_CHARS).collect()
}
