//! Rate limits per client IP: 429 with `Retry-After`, for creations and for slug probes.

use kurz::config::{Environment, Settings};
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app_with, Backend};

async fn creations_are_limited_per_client(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.rate_limit.enabled = true;
        s.rate_limit.anonymous_creates_per_minute = 3;
        s.server.trusted_proxies = vec!["127.0.0.0/8".to_string().try_into().unwrap()];
    })
    .await;
    let create = |client: &'static str| {
        app.client
            .post(app.url("/api/urls"))
            .header("x-forwarded-for", client)
            .json(&json!({ "url": "https://example.com/" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(create("198.51.100.1").await.unwrap().status(), 201);
    }
    let limited = create("198.51.100.1").await.unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(assert_problem(limited, 429).await["code"], "rate_limited");
    // Another client is not affected.
    assert_eq!(create("198.51.100.2").await.unwrap().status(), 201);
}

async fn slug_probes_are_limited_but_links_keep_working(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.rate_limit.enabled = true;
        s.rate_limit.not_found_per_minute = 5;
    })
    .await;
    let slug = app.new_slug("https://example.com/").await;
    for i in 0..5 {
        assert_eq!(app.follow(&format!("probe{i}")).await.status(), 404);
    }
    let limited = app.follow("probe-more").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429).await;
    // Existing links still redirect: only not-found answers count.
    assert_eq!(app.follow(&slug).await.status(), 302);
}

#[test]
fn limits_are_on_in_production_and_off_in_development() {
    let production = Settings::defaults(Environment::Production).unwrap();
    assert!(production.rate_limit.enabled);
    assert_eq!(production.rate_limit.anonymous_creates_per_minute, 10);
    assert_eq!(production.rate_limit.not_found_per_minute, 120);
    assert_eq!(production.rate_limit.password_attempts_per_minute, 10);
    assert!(
        !Settings::defaults(Environment::Development)
            .unwrap()
            .rate_limit
            .enabled
    );
}

crate::on_sqlite!(
    creations_are_limited_per_client,
    slug_probes_are_limited_but_links_keep_working,
);
