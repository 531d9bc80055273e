//! Middleware: nothing but `/healthz` and `/metrics` is served before the database is ready
//! (see `crate::readiness`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::readiness::Readiness;

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
