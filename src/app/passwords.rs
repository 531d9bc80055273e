//! Link passwords, hashed and checked on a blocking thread: Argon2 costs tens of milliseconds
//! of CPU on purpose, which must not hold up the runtime's workers (and every redirect they
//! serve).

use super::AppError;
use crate::domain::{Password, PasswordHash};

/// The hash to store for `password`.
pub async fn hash(password: Password) -> Result<PasswordHash, AppError> {
    Ok(tokio::task::spawn_blocking(move || password.hash()).await?)
}

/// Whether `candidate` is the password of `hash`.
pub async fn verify(hash: PasswordHash, candidate: String) -> Result<bool, AppError> {
    Ok(tokio::task::spawn_blocking(move || hash.verify(&candidate)).await?)
}
