//! Prometheus metrics at `GET /metrics`: requests by route and status, their latency (the
//! redirect route's is the redirect latency), the visit pipeline (queue depth, batch sizes,
//! flush latency, stored and dropped visits), the redirect cache and the database pool.
//!
//! Handlers and the writer record through the `metrics` facade; values kept elsewhere
//! (counters of the pipeline and the cache, the pool) are read when Prometheus scrapes.

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
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
            handle
        })
        .clone()
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

/// `GET /metrics` in the Prometheus text format.
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
