//! A table of bad requests and the status each must get. Every one is a problem document;
//! none is a 500.

use reqwest::Method;

use crate::helpers::{assert_problem, spawn_app, Backend};

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

crate::on_both_backends!(
    bad_requests_get_the_right_problem,
    method_not_allowed_lists_the_allowed_methods,
);
