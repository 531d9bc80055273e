use crate::domain::Invalid;
use crate::store::StoreError;

/// Why a service refused or failed a change.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A value the domain types refuse; names the field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the slug '{0}' is already taken")]
    SlugTaken(String),
    #[error("no URL has the slug '{0}'")]
    NoSuchLink(String),
    #[error("no tag is named '{0}'")]
    NoSuchTag(String),
    #[error("a tag named '{0}' exists already")]
    TagExists(String),
    /// An editor may change a tag only while every link carrying it is its own.
    #[error("the tag '{0}' is also on short links this key did not create")]
    TagShared(String),
    #[error("no API key has the id {0}, or it is revoked already")]
    NoSuchKey(i64),
    #[error("no webhook has the id {0}")]
    NoSuchWebhook(i64),
    /// Every generated slug tried was taken: the slug space is crowded.
    #[error("no free slug after {0} attempts; raise slug.length")]
    NoFreeSlug(usize),
    #[error(transparent)]
    Store(StoreError),
    /// The blocking thread hashing or checking a password panicked or was cancelled.
    #[error("a password could not be hashed or checked")]
    Password(#[from] tokio::task::JoinError),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}
