//! Starting without the database. The server listens at once; until the database has answered
//! (and its migrations are applied) `/healthz` says the process is up, and everything else but
//! `/metrics` answers 503 with `Retry-After`. A background task retries with backoff, logging
//! each try.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
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
            let background = readiness.clone();
            tokio::spawn(async move {
                let mut backoff = FIRST_BACKOFF;
                let mut tries = 1u32;
                loop {
                    tokio::time::sleep(backoff).await;
                    tries += 1;
                    match attempt(store.as_ref(), migrate).await {
                        Ok(()) => {
                            tracing::info!(tries, "database reached; kurz is ready");
                            background.set_ready();
                            return;
                        }
                        Err(error) => {
                            tracing::warn!(%error, tries, retry_in_ms = backoff.as_millis() as u64, "database still not reachable");
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
            });
        }
    }
    readiness
}

async fn attempt(store: &dyn Store, migrate: bool) -> Result<(), StoreError> {
    if migrate {
        store.migrate().await
    } else {
        store.ping().await
    }
}

/// Middleware: 503 with `Retry-After` for everything but `/healthz` and `/metrics` until ready.
pub async fn gate(
    State(readiness): State<Arc<Readiness>>,
    request: Request,
    next: Next,
) -> Response {
    if readiness.is_ready() || matches!(request.uri().path(), "/healthz" | "/metrics") {
        return next.run(request).await;
    }
    ApiError::Unavailable.into_response()
}
