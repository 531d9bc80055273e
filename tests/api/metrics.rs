//! `GET /metrics`: Prometheus text with requests, latency, the visit pipeline, the cache and the
//! database pool.

use crate::helpers::{spawn_app, Backend};

async fn metrics_cover_requests_pipeline_cache_and_pool(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    assert_eq!(app.follow(&slug).await.status(), 302);
    assert_eq!(app.follow(&slug).await.status(), 302);
    assert_eq!(app.follow("no-such-slug").await.status(), 404);
    app.wait_for_visits(2).await;

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for needle in [
        "kurz_http_requests_total{method=\"GET\",route=\"/{slug}\",status=\"302\"}",
        "kurz_http_requests_total{method=\"POST\",route=\"/api/urls\",status=\"201\"}",
        "kurz_http_request_duration_seconds_bucket{method=\"GET\",route=\"/{slug}\",le=\"0.005\"}",
        "kurz_visit_queue_depth",
        "kurz_visits_stored_total",
        "kurz_visits_dropped_total",
        "kurz_visit_batch_size_bucket",
        "kurz_visit_flush_seconds_bucket",
        "kurz_redirect_cache_hits_total",
        "kurz_redirect_cache_misses_total",
        "kurz_redirect_cache_hit_ratio",
        "kurz_db_pool_connections",
        "kurz_db_pool_max_connections 5",
        // Shown before any live stream has had an event.
        "kurz_live_lagged_total",
        "kurz_live_disconnected_total{reason=\"stalled\"}",
        "kurz_live_relay_dropped_total",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    // Unknown paths share one label instead of one series each.
    assert!(!text.contains("no-such-slug"));
}

crate::on_both_backends!(metrics_cover_requests_pipeline_cache_and_pool);
