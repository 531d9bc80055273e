//! Prometheus metrics at `GET /metrics`: requests by route and status, their latency (the
//! redirect route's is the redirect latency), the visit pipeline (queue depth, batch sizes,
//! flush latency, stored and dropped visits), the redirect cache and the database pool.
//!
//! Handlers and the writer record through the `metrics` facade; values kept elsewhere
//! (counters of the pipeline and the cache, the pool) are read when Prometheus scrapes.

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;
use crate::visits::VisitCounters;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0,
];
const BATCH_BUCKETS: &[f64] = &[
    1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
];

/// The process-wide recorder, installed on first use (one per process, however many servers
/// a test starts).
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = || {
                PrometheusBuilder::new()
                    .set_buckets(LATENCY_BUCKETS)
                    .and_then(|b| {
                        b.set_buckets_for_metric(
                            Matcher::Full("kurz_visit_batch_size".into()),
                            BATCH_BUCKETS,
                        )
                    })
                    .expect("bucket lists are non-empty")
            };
            let handle = builder().install_recorder().unwrap_or_else(|error| {
                tracing::warn!(%error, "another metrics recorder is installed; /metrics shows only gauges");
                builder().build_recorder().handle()
            });
            register_event_counters();
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The exporter keeps each histogram sample until its upkeep folds it into the buckets; with
/// `install_recorder` nobody runs it but a scrape, so an unscraped server would grow by every
/// request's sample. A thread of its own (not a task: it must outlive any one runtime).
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("kurz-metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep thread; histograms are folded at scrapes only");
    }
}

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
    /// [`handle`] has installed the recorder.
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

/// Counters that only events increase are shown from the start at 0, so that a rate over
/// them is 0 rather than "no data" before the first event.
fn register_event_counters() {
    metrics::counter!("kurz_live_lagged_total").increment(0);
    metrics::counter!("kurz_live_disconnected_total", "reason" => "stalled").increment(0);
    metrics::counter!("kurz_live_relay_dropped_total").increment(0);
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

/// Prometheus metrics.
///
/// Requests by route and status and their latency, the visit pipeline, the redirect cache and
/// the database pool, in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "health",
    responses(
        (status = 200, description = "The metrics, Prometheus text format 0.0.4", body = String,
            content_type = "text/plain"),
    )
)]
pub async fn render(State(state): State<AppState>) -> Response {
    let visits: &VisitCounters = state.visits.counters();
    let get = VisitCounters::get;
    metrics::gauge!("kurz_visit_queue_depth").set(state.visits.depth() as f64);
    metrics::counter!("kurz_visits_enqueued_total").absolute(get(&visits.enqueued));
    metrics::counter!("kurz_visits_dropped_total").absolute(get(&visits.dropped));
    metrics::counter!("kurz_visits_stored_total").absolute(get(&visits.stored));
    metrics::counter!("kurz_visit_batches_total").absolute(get(&visits.batches));
    metrics::counter!("kurz_visit_write_failures_total").absolute(get(&visits.failed_writes));

    metrics::gauge!("kurz_live_subscribers").set(state.live.subscribers() as f64);

    let cache = state.redirects.counters();
    let hits = cache.hits.load(Ordering::Relaxed);
    let misses = cache.misses.load(Ordering::Relaxed);
    metrics::counter!("kurz_redirect_cache_hits_total").absolute(hits);
    metrics::counter!("kurz_redirect_cache_misses_total").absolute(misses);
    metrics::gauge!("kurz_redirect_cache_entries").set(state.redirects.entry_count() as f64);
    let lookups = hits + misses;
    metrics::gauge!("kurz_redirect_cache_hit_ratio").set(if lookups == 0 {
        0.0
    } else {
        hits as f64 / lookups as f64
    });

    let pool = state.store.pool_status();
    metrics::gauge!("kurz_db_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("kurz_db_pool_idle_connections").set(pool.idle as f64);
    metrics::gauge!("kurz_db_pool_max_connections").set(f64::from(pool.max));

    let handle = handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
