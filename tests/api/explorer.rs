//! The HTML explorer over HTTP: negotiation, escaping, headers, CSRF, bounded pages, and its
//! absence when switched off. The browser tests in tests/browser drive it in Chromium.

use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async fn browse(app: &TestApp, path: &str) -> Response {
    app.client
        .get(app.url(path))
        .header(ACCEPT, BROWSER_ACCEPT)
        .send()
        .await
        .unwrap()
}

fn is_html(response: &Response) -> bool {
    response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html")
}

async fn browsers_get_html_pages_and_scripts_get_json(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_url(json!({ "url": "https://example.com/", "slug": "page" }))
        .await;
    for path in [
        "/api",
        "/api/urls",
        "/api/urls/page",
        "/api/urls/page/visits",
        "/api/urls/page/stats",
        "/api/visits",
        "/api/visits?url=page&bot=false",
    ] {
        let response = browse(&app, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(is_html(&response), "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers["x-robots-tag"], "noindex, nofollow");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert!(
            csp.contains("img-src 'self'"),
            "the QR code is an image of this origin"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let body = response.text().await.unwrap();
        assert!(body.contains("<pre id=\"json\">"), "{path}");
    }
    let page = browse(&app, "/api/urls/page").await.text().await.unwrap();
    assert!(page.contains("id=\"edit-url\"") && page.contains("id=\"delete-url\""));
    assert!(page.contains("id=\"daily-chart\""));
    // The link's QR code, an image of this origin (the CSP's `img-src 'self'` lets it in).
    assert!(page.contains("<img src=\"/page/qr?format=svg\""), "{page}");
    let qr = app.get("/page/qr?format=svg").await;
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()[CONTENT_TYPE], "image/svg+xml");
    let list = browse(&app, "/api/urls").await.text().await.unwrap();
    assert!(list.contains("id=\"create-url\"") && list.contains("id=\"url-search\""));
    let visits = browse(&app, "/api/visits").await.text().await.unwrap();
    assert!(visits.contains("data-picker=\"fill\""));
    assert!(
        !visits.contains("<select name=\"url\""),
        "no select of all URLs"
    );
    // curl and scripts still get JSON.
    let json = app.get("/api/urls").await;
    assert!(json.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // Errors render as pages with their status.
    let missing = browse(&app, "/api/urls/nope").await;
    assert_eq!(missing.status(), 404);
    assert!(is_html(&missing));
    // The assets are served by kurz itself.
    let script = app.get("/explorer/static/explorer.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(app.get("/explorer/static/explorer.css").await.status(), 200);
    assert_problem(app.get("/explorer/static/secrets").await, 404).await;
}

async fn titles_and_targets_are_rendered_inert(backend: Backend) {
    let app = spawn_app(backend).await;
    let evil = "<script>alert('x')</script>";
    let created = app
        .create_url(json!({
            "url": "https://example.com/?q=\"><script>alert(1)</script>",
            "slug": "evil",
            "title": evil,
        }))
        .await;
    assert_eq!(created.status(), 201);
    for path in ["/api/urls/evil", "/api/urls", "/api/urls/search?q=evil"] {
        let body = browse(&app, path).await.text().await.unwrap();
        assert!(
            !body.contains("<script>alert"),
            "{path} renders a live script"
        );
        assert!(
            body.contains("&lt;script&gt;")
                || body.contains("%3Cscript%3E")
                || body.contains("&#x3c;script"),
            "{path}"
        );
    }
}

async fn explorer_forms_need_their_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = browse(&app, "/api/urls").await;
    let cookie = page.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let token = pair.split_once('=').unwrap().1.to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("<meta name=\"csrf-token\" content=\"{token}\">")));

    let post = |csrf: Option<&str>| {
        let mut request = app
            .client
            .post(app.url("/api/urls"))
            .header(COOKIE, pair.clone())
            .json(&json!({ "url": "https://example.com/" }));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    assert_problem(post(None).await.unwrap(), 403).await;
    assert_problem(
        post(Some("wrong-token-wrong-token-wrong-tok"))
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(post(Some(&token)).await.unwrap().status(), 201);
    // Without the explorer's cookie (curl, scripts) nothing changes.
    assert_eq!(
        app.new_url("https://example.com/curl").await["url"],
        "https://example.com/curl"
    );
    // The same browser keeps its token.
    let again = app
        .client
        .get(app.url("/api/urls"))
        .header(ACCEPT, BROWSER_ACCEPT)
        .header(COOKIE, pair.clone())
        .send()
        .await
        .unwrap();
    assert!(again.headers().get(SET_COOKIE).is_none());
}

async fn pages_do_not_grow_with_the_table(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.pagination.default_limit = 20).await;
    let batch: Vec<Value> = (0..30)
        .map(|i| json!({ "url": format!("https://example.com/{i}") }))
        .collect();
    for body in &batch {
        assert_eq!(app.create_url(body.clone()).await.status(), 201);
    }
    let small = browse(&app, "/api/visits")
        .await
        .text()
        .await
        .unwrap()
        .len();
    let list = browse(&app, "/api/urls").await.text().await.unwrap();
    // One page of 20 rows and a next link; never the whole table.
    assert!(list.contains("id=\"next-page\""));
    assert_eq!(list.matches("short_url").count(), 20);
    for i in 30..130 {
        app.create_url(json!({ "url": format!("https://example.com/{i}") }))
            .await;
    }
    assert_eq!(
        browse(&app, "/api/visits")
            .await
            .text()
            .await
            .unwrap()
            .len(),
        small
    );
    let list_after = browse(&app, "/api/urls").await.text().await.unwrap();
    assert_eq!(list_after.matches("short_url").count(), 20);
}

async fn switched_off_the_api_is_json_only(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.explorer.enabled = false).await;
    let response = browse(&app, "/api/urls").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(response.headers().get("x-robots-tag").is_none());
    assert_problem(app.get("/explorer/static/explorer.js").await, 404).await;
    let response = app.request(Method::GET, "/api/urls/nope").await;
    assert_problem(response, 404).await;
}

/// Tags in the explorer: on a link's page, as the URL list's filter, and their own pages.
async fn tags_have_pages_and_filter_the_url_list(backend: Backend) {
    let app = spawn_app(backend).await;
    for (slug, tags) in [("t1", json!(["launch", "q4"])), ("t2", json!(["launch"]))] {
        let created = app
            .create_url(json!({ "url": "https://example.com/", "slug": slug, "tags": tags }))
            .await;
        assert_eq!(created.status(), 201);
    }
    let link = browse(&app, "/api/urls/t1").await.text().await.unwrap();
    assert!(
        link.contains(r#"<a class="tag" href="/api/urls?tag=launch">launch</a>"#),
        "{link}"
    );
    assert!(link.contains(r#"name="tags" value="launch q4" data-json="list" data-clearable"#));
    let untagged = app
        .create_url(json!({ "url": "https://example.com/", "slug": "t3" }))
        .await;
    assert_eq!(untagged.status(), 201);
    let page = browse(&app, "/api/urls/t3").await.text().await.unwrap();
    assert!(page.contains("No tags."));

    // The list filtered by two tags, all of them: both shown, each removable, switchable.
    let response = browse(&app, "/api/urls?tag=launch&tag=q4&tags=all").await;
    assert_eq!(response.status(), 200);
    let list = response.text().await.unwrap();
    for tag in ["launch", "q4"] {
        assert!(list.contains(&format!(r#"data-tag="{tag}""#)), "{tag}");
    }
    assert!(list.contains("Links with all of:"));
    assert!(
        list.contains(r#"href="/api/urls?tag=q4" title="remove launch from the filter""#),
        "launch removed"
    );
    assert!(list
        .contains(r#"id="tag-match-switch" href="/api/urls?tag=launch&#38;tag=q4">any of them"#));
    assert!(list.contains(r#"id="tag-filter-clear" href="/api/urls">"#));
    assert!(list.contains(r#"data-picker="filter" data-source="tags""#));
    // The JSON is printed escaped: `"` is `&#34;`.
    assert!(
        list.contains("/t1&#34;") && !list.contains("/t2&#34;"),
        "{list}"
    );
    let unfiltered = browse(&app, "/api/urls").await.text().await.unwrap();
    assert!(unfiltered.contains(r#"id="tag-search""#) && !unfiltered.contains("Links with"));

    // The tags: a search box (no list of every tag), a tag's page with its forms, its stats.
    let tags = browse(&app, "/api/tags").await.text().await.unwrap();
    assert!(tags.contains(r#"data-picker="navigate" data-source="tags""#));
    assert!(!tags.contains("<select"), "no select of all tags");
    let tag = browse(&app, "/api/tags/launch").await;
    assert_eq!(tag.status(), 200);
    let tag = tag.text().await.unwrap();
    assert!(tag.contains(r#"id="rename-tag" data-api-method="PATCH" action="/api/tags/launch""#));
    assert!(tag.contains(r#"id="delete-tag" data-api-method="DELETE""#));
    assert!(tag.contains(r#"<a id="tag-links" href="/api/urls?tag=launch">2 links</a>"#));
    let stats = browse(&app, "/api/tags/launch/stats").await;
    assert_eq!(stats.status(), 200);
    assert!(stats.text().await.unwrap().contains(r#"id="daily-chart""#));
    let missing = browse(&app, "/api/tags/nope").await;
    assert_eq!(missing.status(), 404);
    assert!(is_html(&missing));
    assert!(!missing.text().await.unwrap().contains("rename-tag"));
}

/// Orphan visits and the site statistics have pages: the list links to each type, the
/// statistics draw the days.
async fn orphan_visits_and_site_stats_have_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = browse(&app, "/api").await.text().await.unwrap();
    assert!(root.contains(r#"href="/api/visits/orphan""#), "{root}");
    assert!(root.contains(r#"href="/api/visits/stats""#));
    let list = browse(&app, "/api/visits/orphan?type=expired")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("<h1>Orphan visits</h1>"), "{list}");
    assert!(list.contains(r#"href="/api/visits/orphan?type=invalid_slug""#));
    assert!(!list.contains(r#"href="/api/visits/orphan?type=expired""#));
    let stats = browse(&app, "/api/visits/stats")
        .await
        .text()
        .await
        .unwrap();
    assert!(stats.contains("<h1>Site statistics</h1>"), "{stats}");
    assert!(stats.contains(r#"id="daily-chart""#));
}

crate::on_both_backends!(tags_have_pages_and_filter_the_url_list);

crate::on_sqlite!(
    browsers_get_html_pages_and_scripts_get_json,
    titles_and_targets_are_rendered_inert,
    explorer_forms_need_their_csrf_token,
    pages_do_not_grow_with_the_table,
    switched_off_the_api_is_json_only,
    orphan_visits_and_site_stats_have_pages,
);
