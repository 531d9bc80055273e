//! Orphan visits: clicks that reached no link, recorded by type, listed, counted in the
//! site-wide statistics, bounded by the not-found limit, and off with `visits.track_orphans`.

use std::time::Duration;

use kurz::domain::Role;
use kurz::visits::VisitCounters;
use reqwest::Method;
use serde_json::{json, Value};

use crate::expiry::BROWSER;
use crate::helpers::{assert_problem, spawn_app_with, spawn_locked_app, Backend, TestApp};

async fn send(app: &TestApp, method: Method, path: &str, agent: &str) -> u16 {
    app.client
        .request(method, app.url(path))
        .header("user-agent", agent)
        .send()
        .await
        .expect("request sent")
        .status()
        .as_u16()
}

/// Waits until `count` orphan visits are listed, and returns them (newest first).
async fn orphans(app: &TestApp, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = app.json("/api/visits/orphan?limit=100").await;
        let items = page["items"].as_array().expect("items").clone();
        if items.len() >= count {
            assert_eq!(
                items.len(),
                count,
                "more orphan visits than expected: {page}"
            );
            return items;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {count} orphan visits after 10 s",
            items.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Each kind of miss is recorded with its type and path (a HEAD, and misses under /api/, are
/// not); the list filters and pages; the site statistics count link and orphan visits per
/// day, and lose a deleted link's visits.
async fn misses_are_recorded_by_type_and_counted(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let over = app
        .create_url(json!({ "url": "https://example.com/o", "slug": "over",
                            "valid_until": "2020-01-01T00:00:00Z", "valid_since": "2019-01-01T00:00:00Z" }))
        .await;
    assert_eq!(over.status(), 201);
    app.create_url(json!({ "url": "https://example.com/l", "slug": "live" }))
        .await;

    assert_eq!(send(&app, Method::GET, "/nope", "curl/8.5").await, 404);
    assert_eq!(send(&app, Method::HEAD, "/nope-head", BROWSER).await, 404);
    assert_eq!(send(&app, Method::GET, "/", BROWSER).await, 200);
    assert_eq!(send(&app, Method::GET, "/a/b?x=1", BROWSER).await, 404);
    assert_eq!(send(&app, Method::GET, "/api/nothing", BROWSER).await, 404);
    assert_eq!(send(&app, Method::GET, "/over", BROWSER).await, 410);
    assert_eq!(send(&app, Method::GET, "/live", BROWSER).await, 302);

    let items = orphans(&app, 4).await;
    let seen: Vec<(&str, &str)> = items
        .iter()
        .map(|v| (v["type"].as_str().unwrap(), v["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("expired", "/over"),
            ("regular_404", "/a/b"),
            ("base_url", "/"),
            ("invalid_slug", "/nope"),
        ]
    );
    let nope = &items[3];
    assert_eq!(nope["is_bot"], true);
    assert_eq!(nope["browser"], "curl");
    assert_eq!(nope["client_ip"], "127.0.0.0");
    assert_eq!(items[0]["is_bot"], false);
    assert_eq!(items[0]["device"], "desktop");
    app.wait_for_visits(1).await;

    // Filters, and pages that repeat them.
    let expired = app.json("/api/visits/orphan?type=expired").await;
    assert_eq!(expired["items"].as_array().unwrap().len(), 1);
    let bots = app.json("/api/visits/orphan?bot=true").await;
    assert_eq!(bots["items"][0]["path"], "/nope");
    assert_eq!(bots["items"].as_array().unwrap().len(), 1);
    let first = app.json("/api/visits/orphan?limit=2&bot=false").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().expect("a next page");
    assert!(next.contains("bot=false"), "{next}");
    let second: Value = app
        .client
        .get(next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["path"], "/");
    assert!(second["next"].is_null());
    let problem = assert_problem(app.get("/api/visits/orphan?type=lost").await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "type");

    // The site statistics, from the per-day totals.
    let stats = app.json("/api/visits/stats").await;
    assert_eq!(stats["visits"], 1, "{stats}");
    assert_eq!(stats["orphan_visits"], 3, "bots left out: {stats}");
    assert_eq!(stats["orphan_bot_visits"], 1);
    assert_eq!(
        stats["orphan_types"],
        json!([
            { "type": "invalid_slug", "visits": 0 },
            { "type": "expired", "visits": 1 },
            { "type": "base_url", "visits": 1 },
            { "type": "regular_404", "visits": 1 },
        ])
    );
    let days = stats["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(
        days[29],
        json!({ "day": stats["to"], "visits": 1, "orphan_visits": 3 })
    );
    assert_eq!(stats["stored"], json!({ "visits": 1, "orphan_visits": 4 }));
    let with_bots = app.json("/api/visits/stats?bots=true").await;
    assert_eq!(with_bots["orphan_visits"], 4);
    assert_eq!(with_bots["orphan_types"][0]["visits"], 1);

    // A deleted link's visits leave the day totals with it.
    assert_eq!(app.delete_url("live").await.status(), 204);
    let stats = app.json("/api/visits/stats").await;
    assert_eq!(stats["visits"], 0, "{stats}");
    assert_eq!(stats["stored"]["visits"], 0);
}

/// Orphan visits belong to no link: editors may not read them or the site statistics.
async fn orphans_are_for_admins_and_viewers(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let editor = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    for path in ["/api/visits/orphan", "/api/visits/stats"] {
        let response = app
            .with_key(Method::GET, path, &editor)
            .send()
            .await
            .unwrap();
        assert_problem(response, 403).await;
        let response = app
            .with_key(Method::GET, path, &viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_problem(app.get(path).await, 401).await;
    }
}

/// With `visits.track_orphans` off, misses are answered as before and nothing is recorded.
async fn tracking_can_be_turned_off(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.visits.track_orphans = false).await;
    assert_eq!(send(&app, Method::GET, "/nope", BROWSER).await, 404);
    assert_eq!(send(&app, Method::GET, "/", BROWSER).await, 200);
    assert_eq!(send(&app, Method::GET, "/x/y", BROWSER).await, 404);
    let counters = &app.visit_counters;
    assert_eq!(VisitCounters::get(&counters.orphans_enqueued), 0);
    assert_eq!(VisitCounters::get(&counters.orphans_dropped), 0);
    let page = app.json("/api/visits/orphan").await;
    assert_eq!(page["items"], json!([]));
}

/// A client past `rate_limit.not_found_per_minute` gets 429 for slugs and other paths alike,
/// and its misses are no longer recorded.
async fn probes_are_bounded_by_the_not_found_limit(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.rate_limit.enabled = true;
        s.rate_limit.not_found_per_minute = 2;
        s.server.trusted_proxies = vec!["127.0.0.0/8".to_string().try_into().unwrap()];
    })
    .await;
    let probe = |path: &'static str, client: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url(path))
                .header("user-agent", BROWSER)
                .header("x-forwarded-for", client)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(probe("/p1", "198.51.100.1").await, 404);
    assert_eq!(probe("/wp-login.php/x", "198.51.100.1").await, 404);
    assert_eq!(probe("/p3", "198.51.100.1").await, 429);
    assert_eq!(probe("/a/b", "198.51.100.1").await, 429);
    assert_eq!(probe("/p1", "198.51.100.2").await, 404);
    let counters = &app.visit_counters;
    assert_eq!(VisitCounters::get(&counters.orphans_enqueued), 3);
    let items = orphans(&app, 3).await;
    assert_eq!(items[0]["client_ip"], "198.51.100.0");
}

crate::on_both_backends!(misses_are_recorded_by_type_and_counted);

crate::on_sqlite!(
    orphans_are_for_admins_and_viewers,
    tracking_can_be_turned_off,
    probes_are_bounded_by_the_not_found_limit,
);
