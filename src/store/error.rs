/// What can go wrong in the store, small enough for callers to match on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the row.
    #[error("conflict: the {0} is already taken")]
    Conflict(Unique),
    /// The database cannot be reached or has no free connection; worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The unique constraints a caller may run into, each known by its PostgreSQL constraint name
/// and by the `table.column` SQLite names in its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// `urls.slug`.
    Slug,
    /// `api_keys.key_hash`.
    ApiKeyHash,
    /// `tags.name`.
    TagName,
}

impl Unique {
    const ALL: [(Unique, &'static str, &'static str); 3] = [
        (Unique::Slug, "urls_slug_key", "urls.slug"),
        (
            Unique::ApiKeyHash,
            "api_keys_key_hash_key",
            "api_keys.key_hash",
        ),
        (Unique::TagName, "tags_name_key", "tags.name"),
    ];

    /// The constraint a unique violation names: PostgreSQL reports the constraint, SQLite
    /// only says `UNIQUE constraint failed: table.column` in its message.
    fn of(error: &dyn sqlx::error::DatabaseError) -> Option<Self> {
        let sqlite_columns = error
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .unwrap_or_default();
        Self::ALL
            .iter()
            .find(|(_, name, columns)| {
                error.constraint() == Some(*name) || sqlite_columns == *columns
            })
            .map(|(unique, _, _)| *unique)
    }
}

impl std::fmt::Display for Unique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Slug => "slug",
            Self::ApiKeyHash => "API key",
            Self::TagName => "tag name",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => match Unique::of(&**db) {
                Some(unique) => Self::Conflict(unique),
                None => {
                    Self::Other(anyhow::Error::new(error).context("unexpected unique violation"))
                }
            },
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
