//! Shlink's redirect rules of a short URL: every condition type kurz evaluates set, read back
//! in Shlink's shape and followed by clicks; the ones it cannot evaluate refused as
//! `invalid-data` naming `redirectRules`; roles as the other writes.

use kurz::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_locked_app, Backend, TestApp};
use crate::shlink_calls::{rest, rest_json, shlink_problem};

const IPHONE: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";

async fn shorten(app: &TestApp, key: &str, slug: &str) {
    let body = json!({"longUrl": format!("https://example.com/{slug}"), "customSlug": slug});
    let response = rest(app, Method::POST, "/short-urls", key, Some(body)).await;
    assert_eq!(response.status(), 200, "creating {slug}");
}

fn condition(kind: &str, key: Value, value: Value) -> Value {
    json!({"type": kind, "matchKey": key, "matchValue": value})
}

/// Where a click with this user agent and query goes.
async fn goes_to(app: &TestApp, path: &str, user_agent: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .header("user-agent", user_agent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "{path}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn every_mapped_condition_round_trips(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let key = app.api_key(Role::Admin).await;
    shorten(&app, &key, "ruled").await;
    let empty = rest_json(&app, "/short-urls/ruled/redirect-rules", &key).await;
    assert_eq!(
        empty,
        json!({"defaultLongUrl": "https://example.com/ruled", "redirectRules": []})
    );

    let rules = json!([
        {"longUrl": "https://example.com/ios", "conditions": [condition("device", Value::Null, json!("ios"))]},
        {"longUrl": "https://example.com/mail", "conditions": [
            condition("query-param", json!("utm"), json!("mail")),
            condition("language", Value::Null, json!("en-US"))]},
        {"longUrl": "https://example.com/any", "conditions": [
            condition("any-value-query-param", json!("ref"), Value::Null)]},
        {"longUrl": "https://example.com/net", "conditions": [
            condition("ip-address", Value::Null, json!("192.168.*.*")),
            condition("geolocation-country-code", Value::Null, json!("de"))]},
        {"longUrl": "https://example.com/dated", "conditions": [
            condition("after-date", Value::Null, json!("2026-01-01")),
            condition("before-date", Value::Null, json!("2099-12-31T23:00:00+01:00"))]},
        {"longUrl": "https://example.com/desktop", "conditions": [
            condition("device", Value::Null, json!("desktop"))]}
    ]);
    let set = rest(
        &app,
        Method::POST,
        "/short-urls/ruled/redirect-rules",
        &key,
        Some(json!({"redirectRules": rules})),
    )
    .await;
    assert_eq!(set.status(), 200);
    let set: Value = set.json().await.unwrap();
    let expected = json!({"defaultLongUrl": "https://example.com/ruled", "redirectRules": [
        {"longUrl": "https://example.com/ios", "priority": 1,
         "conditions": [condition("device", Value::Null, json!("ios"))]},
        {"longUrl": "https://example.com/mail", "priority": 2, "conditions": [
            condition("query-param", json!("utm"), json!("mail")),
            condition("language", Value::Null, json!("en-US"))]},
        {"longUrl": "https://example.com/any", "priority": 3, "conditions": [
            condition("any-value-query-param", json!("ref"), Value::Null)]},
        {"longUrl": "https://example.com/net", "priority": 4, "conditions": [
            condition("ip-address", Value::Null, json!("192.168.0.0/16")),
            condition("geolocation-country-code", Value::Null, json!("DE"))]},
        {"longUrl": "https://example.com/dated", "priority": 5, "conditions": [
            condition("after-date", Value::Null, json!("2026-01-01T00:00:00+00:00")),
            condition("before-date", Value::Null, json!("2099-12-31T22:00:00+00:00"))]},
        {"longUrl": "https://example.com/desktop", "priority": 6, "conditions": [
            condition("device", Value::Null, json!("desktop"))]}
    ]});
    assert_eq!(set, expected);
    assert_eq!(
        rest_json(&app, "/short-urls/ruled/redirect-rules", &key).await,
        expected
    );
    let link = rest_json(&app, "/short-urls/ruled", &key).await;
    assert_eq!(link["hasRedirectRules"], true);
    // The native API shows the same rules in kurz's terms.
    let native = app
        .with_key(Method::GET, "/api/urls/ruled", &key)
        .send()
        .await
        .unwrap();
    let native: Value = native.json().await.unwrap();
    assert_eq!(
        native["rules"][1]["conditions"],
        json!([{"type": "query", "value": "utm=mail"}, {"type": "language", "value": "en-US"}])
    );

    // Clicks follow them, in order.
    assert_eq!(
        goes_to(&app, "/ruled", IPHONE).await,
        "https://example.com/ios"
    );
    assert_eq!(
        goes_to(&app, "/ruled?ref=x", "curl/8").await,
        // Created through Shlink's API, the link forwards its query (Shlink's default).
        "https://example.com/any?ref=x"
    );
    // Today is after 2026-01-01 and before 2100.
    assert_eq!(
        goes_to(&app, "/ruled", "curl/8").await,
        "https://example.com/dated"
    );

    // PATCH replaces them too; an empty list removes them.
    let one = json!({"redirectRules": [{"longUrl": "https://example.com/android",
        "conditions": [condition("device", Value::Null, json!("android"))]}]});
    let patched = rest(
        &app,
        Method::PATCH,
        "/short-urls/ruled/redirect-rules",
        &key,
        Some(one),
    )
    .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["redirectRules"].as_array().unwrap().len(), 1);
    let cleared = rest(
        &app,
        Method::POST,
        "/short-urls/ruled/redirect-rules",
        &key,
        Some(json!({"redirectRules": []})),
    )
    .await;
    assert_eq!(
        cleared.json::<Value>().await.unwrap()["redirectRules"],
        json!([])
    );
    assert_eq!(
        rest_json(&app, "/short-urls/ruled", &key).await["hasRedirectRules"],
        false
    );
}

async fn conditions_kurz_cannot_evaluate_are_refused(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let key = app.api_key(Role::Admin).await;
    shorten(&app, &key, "strict").await;
    let refused = [
        (
            condition("device", Value::Null, json!("chromeos")),
            "chromeos",
        ),
        (
            condition("valueless-query-param", json!("flag"), Value::Null),
            "valueless-query-param",
        ),
        (
            condition("geolocation-city-name", Value::Null, json!("Berlin")),
            "city",
        ),
        (
            condition("browser", Value::Null, json!("chrome")),
            "browser",
        ),
        (
            condition("ip-address", Value::Null, json!("192.*.1.*")),
            "whole trailing octets",
        ),
        (
            condition("ip-address", Value::Null, json!("300.1.1.1")),
            "not an IP address",
        ),
        (
            condition("language", Value::Null, json!("no language")),
            "redirectRules[0].conditions[0].value",
        ),
        (
            condition("after-date", Value::Null, json!("soon")),
            "ISO 8601",
        ),
        (
            condition("weather", Value::Null, json!("rain")),
            "not a redirect condition type",
        ),
    ];
    for (refused, because) in refused {
        for method in [Method::POST, Method::PATCH] {
            let body = json!({"redirectRules": [
                {"longUrl": "https://example.com/ok", "conditions": [refused.clone()]}]});
            let response = rest(
                &app,
                method,
                "/short-urls/strict/redirect-rules",
                &key,
                Some(body),
            )
            .await;
            let problem = shlink_problem(response, 400, "invalid-data").await;
            assert_eq!(problem["invalidElements"], json!(["redirectRules"]));
            let reason = problem["errors"][0]["reason"].as_str().unwrap_or_default();
            assert!(reason.contains(because), "{refused}: {problem}");
        }
    }
    // A rule without a long URL, without conditions, or with a target kurz refuses.
    for rule in [
        json!({"conditions": [condition("device", Value::Null, json!("ios"))]}),
        json!({"longUrl": "https://example.com/x", "conditions": []}),
        json!({"longUrl": "javascript:alert(1)", "conditions": [condition("device", Value::Null, json!("ios"))]}),
    ] {
        let body = json!({"redirectRules": [rule]});
        let response = rest(
            &app,
            Method::POST,
            "/short-urls/strict/redirect-rules",
            &key,
            Some(body),
        )
        .await;
        let problem = shlink_problem(response, 400, "invalid-data").await;
        assert_eq!(
            problem["invalidElements"],
            json!(["redirectRules"]),
            "{problem}"
        );
    }
    let wrong_type = rest(
        &app,
        Method::POST,
        "/short-urls/strict/redirect-rules",
        &key,
        Some(json!({"redirectRules": "all"})),
    )
    .await;
    let problem = shlink_problem(wrong_type, 400, "invalid-data").await;
    assert_eq!(problem["invalidElements"], json!(["redirectRules"]));
    let malformed = app
        .client
        .post(app.url("/rest/v3/short-urls/strict/redirect-rules"))
        .header("X-Api-Key", &key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    shlink_problem(malformed, 400, "malformed-request-body").await;
    // Nothing was stored.
    let rules = rest_json(&app, "/short-urls/strict/redirect-rules", &key).await;
    assert_eq!(rules["redirectRules"], json!([]));
}

async fn redirect_rules_follow_the_keys_roles(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let editor = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    shorten(&app, &admin, "admins").await;
    shorten(&app, &editor, "editors").await;
    let body = json!({"redirectRules": [{"longUrl": "https://example.com/ios",
        "conditions": [condition("device", Value::Null, json!("ios"))]}]});

    let own = rest(
        &app,
        Method::POST,
        "/short-urls/editors/redirect-rules",
        &editor,
        Some(body.clone()),
    )
    .await;
    assert_eq!(own.status(), 200);
    let others = rest(
        &app,
        Method::POST,
        "/short-urls/admins/redirect-rules",
        &editor,
        Some(body.clone()),
    )
    .await;
    shlink_problem(others, 404, "short-url-not-found").await;
    let read_others = rest(
        &app,
        Method::GET,
        "/short-urls/admins/redirect-rules",
        &editor,
        None,
    )
    .await;
    shlink_problem(read_others, 404, "short-url-not-found").await;
    let viewers = rest(
        &app,
        Method::POST,
        "/short-urls/admins/redirect-rules",
        &viewer,
        Some(body),
    )
    .await;
    shlink_problem(viewers, 403, "").await;
    let read = rest_json(&app, "/short-urls/editors/redirect-rules", &viewer).await;
    assert_eq!(read["redirectRules"][0]["priority"], 1);
    let missing = rest(
        &app,
        Method::GET,
        "/short-urls/nope/redirect-rules",
        &admin,
        None,
    )
    .await;
    shlink_problem(missing, 404, "short-url-not-found").await;
    let elsewhere = rest(
        &app,
        Method::GET,
        "/short-urls/admins/redirect-rules?domain=s.example",
        &admin,
        None,
    )
    .await;
    shlink_problem(elsewhere, 400, "invalid-data").await;
}

crate::on_sqlite!(
    every_mapped_condition_round_trips,
    conditions_kurz_cannot_evaluate_are_refused,
    redirect_rules_follow_the_keys_roles,
);
