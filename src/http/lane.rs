//! The redirect lane: `GET`/`HEAD` of `/{slug}`, `/robots.txt` and `/healthz`, served by the
//! shortest stack that keeps what an operator needs, while every other request goes through
//! the full stack of [`crate::http::router::make_app`] (request ids made up, tracing spans, the
//! in-flight bound, timeouts, body limits, problem bodies for bare errors).
//!
//! The lane's one layer ([`LaneLayer`]) catches panics, answers 414/431 for oversized requests
//! and 503 before the database is ready (not `/healthz`), counts the request and its latency by
//! status through metric handles resolved once, opens a span only when the log filter enables
//! `debug` for this module, echoes the `X-Request-Id` a client sent, and sets `nosniff`.
//!
//! [`Split`] sends a request to the lane or the full stack by its method and path alone.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use axum::routing::get;
use axum::Router;
use futures_util::FutureExt;
use tower::{Layer, Service};
use tracing::Instrument;

use super::middleware::request_metrics::RouteMetrics;
use super::{redirect, site};
use crate::http::error::ApiError;
use crate::http::middleware::admission::Admission;
use crate::http::state::AppState;
use crate::readiness::Readiness;

/// The request id header: echoed by the lane, made up and propagated by the full stack.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One-segment paths that belong to the full stack although `/{slug}` would match them.
/// Each is also a reserved slug (`slug.reserved`) or outside the slug charset (`.`), so no
/// short link can hide behind it.
const FULL_STACK_PATHS: [&str; 4] = ["api", "metrics", "readyz", "yourls-api.php"];

/// Whether a request takes the redirect lane: a `GET` or `HEAD` of a one-segment path
/// other than [`FULL_STACK_PATHS`].
pub fn takes_lane(method: &Method, path: &str) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    let Some(segment) = path.strip_prefix('/') else {
        return false;
    };
    !segment.is_empty() && !segment.contains('/') && !FULL_STACK_PATHS.contains(&segment)
}

/// The lane's routes, each with its own [`LaneLayer`] (its route label).
pub fn router(state: &AppState, limits: &Admission) -> Router {
    let layer = |route: &'static str, gated: bool| LaneLayer {
        route: Arc::new(LaneRoute {
            metrics: RouteMetrics::new(route),
            limits: limits.clone(),
            readiness: gated.then(|| state.readiness.clone()),
        }),
    };
    Router::new()
        .route(
            "/{slug}",
            get(redirect::follow).route_layer(layer("/{slug}", true)),
        )
        .route(
            "/robots.txt",
            get(site::robots).route_layer(layer("/robots.txt", true)),
        )
        .route(
            "/healthz",
            get(site::healthz).route_layer(layer("/healthz", false)),
        )
        .with_state(state.clone())
}

/// The whole application: the lane for what [`takes_lane`], the full stack for the rest.
#[derive(Clone)]
pub struct Split {
    lane: Router,
    full: Router,
}

impl Split {
    pub fn new(lane: Router, full: Router) -> Self {
        Self { lane, full }
    }
}

impl<B> Service<axum::http::Request<B>> for Split
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RouteFuture<Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Both routers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        if takes_lane(request.method(), request.uri().path()) {
            self.lane.call(request)
        } else {
            self.full.call(request)
        }
    }
}

/// What every request of one lane route shares.
struct LaneRoute {
    metrics: RouteMetrics,
    limits: Admission,
    /// `None` for a route that answers before the database is ready (`/healthz`).
    readiness: Option<Arc<Readiness>>,
}

/// The lane's single layer (see the module documentation).
#[derive(Clone)]
pub struct LaneLayer {
    route: Arc<LaneRoute>,
}

impl<S> Layer<S> for LaneLayer {
    type Service = LaneService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LaneService {
            inner,
            route: self.route.clone(),
        }
    }
}

#[derive(Clone)]
pub struct LaneService<S> {
    inner: S,
    route: Arc<LaneRoute>,
}

impl<S> Service<Request> for LaneService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let route = self.route.clone();
        let method = request.method().clone();
        let request_id = request.headers().get(REQUEST_ID).cloned();
        let refused = match route.limits.check_shape(&request) {
            Err(error) => Some(error),
            Ok(()) => route
                .readiness
                .as_ref()
                .is_some_and(|readiness| !readiness.is_ready())
                .then_some(ApiError::Unavailable),
        };
        let span = tracing::debug_span!(
            "request",
            method = %method,
            uri = %request.uri(),
            request_id = request_id.as_ref().and_then(|id| id.to_str().ok()).unwrap_or("-"),
        );
        let answer = match refused {
            Some(error) => Err(error),
            None => Ok(self.inner.call(request)),
        };
        Box::pin(
            async move {
                let mut response = match answer {
                    Err(error) => error.into_response(),
                    Ok(future) => match AssertUnwindSafe(future).catch_unwind().await {
                        Ok(Ok(response)) => response,
                        Err(_panic) => ApiError::Internal(anyhow::anyhow!("a handler panicked"))
                            .into_response(),
                    },
                };
                let headers = response.headers_mut();
                if let Some(id) = request_id {
                    headers.insert(REQUEST_ID, id);
                }
                headers
                    .entry(header::X_CONTENT_TYPE_OPTIONS)
                    .or_insert(HeaderValue::from_static("nosniff"));
                route
                    .metrics
                    .record(&method, response.status(), started.elapsed());
                Ok::<_, Infallible>(response)
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_segment_reads_take_the_lane() {
        for path in ["/abc", "/robots.txt", "/healthz", "/b0000000", "/a%20b"] {
            assert!(takes_lane(&Method::GET, path), "{path}");
            assert!(takes_lane(&Method::HEAD, path), "{path}");
        }
        for path in [
            "/",
            "",
            "/api",
            "/metrics",
            "/readyz",
            "/api/urls",
            "/abc/",
            "/a/b",
        ] {
            assert!(!takes_lane(&Method::GET, path), "{path}");
        }
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
            assert!(!takes_lane(&method, "/abc"));
        }
    }
}
