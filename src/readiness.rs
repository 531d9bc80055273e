//! Starting without the database. The server listens at once; until the database has answered
//! (and its migrations are applied) `/healthz` says the process is up, and everything else but
//! `/metrics` answers 503 with `Retry-After` (`crate::http::middleware::readiness`). A background task retries with backoff, logging
//! each try.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};

use crate::store::{Store, StoreError};

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Whether the database has been reached and prepared.
#[derive(Debug, Default)]
pub struct Readiness(AtomicBool);

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Tries once to reach the database (and migrate it); on failure keeps trying in the background.
pub async fn prepare(store: Arc<dyn Store>, migrate: bool) -> Arc<Readiness> {
    let readiness = Arc::new(Readiness::default());
    match attempt(store.as_ref(), migrate).await {
        Ok(()) => readiness.set_ready(),
        Err(error) => {
            tracing::warn!(%error, "database not reachable at start; serving 503 until it is");
            tokio::spawn(retry_until_ready(store, migrate, readiness.clone()));
        }
    }
    readiness
}

/// Tries again after `FIRST_BACKOFF`, then after twice the last wait (at most `MAX_BACKOFF`),
/// until the database answers.
async fn retry_until_ready(store: Arc<dyn Store>, migrate: bool, readiness: Arc<Readiness>) {
    let mut delays = backoff().build();
    // The first try was made at start.
    let tries = AtomicU32::new(1);
    tokio::time::sleep(delays.next().unwrap_or(FIRST_BACKOFF)).await;
    let reached = (|| {
        tries.fetch_add(1, Ordering::Relaxed);
        attempt(store.as_ref(), migrate)
    })
    .retry(delays)
    .notify(|error, delay| {
        let tries = tries.load(Ordering::Relaxed);
        tracing::warn!(%error, tries, retry_in_ms = delay.as_millis() as u64, "database still not reachable");
    })
    .await;
    if reached.is_ok() {
        let tries = tries.load(Ordering::Relaxed);
        tracing::info!(tries, "database reached; kurz is ready");
        readiness.set_ready();
    }
}

/// `FIRST_BACKOFF`, doubled after each failure up to `MAX_BACKOFF`, forever.
fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(FIRST_BACKOFF)
        .with_max_delay(MAX_BACKOFF)
        .without_max_times()
}

async fn attempt(store: &dyn Store, migrate: bool) -> Result<(), StoreError> {
    if migrate {
        store.migrate().await
    } else {
        store.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_half_a_second_doubling_up_to_ten() {
        let millis: Vec<u128> = backoff().build().take(8).map(|d| d.as_millis()).collect();
        assert_eq!(
            millis,
            [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]
        );
    }
}
