//! A table of bad requests and the status each must get. Every one is a problem document;
//! none is a 500.

use reqwest::Method;

use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend};

struct Case {
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
    status: u16,
    field: Option<&'static str>,
}

fn case(
    method: Method,
    path: &'static str,
    body: &str,
    status: u16,
    field: Option<&'static str>,
) -> Case {
    Case {
        method,
        path,
        content_type: Some("application/json"),
        body: body.to_owned(),
        status,
        field,
    }
}

fn cases() -> Vec<Case> {
    use Method as M;
    let huge_title = format!(
        r#"{{"url":"https://example.com","title":"{}"}}"#,
        "t".repeat(600)
    );
    let long_url = format!(r#"{{"url":"https://example.com/{}"}}"#, "a".repeat(2100));
    let too_big = format!(
        r#"{{"url":"https://example.com","title":"{}"}}"#,
        "x".repeat(1_100_000)
    );
    vec![
        // Malformed JSON: 400.
        case(M::POST, "/api/urls", "{", 400, None),
        case(M::POST, "/api/urls", "not json", 400, None),
        case(M::POST, "/api/urls", "", 400, None),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://example.com"} trailing"#,
            400,
            None,
        ),
        // Wrong or missing content type: 415.
        Case {
            content_type: Some("text/plain"),
            ..case(
                M::POST,
                "/api/urls",
                r#"{"url":"https://example.com"}"#,
                415,
                None,
            )
        },
        Case {
            content_type: None,
            ..case(
                M::POST,
                "/api/urls",
                r#"{"url":"https://example.com"}"#,
                415,
                None,
            )
        },
        Case {
            content_type: Some("application/x-www-form-urlencoded"),
            ..case(M::POST, "/api/urls", "url=https://example.com", 415, None)
        },
        // Validation: 422 naming the field.
        case(M::POST, "/api/urls", "{}", 422, Some("url")),
        case(M::POST, "/api/urls", "[]", 422, Some("body")),
        case(M::POST, "/api/urls", r#"{"url":42}"#, 422, Some("url")),
        case(M::POST, "/api/urls", r#"{"url":null}"#, 422, Some("url")),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"javascript:alert(1)"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"data:text/html,hi"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"file:///etc/passwd"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"/relative"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://exa mple.com"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://example.com/\u0007"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://user:pw@example.com/"}"#,
            422,
            Some("url"),
        ),
        case(M::POST, "/api/urls", &long_url, 422, Some("url")),
        // What a link may point to (docs/security.md): 422 naming `url`.
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://10.0.0.1/admin"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://169.254.169.254/latest/meta-data/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://2130706433/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://[::1]/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://[::ffff:127.0.0.1]/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://localhost:8080/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://db.internal/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"http://intranet/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://under_score.example/"}"#,
            422,
            Some("url"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://example.com","slug":"api"}"#,
            422,
            Some("slug"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://example.com","slug":"ünï"}"#,
            422,
            Some("slug"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://example.com","slug":7}"#,
            422,
            Some("slug"),
        ),
        case(M::POST, "/api/urls", &huge_title, 422, Some("title")),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://example.com","extra":1}"#,
            422,
            Some("extra"),
        ),
        case(
            M::POST,
            "/api/urls",
            r#"{"url":"https://example.com","crawlable":"yes"}"#,
            422,
            Some("crawlable"),
        ),
        // Too large: 413.
        case(M::POST, "/api/urls", &too_big, 413, None),
        // Query parameters: 422 naming the parameter.
        case(M::GET, "/api/urls?limit=abc", "", 422, Some("limit")),
        case(M::GET, "/api/urls?limit=-1", "", 422, Some("limit")),
        case(M::GET, "/api/urls?cursor=garbage", "", 422, Some("cursor")),
        case(M::GET, "/api/urls?color=red", "", 422, Some("color")),
        case(M::GET, "/api/visits?cursor=%FF", "", 422, Some("cursor")),
        // Unknown things: 404. Wrong methods: 405.
        case(M::GET, "/api/urls/nope", "", 404, None),
        case(M::GET, "/api/nothing-here", "", 404, None),
        case(M::PUT, "/api/urls", "{}", 405, None),
        case(M::DELETE, "/api/urls", "", 405, None),
        case(M::POST, "/api/visits", "{}", 405, None),
        case(M::POST, "/healthz", "", 405, None),
    ]
}

async fn bad_requests_get_the_right_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    for case in cases() {
        // A fresh connection per case: a server may close one it refused a body on (413).
        let mut request = app
            .client
            .request(case.method.clone(), app.url(case.path))
            .header("connection", "close");
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.body(case.body.clone()).send().await.unwrap();
        let label = format!("{} {} {:.60}", case.method, case.path, case.body);
        assert_eq!(response.status(), case.status, "{label}");
        let problem = assert_problem(response, case.status).await;
        if let Some(field) = case.field {
            assert_eq!(problem["errors"][0]["field"], field, "{label}: {problem}");
        }
    }
    // Nothing above was stored.
    let page = app.json("/api/urls").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
}

async fn method_not_allowed_lists_the_allowed_methods(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.request(Method::PUT, "/api/urls").await;
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_problem(response, 405).await;
}

/// Targets refused by a configured policy, each with a word its reason must contain.
const REFUSED_TARGETS: &[(&str, &str)] = &[
    ("http://192.168.1.1/", "private"),
    ("http://2130706433/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://localhost/", "local name"),
    ("http://intranet/", "domain name"),
    ("https://denied.example/", "deny list"),
    ("https://www.Denied.Example/page", "deny list"),
    ("https://kurz.example/abc", "own host"),
    ("https://KURZ.example./abc", "own host"),
];

/// The target rules on a server with `deny_hosts` and a public URL: refused on create and on
/// `PATCH` alike, with a reason naming the rule; nothing is stored or changed.
async fn create_and_patch_apply_the_same_target_rules(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.public_url = "https://kurz.example/".into();
        s.target.allow_private = false;
        s.target.deny_hosts = vec!["denied.example".into()];
    })
    .await;
    let slug = app.new_slug("https://example.com/original").await;
    for (target, rule) in REFUSED_TARGETS {
        let problem = assert_problem(app.create_url(json!({ "url": target })).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], "url", "{target}: {problem}");
        let reason = problem["errors"][0]["reason"].as_str().unwrap();
        assert!(reason.contains(rule), "{target}: {reason}");

        let problem =
            assert_problem(app.patch_url(&slug, json!({ "url": target })).await, 422).await;
        assert_eq!(
            problem["errors"][0]["field"], "url",
            "PATCH {target}: {problem}"
        );
        let reason = problem["errors"][0]["reason"].as_str().unwrap();
        assert!(reason.contains(rule), "PATCH {target}: {reason}");
    }
    let shown = app.json(&format!("/api/urls/{slug}")).await;
    assert_eq!(shown["url"], "https://example.com/original");
    let page = app.json("/api/urls").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    // Neighbours of the denied domain and of kurz's host are fine, on create and PATCH.
    app.new_url("https://notdenied.example/").await;
    app.new_url("https://www.kurz.example/").await;
    let response = app
        .patch_url(&slug, json!({ "url": "https://denied.example.org/" }))
        .await;
    assert_eq!(response.status(), 200);
}

/// `target.allow_private` lets a server shorten links into its own network.
async fn allow_private_accepts_private_targets(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.target.allow_private = true).await;
    for target in [
        "http://10.0.0.1/wiki",
        "http://[fd00::1]/",
        "http://nas.local/",
    ] {
        let url = app.new_url(target).await;
        assert_eq!(url["url"], target);
    }
    // kurz's own host (here 127.0.0.1) stays refused.
    let own = app.url("/abc");
    let problem = assert_problem(app.create_url(json!({ "url": own })).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "url");
}

crate::on_sqlite!(
    bad_requests_get_the_right_problem,
    method_not_allowed_lists_the_allowed_methods,
    create_and_patch_apply_the_same_target_rules,
    allow_private_accepts_private_targets,
);
