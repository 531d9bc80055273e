//! Link passwords, hashed and checked on a blocking thread: Argon2 costs tens of milliseconds
//! of CPU and 19 MiB of memory on purpose, which must not hold up the runtime's workers (and
//! every redirect they serve). At most one hash per core runs at once; more wait their turn,
//! so a burst of password posts costs time, not memory without bound.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use super::AppError;
use crate::domain::{Password, PasswordHash};

/// Hashes running at once: one per core.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, |cores| cores.get()))
});

/// Runs `work` on a blocking thread once a core is free for it.
async fn on_a_core<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    // The semaphore is never closed.
    let _permit = HASHING.acquire().await.ok();
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// The hash to store for `password`.
pub async fn hash(password: Password) -> Result<PasswordHash, AppError> {
    on_a_core(move || password.hash()).await
}

/// Whether `candidate` is the password of `hash`.
pub async fn verify(hash: PasswordHash, candidate: String) -> Result<bool, AppError> {
    on_a_core(move || hash.verify(&candidate)).await
}
