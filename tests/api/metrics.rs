//! `GET /metrics`: Prometheus text with requests, latency, the visit pipeline, the cache and the
//! database pool.

use std::collections::HashMap;

use crate::helpers::{spawn_app, Backend, TestApp};

/// One scrape: each sample's series as written (`name{labels}`) and its value.
struct Scrape {
    text: String,
    samples: HashMap<String, f64>,
}

impl Scrape {
    async fn of(app: &TestApp) -> Self {
        let response = app.get("/metrics").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = response.text().await.unwrap();
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("`series value`");
                let value = value
                    .parse()
                    .unwrap_or_else(|_| panic!("a number in {line}"));
                (series.to_owned(), value)
            })
            .collect();
        Self { text, samples }
    }

    /// The value of a series, which must be shown.
    fn value(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("missing {series} in:\n{}", self.text))
    }

    /// The value of a series, 0 while it has not been shown yet.
    fn value_or_zero(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }
}

/// The values `/metrics` copies from this server's own counters at each scrape. Another server
/// of this test binary scraping in the same instant writes its values into the one
/// process-wide recorder; a scrape that does not show this server's values is taken again.
async fn scrape_showing_own_values(app: &TestApp, expected: &[(&str, f64)]) -> Scrape {
    let mut scrape = Scrape::of(app).await;
    for _ in 0..5 {
        if expected
            .iter()
            .all(|(series, value)| scrape.value(series) == *value)
        {
            return scrape;
        }
        scrape = Scrape::of(app).await;
    }
    for (series, value) in expected {
        assert_eq!(
            scrape.value(series),
            *value,
            "{series} in:\n{}",
            scrape.text
        );
    }
    scrape
}

async fn metrics_cover_requests_pipeline_cache_and_pool(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = Scrape::of(&app).await;

    let slug = app.new_slug("https://example.com/").await;
    assert_eq!(app.follow(&slug).await.status(), 302); // a cache miss
    assert_eq!(app.follow(&slug).await.status(), 302); // a cache hit
    assert_eq!(app.follow("no-such-slug").await.status(), 404); // a miss, then a negative entry
    assert_eq!(app.get("/no/such/route").await.status(), 404); // matches no route at all
    app.wait_for_visits(2).await;

    // This server's own pipeline, cache and pool, exactly.
    let after = scrape_showing_own_values(
        &app,
        &[
            ("kurz_visit_queue_depth", 0.0),
            ("kurz_visits_enqueued_total", 2.0),
            ("kurz_visits_stored_total", 2.0),
            ("kurz_visits_dropped_total", 0.0),
            ("kurz_visit_write_failures_total", 0.0),
            // The two misses are orphan visits.
            ("kurz_orphan_visits_enqueued_total", 2.0),
            ("kurz_orphan_visits_dropped_total", 0.0),
            ("kurz_redirect_cache_hits_total", 1.0),
            ("kurz_redirect_cache_misses_total", 2.0),
            ("kurz_redirect_cache_hit_ratio", 1.0 / 3.0),
            ("kurz_db_pool_max_connections", 5.0),
        ],
    )
    .await;
    let open = after.value("kurz_db_pool_connections");
    assert!((1.0..=5.0).contains(&open), "{open} pool connections");
    assert!(after.value("kurz_visit_batches_total") >= 1.0);
    assert!(after.value("kurz_visit_batch_size_count") >= 1.0);
    assert!(after.value("kurz_visit_flush_seconds_count") >= 1.0);

    // Live stream events are counted for the process, and shown (at 0) before the first one.
    for series in [
        "kurz_live_lagged_total",
        "kurz_live_disconnected_total{reason=\"stalled\"}",
        "kurz_live_relay_dropped_total",
    ] {
        assert!(after.value(series) >= 0.0);
    }

    // Request counters and latencies are the process's too, shared with the tests running beside
    // this one: each grew by at least this test's requests.
    let grew = |series: &str| after.value(series) - before.value_or_zero(series);
    for (series, requests) in [
        (
            "kurz_http_requests_total{method=\"POST\",route=\"/api/urls\",status=\"201\"}",
            1.0,
        ),
        (
            "kurz_http_requests_total{method=\"GET\",route=\"/{slug}\",status=\"302\"}",
            2.0,
        ),
        (
            "kurz_http_requests_total{method=\"GET\",route=\"/{slug}\",status=\"404\"}",
            1.0,
        ),
        (
            "kurz_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}",
            1.0,
        ),
        (
            "kurz_http_request_duration_seconds_count{method=\"GET\",route=\"/{slug}\"}",
            3.0,
        ),
        (
            "kurz_http_request_duration_seconds_count{method=\"GET\",route=\"unmatched\"}",
            1.0,
        ),
    ] {
        assert!(
            grew(series) >= requests,
            "{series} grew by {} for {requests} requests",
            grew(series)
        );
    }
    // Every latency lands in the `+Inf` bucket, and the buckets are cumulative.
    let redirects = "method=\"GET\",route=\"/{slug}\"";
    let bucket = |le: &str| {
        after.value(&format!(
            "kurz_http_request_duration_seconds_bucket{{{redirects},le=\"{le}\"}}"
        ))
    };
    assert_eq!(
        bucket("+Inf"),
        after.value(&format!(
            "kurz_http_request_duration_seconds_count{{{redirects}}}"
        ))
    );
    assert!(bucket("0.005") <= bucket("0.01") && bucket("0.01") <= bucket("+Inf"));

    // Unknown paths share one label instead of one series each.
    assert!(!after.text.contains("no-such-slug"));
    assert!(!after.text.contains("/no/such/route"));
}

crate::on_sqlite!(metrics_cover_requests_pipeline_cache_and_pool);
