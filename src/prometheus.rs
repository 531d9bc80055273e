//! The Prometheus recorder every metric of kurz goes to (through the `metrics` facade), and
//! its upkeep. `GET /metrics` (`crate::http::site::metrics`) renders it; what it holds:
//! requests by route and status and their latency (the redirect route's is the redirect
//! latency), the visit pipeline (queue depth, batch sizes, flush latency, stored and dropped
//! visits), the redirect cache, the database pool and the cluster.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

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

/// Counters that only events increase are shown from the start at 0, so that a rate over
/// them is 0 rather than "no data" before the first event.
fn register_event_counters() {
    metrics::counter!("kurz_live_lagged_total").increment(0);
    metrics::counter!("kurz_live_disconnected_total", "reason" => "stalled").increment(0);
    metrics::counter!("kurz_live_relay_dropped_total").increment(0);
}
