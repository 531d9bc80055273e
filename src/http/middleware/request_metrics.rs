//! Middleware: counts every request by method, route template and status, and times it;
//! [`RouteMetrics`] writes the same series for the redirect lane through handles resolved once.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Statuses the redirect lane answers, whose counters are resolved once, on first use.
const LANE_STATUSES: [StatusCode; 14] = [
    StatusCode::OK,
    StatusCode::MOVED_PERMANENTLY,
    StatusCode::FOUND,
    StatusCode::SEE_OTHER,
    StatusCode::TEMPORARY_REDIRECT,
    StatusCode::PERMANENT_REDIRECT,
    StatusCode::NOT_FOUND,
    StatusCode::GONE,
    StatusCode::URI_TOO_LONG,
    StatusCode::TOO_MANY_REQUESTS,
    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    StatusCode::INTERNAL_SERVER_ERROR,
    StatusCode::SERVICE_UNAVAILABLE,
    StatusCode::UNAUTHORIZED,
];

/// The request metrics of one route of the redirect lane: the same series as
/// [`track_requests`] writes, through handles resolved once instead of a label look-up (and
/// three label strings) per request.
pub struct RouteMetrics {
    /// GET, then HEAD.
    methods: [MethodMetrics; 2],
}

struct MethodMetrics {
    method: &'static str,
    route: &'static str,
    duration: metrics::Histogram,
    statuses: [OnceLock<metrics::Counter>; LANE_STATUSES.len()],
}

impl MethodMetrics {
    fn new(method: &'static str, route: &'static str) -> Self {
        Self {
            method,
            route,
            duration: metrics::histogram!(
                "kurz_http_request_duration_seconds",
                "method" => method,
                "route" => route
            ),
            statuses: Default::default(),
        }
    }

    fn requests(&self, status: StatusCode) -> metrics::Counter {
        metrics::counter!(
            "kurz_http_requests_total",
            "method" => self.method,
            "route" => self.route,
            "status" => status.as_u16().to_string()
        )
    }
}

impl RouteMetrics {
    /// The metrics of `route` (its template, as the `route` label shows it). Call it after
    /// [`crate::prometheus::handle`] has installed the recorder.
    pub fn new(route: &'static str) -> Self {
        Self {
            methods: [
                MethodMetrics::new("GET", route),
                MethodMetrics::new("HEAD", route),
            ],
        }
    }

    /// Counts one request of `method` (GET or HEAD; the lane takes no other) and its latency.
    pub fn record(&self, method: &Method, status: StatusCode, elapsed: Duration) {
        let metrics = &self.methods[usize::from(method == Method::HEAD)];
        metrics.duration.record(elapsed.as_secs_f64());
        match LANE_STATUSES.iter().position(|known| *known == status) {
            Some(index) => metrics.statuses[index]
                .get_or_init(|| metrics.requests(status))
                .increment(1),
            None => metrics.requests(status).increment(1),
        }
    }
}

/// Middleware: counts every request by method, route template and status, and times it.
/// Unmatched paths share one label, so probes of random paths cannot blow up the series.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "kurz_http_request_duration_seconds",
        "method" => method.clone(),
        "route" => route.clone()
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "kurz_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => status
    )
    .increment(1);
    response
}
