//! Admission: which requests are let in before any handler runs, by their URI length (414),
//! total header size (431), and the requests in flight (503 with `Retry-After` at once, rather
//! than a queue that grows while clients time out). The body size (413) and the request
//! timeout (408) are tower-http layers (`super::super::router`). Not to be confused with the
//! per-client rates of `crate::http::rate_limit` or the connection deadlines of
//! `crate::http::serve::ConnectionLimits`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::config::ServerSettings;
use crate::http::error::ApiError;

#[derive(Clone)]
pub struct Admission {
    max_uri_bytes: usize,
    max_header_bytes: usize,
    in_flight: Arc<Semaphore>,
}

impl Admission {
    pub fn new(settings: &ServerSettings) -> Self {
        Self {
            max_uri_bytes: settings.max_uri_bytes,
            max_header_bytes: settings.max_header_bytes,
            in_flight: Arc::new(Semaphore::new(settings.max_concurrent_requests.get())),
        }
    }

    /// 414 for a URI longer than `server.max_uri_bytes`, 431 for headers larger than
    /// `server.max_header_bytes`; the redirect lane checks these too.
    pub fn check_shape<B>(&self, request: &axum::http::Request<B>) -> Result<(), ApiError> {
        let uri_bytes = request
            .uri()
            .path_and_query()
            .map_or(0, |p| p.as_str().len());
        if uri_bytes > self.max_uri_bytes {
            return Err(ApiError::UriTooLong);
        }
        let header_bytes: usize = request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if header_bytes > self.max_header_bytes {
            return Err(ApiError::HeadersTooLarge);
        }
        Ok(())
    }
}

pub async fn enforce(State(limits): State<Admission>, request: Request, next: Next) -> Response {
    if let Err(error) = limits.check_shape(&request) {
        return error.into_response();
    }
    let Ok(_permit) = limits.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    next.run(request).await
}
