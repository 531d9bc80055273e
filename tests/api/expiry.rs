//! Links that know when and how often to answer: `valid_since`, `valid_until`, `max_visits`.

use chrono::{Duration, SecondsFormat, Utc};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};

/// A person's browser: clicks with it take units of a cap.
pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
/// A chat app's link preview: it must not use a cap up.
const PREVIEW: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

fn in_hours(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn click(app: &TestApp, slug: &str, agent: &str) -> u16 {
    app.client
        .get(app.url(&format!("/{slug}")))
        .header("user-agent", agent)
        .send()
        .await
        .expect("click sent")
        .status()
        .as_u16()
}

async fn created(app: &TestApp, body: Value) -> Value {
    let response = app.create_url(body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Before `valid_since` a link is not found; from `valid_until` on it is gone (a problem, or a
/// page for browsers, never cached); neither answer records a visit. `null` clears a bound.
async fn validity_windows_hide_and_expire_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let later = created(
        &app,
        json!({ "url": "https://example.com/soon", "slug": "soon", "valid_since": in_hours(1) }),
    )
    .await;
    assert!(later["valid_since"].is_string() && later["valid_until"].is_null());
    assert_eq!(later["max_visits"], Value::Null);
    assert_eq!(later["visits_left"], Value::Null);
    let problem = assert_problem(app.follow("soon").await, 404).await;
    assert_eq!(problem["code"], "not_found");

    let over = created(
        &app,
        json!({ "url": "https://example.com/over", "slug": "over", "valid_until": in_hours(-1) }),
    )
    .await;
    assert!(over["valid_until"].is_string());
    let response = app.follow("over").await;
    assert_eq!(response.headers()["cache-control"], "private, no-cache");
    let problem = assert_problem(response, 410).await;
    assert_eq!(problem["code"], "gone");
    let page = app
        .client
        .get(app.url("/over"))
        .header("accept", "text/html,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("expired"));
    let head = app.request(Method::HEAD, "/over").await;
    assert_eq!(head.status(), 410);
    assert_eq!(click(&app, "over", BROWSER).await, 410);

    // Opening the window again: the link answers at once (the PATCH evicts the cache).
    let reopened = app.patch_url("over", json!({ "valid_until": null })).await;
    assert_eq!(reopened.status(), 200);
    assert_eq!(click(&app, "over", BROWSER).await, 302);
    let ready = app
        .patch_url(
            "soon",
            json!({ "valid_since": in_hours(-2), "valid_until": in_hours(2) }),
        )
        .await;
    assert_eq!(ready.status(), 200);
    assert_eq!(click(&app, "soon", BROWSER).await, 302);
    app.wait_for_visits(2).await;
}

/// With `redirect.expired_url` set, an expired or exhausted link redirects there (302).
async fn expired_links_can_redirect_elsewhere(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.redirect.expired_url = "https://example.com/expired".into();
    })
    .await;
    created(
        &app,
        json!({ "url": "https://example.com/a", "slug": "old", "valid_until": in_hours(-1) }),
    )
    .await;
    created(
        &app,
        json!({ "url": "https://example.com/b", "slug": "once", "max_visits": 1 }),
    )
    .await;
    assert_eq!(click(&app, "once", BROWSER).await, 302);
    for slug in ["old", "once"] {
        let response = app
            .client
            .get(app.url(&format!("/{slug}")))
            .header("user-agent", BROWSER)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{slug}");
        assert_eq!(
            response.headers()["location"],
            "https://example.com/expired"
        );
    }
    app.wait_for_visits(1).await;
}

/// N + 50 concurrent clicks by people on a link with `max_visits = N`: exactly N redirects to
/// the target, the rest 410, exactly N visits stored, and `visits_left` 0.
async fn a_cap_answers_exactly_its_number_of_people(backend: Backend) {
    const N: usize = 20;
    let app = spawn_app(backend).await;
    let link = created(
        &app,
        json!({ "url": "https://example.com/limited", "slug": "limited", "max_visits": N }),
    )
    .await;
    assert_eq!(
        (link["max_visits"].as_u64(), link["visits_left"].as_u64()),
        (Some(20), Some(20))
    );
    let statuses = join_all((0..N + 50).map(|_| click(&app, "limited", BROWSER))).await;
    let redirected = statuses.iter().filter(|s| **s == 302).count();
    let gone = statuses.iter().filter(|s| **s == 410).count();
    assert_eq!((redirected, gone), (N, 50), "{statuses:?}");
    app.wait_for_visits(N).await;
    let read = app.json("/api/urls/limited").await;
    assert_eq!(read["visits_left"], 0);
    assert_eq!(read["visit_count"], N);
}

/// Bots, link previews and HEAD requests follow a capped link without using it up.
async fn bots_and_previews_do_not_use_a_cap(backend: Backend) {
    let app = spawn_app(backend).await;
    created(
        &app,
        json!({ "url": "https://example.com/secret", "slug": "onetime", "max_visits": 1 }),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(click(&app, "onetime", PREVIEW).await, 302);
        assert_eq!(app.request(Method::HEAD, "/onetime").await.status(), 302);
    }
    // No user agent at all is a script, not a person.
    assert_eq!(app.follow("onetime").await.status(), 302);
    app.wait_for_visits(4).await;
    assert_eq!(app.json("/api/urls/onetime").await["visits_left"], 1);
    assert_eq!(click(&app, "onetime", BROWSER).await, 302);
    assert_eq!(click(&app, "onetime", BROWSER).await, 410);
    assert_eq!(
        click(&app, "onetime", PREVIEW).await,
        410,
        "exhausted for everyone"
    );
    app.wait_for_visits(5).await;
    let read = app.json("/api/urls/onetime").await;
    assert_eq!(
        (read["visit_count"].as_i64(), read["visits_left"].as_i64()),
        (Some(5), Some(0))
    );
}

/// A cap set on a link with visits counts the people's visits so far; raising or removing it
/// revives an exhausted link at once.
async fn caps_count_earlier_people_and_can_be_raised(backend: Backend) {
    let app = spawn_app(backend).await;
    created(
        &app,
        json!({ "url": "https://example.com/", "slug": "busy" }),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(click(&app, "busy", BROWSER).await, 302);
    }
    assert_eq!(click(&app, "busy", PREVIEW).await, 302);
    app.wait_for_visits(4).await;
    let capped = app.patch_url("busy", json!({ "max_visits": 3 })).await;
    assert_eq!(capped.status(), 200);
    let capped: Value = capped.json().await.unwrap();
    assert_eq!(capped["visits_left"], 0, "three people came already");
    assert_eq!(click(&app, "busy", BROWSER).await, 410);
    let raised: Value = app
        .patch_url("busy", json!({ "max_visits": 4 }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(raised["visits_left"], 1);
    assert_eq!(click(&app, "busy", BROWSER).await, 302);
    assert_eq!(click(&app, "busy", BROWSER).await, 410);
    let uncapped: Value = app
        .patch_url("busy", json!({ "max_visits": null }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(uncapped["visits_left"], Value::Null);
    assert_eq!(click(&app, "busy", BROWSER).await, 302);
}

/// `GET /api/urls?active=true` leaves out links that do not answer now, and its next link
/// keeps the filter.
async fn active_lists_leave_out_links_that_do_not_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    for (slug, extra) in [
        ("a1", json!({})),
        ("later", json!({ "valid_since": in_hours(1) })),
        ("a2", json!({ "max_visits": 5 })),
        ("over", json!({ "valid_until": in_hours(-1) })),
        ("used", json!({ "max_visits": 1 })),
        ("a3", json!({ "valid_until": in_hours(1) })),
    ] {
        let mut body = json!({ "url": "https://example.com/", "slug": slug });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        created(&app, body).await;
    }
    assert_eq!(click(&app, "used", BROWSER).await, 302);
    let first = app.json("/api/urls?active=true&limit=2").await;
    let slugs = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(slugs(&first), ["a3", "a2"]);
    let next = first["next"].as_str().unwrap();
    assert!(next.contains("active=true"), "{next}");
    let path = next.strip_prefix(&app.address).unwrap();
    let second = app.json(path).await;
    assert_eq!(slugs(&second), ["a1"]);
    assert_eq!(slugs(&app.json("/api/urls?limit=100").await).len(), 6);
    let refused = app.get("/api/urls?active=maybe").await;
    let problem = assert_problem(refused, 422).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("active"),
        "{problem}"
    );
}

/// Each wrong value is a 422 naming its field, on create and on PATCH, and changes nothing.
async fn bad_windows_and_caps_are_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let hour = in_hours(1);
    let cases = [
        (json!({ "max_visits": 0 }), "max_visits"),
        (json!({ "max_visits": -3 }), "max_visits"),
        (json!({ "max_visits": "ten" }), "max_visits"),
        (json!({ "max_visits": 1.5 }), "max_visits"),
        (json!({ "valid_since": "tomorrow" }), "valid_since"),
        (
            json!({ "valid_until": "2026-13-01T00:00:00Z" }),
            "valid_until",
        ),
        (json!({ "valid_until": 1_700_000_000 }), "valid_until"),
        (
            json!({ "valid_since": in_hours(2), "valid_until": in_hours(1) }),
            "valid_until",
        ),
        (
            json!({ "valid_since": hour, "valid_until": hour }),
            "valid_until",
        ),
    ];
    for (extra, field) in &cases {
        let mut body = json!({ "url": "https://example.com/" });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let response = app.create_url(body).await;
        assert_eq!(response.status(), 422, "{extra}");
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], *field, "{extra}");
    }
    created(
        &app,
        json!({ "url": "https://example.com/", "slug": "w", "valid_since": in_hours(1) }),
    )
    .await;
    for (extra, field) in &cases {
        let problem = assert_problem(app.patch_url("w", extra.clone()).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], *field, "PATCH {extra}");
    }
    // The window as it would be after the PATCH must end after it starts.
    let problem = assert_problem(
        app.patch_url("w", json!({ "valid_until": in_hours(0) }))
            .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "valid_until");
    let read = app.json("/api/urls/w").await;
    assert!(read["valid_until"].is_null() && read["max_visits"].is_null());
}

crate::on_both_backends!(
    a_cap_answers_exactly_its_number_of_people,
    bots_and_previews_do_not_use_a_cap,
    caps_count_earlier_people_and_can_be_raised,
    active_lists_leave_out_links_that_do_not_answer,
    validity_windows_hide_and_expire_links,
);

crate::on_sqlite!(
    expired_links_can_redirect_elsewhere,
    bad_windows_and_caps_are_named,
);
