//! What storage reports, in its own terms. Storage knows which rows exist and which rules the
//! database enforces; what a client is told of it (status, wire code) is decided once, in
//! `crate::error`.

/// Everything a [`Storage`](super::Storage) method can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row a use case acts on is not there (or not the caller's): `"response"`,
    /// `"dataset"`.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A form version at or below one already published.
    #[error("form {form:?} already has version {version} or a later one: publish a higher version")]
    VersionExists { form: String, version: i64 },
    /// A renewal for a device withdrawn since it enrolled.
    #[error("this device was withdrawn: it cannot be enrolled again")]
    DeviceRevoked,
    /// A reset of a dataset that is not a demo dataset.
    #[error("only a demo dataset can be reset")]
    NotDemo,
    /// Two writers claimed one actor for different documents at the same moment; the loser's
    /// next sync is refused as a linked actor (the database decides which one won).
    #[error("a change's actor was claimed for another document at the same moment; sync again")]
    ActorClaimed,
    /// A demo document could not be generated while a reset was writing.
    #[error(transparent)]
    Seed(sync_core::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database holds something this server cannot read, or storage broke a rule of its
    /// own: a bug or a hand-edited database, never the client's doing.
    #[error("{0}")]
    Corrupt(String),
    /// Storage could not run: a bad database URL, a folder it cannot create, a commit queue
    /// that stopped.
    #[error("{0}")]
    Unavailable(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
