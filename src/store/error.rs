/// What can go wrong in the store, small enough for callers to match on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the row; the string names the constraint's meaning.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database cannot be reached or has no free connection; worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                Self::Conflict("slug is already taken")
            }
            // The server going away: connection exceptions (08xxx), shutdown and other
            // operator intervention (57xxx), or too many connections (53300).
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|code| {
                    code.starts_with("08") || code.starts_with("57") || code == "53300"
                }) =>
            {
                Self::Unavailable(error)
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(error),
            other => Self::Other(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self::Other(anyhow::Error::new(error).context("migration failed"))
    }
}
