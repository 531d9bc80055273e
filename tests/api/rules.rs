//! Redirect rules and query forwarding: where a click goes, and what its visit records.

use reqwest::RequestBuilder;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 \
    (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn rule(target: &str, conditions: &[(&str, &str)]) -> Value {
    json!({
        "target": target,
        "conditions": conditions
            .iter()
            .map(|(kind, value)| json!({ "type": kind, "value": value }))
            .collect::<Vec<_>>(),
    })
}

async fn create(app: &TestApp, slug: &str, rules: Vec<Value>) -> Value {
    let response = app
        .create_url(json!({ "url": "https://example.com/default", "slug": slug, "rules": rules }))
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Where a request to `path` is sent (the `Location` of its redirect).
async fn location(request: RequestBuilder) -> String {
    let response = request.send().await.expect("click sent");
    assert!(response.status().is_redirection(), "{}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn click(app: &TestApp, path: &str) -> RequestBuilder {
    app.client.get(app.url(path))
}

/// Each condition type decides alone; a click that meets none goes to the link's `url`.
async fn each_condition_type_sends_its_clicks(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = |name: &str| format!("https://example.com/{name}");
    for (slug, kind, value, yes, no) in [
        ("d-ios", "device", "ios", IPHONE, ANDROID),
        ("d-android", "device", "android", ANDROID, IPHONE),
        ("d-mobile", "device", "mobile", ANDROID, WINDOWS),
        ("d-desktop", "device", "desktop", MAC, IPHONE),
        ("d-windows", "device", "windows", WINDOWS, MAC),
        ("d-macos", "device", "macos", MAC, IPHONE),
        ("d-linux", "device", "linux", LINUX, ANDROID),
    ] {
        create(&app, slug, vec![rule(&t(slug), &[(kind, value)])]).await;
        let path = format!("/{slug}");
        let hit = location(click(&app, &path).header("user-agent", yes)).await;
        assert_eq!(hit, t(slug), "{kind}={value} with {yes}");
        let miss = location(click(&app, &path).header("user-agent", no)).await;
        assert_eq!(miss, t("default"), "{kind}={value} with {no}");
    }

    create(
        &app,
        "lang",
        vec![
            rule(&t("de"), &[("language", "de")]),
            rule(&t("br"), &[("language", "pt-BR")]),
        ],
    )
    .await;
    for (header, expected) in [
        ("de-AT,de;q=0.9,en;q=0.8", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "default"),
        ("fr;q=0.5, pt-BR;q=0.9", "br"),
        ("pt-PT", "default"),
        ("de;q=0", "default"),
    ] {
        let sent = location(click(&app, "/lang").header("accept-language", header)).await;
        assert_eq!(sent, t(expected), "Accept-Language: {header}");
    }
    assert_eq!(
        location(click(&app, "/lang")).await,
        t("default"),
        "no header"
    );

    create(
        &app,
        "q",
        vec![
            rule(&t("mail"), &[("query", "utm_source=mail")]),
            rule(&t("ref"), &[("query", "ref")]),
        ],
    )
    .await;
    for (path, expected) in [
        ("/q?utm_source=mail", "mail"),
        ("/q?utm_source=web", "default"),
        ("/q?a=1&ref", "ref"),
        ("/q?reference=1", "default"),
        ("/q", "default"),
    ] {
        assert_eq!(location(click(&app, path)).await, t(expected), "{path}");
    }

    // The test client is 127.0.0.1; no proxy is trusted, so the peer decides.
    create(
        &app,
        "net",
        vec![rule(&t("local"), &[("ip", "127.0.0.0/8")])],
    )
    .await;
    create(
        &app,
        "other-net",
        vec![rule(&t("local"), &[("ip", "192.0.2.7")])],
    )
    .await;
    assert_eq!(location(click(&app, "/net")).await, t("local"));
    assert_eq!(location(click(&app, "/other-net")).await, t("default"));
    let spoofed = click(&app, "/other-net").header("x-forwarded-for", "192.0.2.7");
    assert_eq!(
        location(spoofed).await,
        t("default"),
        "an untrusted X-Forwarded-For"
    );

    create(
        &app,
        "time",
        vec![
            rule(&t("gone-by"), &[("before", "2020-01-01T00:00:00Z")]),
            rule(
                &t("now"),
                &[
                    ("after", "2020-01-01T00:00:00Z"),
                    ("before", "2999-01-01T00:00:00+02:00"),
                ],
            ),
        ],
    )
    .await;
    assert_eq!(location(click(&app, "/time")).await, t("now"));
}

/// The first rule whose conditions all hold wins; each visit records its rule's index (or
/// null), and the statistics count the visits each rule sent.
async fn the_first_matching_rule_wins_and_visits_record_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = |name: &str| format!("https://example.com/{name}");
    let created = create(
        &app,
        "app",
        vec![
            rule(&t("ios-de"), &[("device", "ios"), ("language", "de")]),
            rule(&t("ios"), &[("device", "ios")]),
            rule(&t("mobile"), &[("device", "mobile")]),
        ],
    )
    .await;
    assert_eq!(
        created["rules"][0]["conditions"][1],
        json!({ "type": "language", "value": "de" })
    );
    assert_eq!(created["rules"].as_array().unwrap().len(), 3);
    let ios_de = click(&app, "/app")
        .header("user-agent", IPHONE)
        .header("accept-language", "de-DE");
    assert_eq!(location(ios_de).await, t("ios-de"));
    let ios = click(&app, "/app")
        .header("user-agent", IPHONE)
        .header("accept-language", "en");
    assert_eq!(location(ios).await, t("ios"), "all conditions must hold");
    assert_eq!(
        location(click(&app, "/app").header("user-agent", ANDROID)).await,
        t("mobile")
    );
    assert_eq!(
        location(click(&app, "/app").header("user-agent", ANDROID)).await,
        t("mobile")
    );
    assert_eq!(
        location(click(&app, "/app").header("user-agent", WINDOWS)).await,
        t("default")
    );
    app.wait_for_visits(5).await;
    let visits = app.json("/api/urls/app/visits").await;
    let rules: Vec<Value> = visits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].clone())
        .collect();
    assert_eq!(
        rules,
        [Value::Null, json!(2), json!(2), json!(1), json!(0)],
        "newest first"
    );
    let stats = app.json("/api/urls/app/stats").await;
    assert_eq!(
        stats["rules"],
        json!([{ "rule": 0, "visits": 1 }, { "rule": 1, "visits": 1 }, { "rule": 2, "visits": 2 }])
    );
    assert_eq!(stats["total_visits"], 5);

    // Replacing the rules takes effect at once; `[]` or `null` removes them.
    let patched: Value = app
        .patch_url(
            "app",
            json!({ "rules": [rule(&t("all-android"), &[("device", "android")])] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patched["rules"].as_array().unwrap().len(), 1);
    assert_eq!(
        location(click(&app, "/app").header("user-agent", ANDROID)).await,
        t("all-android")
    );
    for cleared in [json!([]), Value::Null] {
        let body: Value = app
            .patch_url("app", json!({ "rules": cleared }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["rules"], json!([]));
        assert_eq!(
            location(click(&app, "/app").header("user-agent", ANDROID)).await,
            t("default")
        );
    }
}

/// `forward_query` appends the click's query to the chosen target, merged with its own; the
/// server's `redirect.forward_query` is the default of new links.
async fn queries_are_forwarded_when_asked(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .create_url(json!({
            "url": "https://example.com/p?x=1#top", "slug": "fwd", "forward_query": true,
            "rules": [rule("https://example.com/ios", &[("device", "ios")])],
        }))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["forward_query"], true);
    assert_eq!(
        location(click(&app, "/fwd?utm_source=news&q=a%20b")).await,
        "https://example.com/p?x=1&utm_source=news&q=a%20b#top"
    );
    assert_eq!(
        location(click(&app, "/fwd")).await,
        "https://example.com/p?x=1#top"
    );
    assert_eq!(
        location(click(&app, "/fwd?a=1").header("user-agent", IPHONE)).await,
        "https://example.com/ios?a=1"
    );
    let off: Value = app
        .patch_url("fwd", json!({ "forward_query": false }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(off["forward_query"], false);
    assert_eq!(
        location(click(&app, "/fwd?a=1")).await,
        "https://example.com/p?x=1#top"
    );
    let plain = app.new_slug("https://example.com/plain").await;
    assert_eq!(
        location(click(&app, &format!("/{plain}?a=1"))).await,
        "https://example.com/plain",
        "off by default"
    );

    let forwarding = spawn_app_with(backend, |s| s.redirect.forward_query = true).await;
    let slug = forwarding.new_slug("https://example.com/on").await;
    assert_eq!(
        forwarding.json(&format!("/api/urls/{slug}")).await["forward_query"],
        true
    );
    assert_eq!(
        location(click(&forwarding, &format!("/{slug}?a=1"))).await,
        "https://example.com/on?a=1"
    );
    let response = forwarding
        .create_url(
            json!({ "url": "https://example.com/off", "slug": "no-fwd", "forward_query": false }),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        location(click(&forwarding, "/no-fwd?a=1")).await,
        "https://example.com/off"
    );
}

/// Wrong rules are 422s naming the place of the mistake; nothing is stored.
async fn bad_rules_are_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let ok = rule("https://example.com/x", &[("device", "ios")]);
    let cases = [
        (
            json!([rule("https://example.com/x", &[])]),
            "rules[0].conditions",
        ),
        (
            json!([
                ok.clone(),
                rule("javascript:alert(1)", &[("device", "ios")])
            ]),
            "rules[1].target",
        ),
        (
            json!([rule("https://10.0.0.1/", &[("device", "ios")])]),
            "rules[0].target",
        ),
        (
            json!([rule(
                "https://example.com/",
                &[("device", "ios"), ("device", "toaster")]
            )]),
            "rules[0].conditions[1].value",
        ),
        (
            json!([rule("https://example.com/", &[("language", "german")])]),
            "rules[0].conditions[0].value",
        ),
        (
            json!([rule("https://example.com/", &[("query", "=x")])]),
            "rules[0].conditions[0].value",
        ),
        (
            json!([rule("https://example.com/", &[("ip", "10.0.0.0/99")])]),
            "rules[0].conditions[0].value",
        ),
        (
            json!([rule("https://example.com/", &[("after", "soon")])]),
            "rules[0].conditions[0].value",
        ),
        (
            json!([rule("https://example.com/", &[("before", "")])]),
            "rules[0].conditions[0].value",
        ),
        (
            json!([rule("https://example.com/", &[("planet", "mars")])]),
            "rules[0].conditions[0].type",
        ),
        (
            json!([{ "target": "https://example.com/", "conditions": [], "extra": 1 }]),
            "rules[0]",
        ),
        (
            json!((0..21).map(|_| ok.clone()).collect::<Vec<_>>()),
            "rules",
        ),
        (json!("device=ios"), "rules"),
    ];
    for (rules, field) in &cases {
        let response = app
            .create_url(json!({ "url": "https://example.com/", "rules": rules }))
            .await;
        assert_eq!(response.status(), 422, "{rules}");
        let problem = assert_problem(response, 422).await;
        let named = problem["errors"][0]["field"].as_str().unwrap();
        assert!(named.starts_with(field), "{named} for {rules}");
    }
    create(&app, "keep", vec![ok.clone()]).await;
    for (rules, field) in &cases {
        let problem =
            assert_problem(app.patch_url("keep", json!({ "rules": rules })).await, 422).await;
        let named = problem["errors"][0]["field"].as_str().unwrap();
        assert!(named.starts_with(field), "PATCH: {named} for {rules}");
    }
    let problem = assert_problem(
        app.patch_url("keep", json!({ "forward_query": null }))
            .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "forward_query");
    assert_eq!(app.json("/api/urls/keep").await["rules"], json!([ok]));
}

crate::on_both_backends!(
    each_condition_type_sends_its_clicks,
    the_first_matching_rule_wins_and_visits_record_it,
    queries_are_forwarded_when_asked,
);

crate::on_sqlite!(bad_rules_are_named);
