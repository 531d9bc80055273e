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

/// A link's page shows where its recent visits came from; its statistics page has a country
/// table.
async fn locations_and_countries_are_shown(backend: Backend) {
    use crate::geo::{click_from, fixture, located, BERLIN};
    let app = spawn_app_with(backend, located(fixture("city.mmdb"))).await;
    app.create_url(json!({ "url": "https://example.com/", "slug": "geo" }))
        .await;
    click_from(&app, "geo", BERLIN).await;
    click_from(&app, "geo", "100.64.0.1").await;
    app.wait_for_visits(2).await;
    let page = browse(&app, "/api/urls/geo").await.text().await.unwrap();
    assert!(page.contains("<td>Berlin, DE</td>"), "{page}");
    let stats = browse(&app, "/api/urls/geo/stats")
        .await
        .text()
        .await
        .unwrap();
    assert!(stats.contains(r#"<table id="countries">"#), "{stats}");
    assert!(stats.contains("<tr><td>DE</td><td>1</td></tr>"), "{stats}");
    assert!(
        stats.contains("<tr><td>unknown</td><td>1</td></tr>"),
        "{stats}"
    );
}

crate::on_sqlite!(
    locations_and_countries_are_shown,
    browsers_get_html_pages_and_scripts_get_json,
    titles_and_targets_are_rendered_inert,
    explorer_forms_need_their_csrf_token,
    pages_do_not_grow_with_the_table,
    switched_off_the_api_is_json_only,
    orphan_visits_and_site_stats_have_pages,
);

/// An explorer session: a page's HTML, and the CSRF cookie and token its forms send back.
struct Session {
    html: String,
    cookie: String,
    token: String,
}

async fn open_page(app: &TestApp, path: &str, cookie: Option<&str>) -> Session {
    let mut request = app.client.get(app.url(path)).header(ACCEPT, BROWSER_ACCEPT);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let cookie = match response.headers().get(SET_COOKIE) {
        Some(set) => set.to_str().unwrap().split(';').next().unwrap().to_owned(),
        None => cookie.expect("a cookie set or kept").to_owned(),
    };
    let token = cookie.split_once('=').unwrap().1.to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!(r#"<meta name="csrf-token" content="{token}">"#)));
    Session {
        html,
        cookie,
        token,
    }
}

/// The opening tag of the form `id` on the page.
fn form_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<form id="{id}""#))
        .unwrap_or_else(|| panic!("no form {id} in {html}"));
    let end = start + html[start..].find('>').expect("a closed tag");
    &html[start..=end]
}

fn attribute<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(r#" {name}=""#);
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    &tag[start..start + tag[start..].find('"').unwrap()]
}

/// Sends what explorer.js sends for the form `id` of the session's page: its method to its
/// action, the JSON `body` (none for a DELETE), with the CSRF cookie and header.
async fn submit(app: &TestApp, session: &Session, id: &str, body: Value) -> Response {
    let tag = form_tag(&session.html, id);
    let method = Method::from_bytes(attribute(tag, "data-api-method").as_bytes()).unwrap();
    let mut request = app
        .client
        .request(method.clone(), app.url(attribute(tag, "action")))
        .header(COOKIE, &session.cookie)
        .header("x-csrf-token", &session.token);
    if method != Method::DELETE {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// A webhook form's checkbox of `event`, and whether it is checked.
fn event_box(event: &str, checked: bool) -> String {
    let checked = if checked { " checked" } else { "" };
    format!(r#"name="events" type="checkbox" value="{event}" data-json="set"{checked}>"#)
}

const EVENTS: [&str; 5] = [
    "visit",
    "link.created",
    "link.updated",
    "link.deleted",
    "orphan_visit",
];

/// Webhooks in the explorer: listed from `/api`, registered through the list's form (the
/// generated secret in that answer only), changed and deleted through the endpoint's forms.
async fn webhooks_are_listed_registered_edited_and_deleted_in_the_explorer(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = browse(&app, "/api").await.text().await.unwrap();
    assert!(
        root.contains(r#"<a href="/api/webhooks">Webhooks"#),
        "{root}"
    );
    let empty = browse(&app, "/api/webhooks").await.text().await.unwrap();
    assert!(empty.contains(r#"id="no-webhooks""#), "{empty}");

    // One registered through the API is listed, linking to its page.
    let registered = app
        .send_json(
            Method::POST,
            "/api/webhooks",
            &json!({"url": "https://hooks.example.com/api", "events": ["link.deleted"]}),
        )
        .await;
    assert_eq!(registered.status(), 201);
    let api_id = registered.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let list = open_page(&app, "/api/webhooks", None).await;
    assert!(list.html.contains("<h1>Webhooks</h1>"));
    assert!(list.html.contains(&format!(
        r#"<tr><td><a href="/api/webhooks/{api_id}">{api_id}</a></td><td><a href="/api/webhooks/{api_id}">https://hooks.example.com/api</a></td><td>link.deleted</td>"#
    )), "{}", list.html);

    // The create form: every event a checkbox, none checked; the secret is shown in place.
    let create = form_tag(&list.html, "create-webhook");
    assert_eq!(attribute(create, "data-api-method"), "POST");
    assert_eq!(attribute(create, "action"), "/api/webhooks");
    assert_eq!(attribute(create, "data-reveal"), "secret");
    let reveal_in = attribute(create, "data-reveal-in");
    assert!(list.html.contains(&format!(
        r#"<div id="{reveal_in}" class="revealed" hidden>"#
    )));
    assert!(list
        .html
        .contains(r#"<code class="secret" data-revealed></code>"#));
    for event in EVENTS {
        assert!(list.html.contains(&event_box(event, false)), "{event}");
    }
    assert!(list.html.contains(r#"<input name="secret""#));
    let created = submit(
        &app,
        &list,
        "create-webhook",
        json!({"url": "https://hooks.example.com/form", "events": ["visit", "orphan_visit"]}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let secret = created["secret"].as_str().expect("the generated secret");
    assert!(secret.starts_with("whsec_"));
    let id = created["id"].as_i64().unwrap();
    // ... once: no page shows it again.
    let list = open_page(&app, "/api/webhooks", Some(&list.cookie)).await;
    assert!(list.html.contains(&format!(r#"href="/api/webhooks/{id}""#)));
    assert!(!list.html.contains(secret));
    let path = format!("/api/webhooks/{id}");
    let page = open_page(&app, &path, Some(&list.cookie)).await;
    assert!(!page.html.contains(secret));

    // The endpoint's page: its events checked, a link to its deliveries, edit and delete.
    assert!(page.html.contains(&format!("<h1>Webhook {id}</h1>")));
    assert!(page
        .html
        .contains(r#"<span id="webhook-url">https://hooks.example.com/form</span>"#));
    assert!(page.html.contains(&format!(
        r#"<a id="webhook-deliveries" href="/api/webhooks/{id}/deliveries">"#
    )));
    for event in EVENTS {
        let checked = event == "visit" || event == "orphan_visit";
        assert!(page.html.contains(&event_box(event, checked)), "{event}");
    }
    let edit = form_tag(&page.html, "edit-webhook");
    assert_eq!(attribute(edit, "data-api-method"), "PATCH");
    assert_eq!(attribute(edit, "action"), path);
    assert!(
        page.html.contains(r#"<input name="secret""#),
        "secret rotation"
    );
    let edited = submit(
        &app,
        &page,
        "edit-webhook",
        json!({
            "url": "https://hooks.example.com/changed",
            "secret": "a-rotated-secret-0123",
            "events": ["link.created", "link.updated"],
        }),
    )
    .await;
    assert_eq!(edited.status(), 200);
    let page = open_page(&app, &path, Some(&page.cookie)).await;
    assert!(page
        .html
        .contains(r#"<span id="webhook-url">https://hooks.example.com/changed</span>"#));
    for event in EVENTS {
        let checked = event == "link.created" || event == "link.updated";
        assert!(page.html.contains(&event_box(event, checked)), "{event}");
    }
    // No box checked is the API's 422 naming the field (shown in the form's output).
    let none = submit(&app, &page, "edit-webhook", json!({"events": []})).await;
    let problem = assert_problem(none, 422).await;
    assert_eq!(problem["errors"][0]["field"], "events");

    let delete = form_tag(&page.html, "delete-webhook");
    assert_eq!(attribute(delete, "data-api-method"), "DELETE");
    assert_eq!(attribute(delete, "data-done"), "/api/webhooks");
    assert_eq!(
        submit(&app, &page, "delete-webhook", Value::Null)
            .await
            .status(),
        204
    );
    let gone = browse(&app, &path).await;
    assert_eq!(gone.status(), 404);
    assert!(is_html(&gone));
    assert!(!gone.text().await.unwrap().contains("edit-webhook"));
    let list = browse(&app, "/api/webhooks").await.text().await.unwrap();
    assert!(!list.contains(&format!(r#"href="/api/webhooks/{id}""#)));
    assert!(list.contains(&format!(r#"href="/api/webhooks/{api_id}""#)));
}

/// A webhook's deliveries page: each attempt a row (a dead receiver's as "no answer" with its
/// error), the keyset "next" link to older ones, and an endpoint without attempts says so.
async fn webhook_deliveries_have_a_page(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        // A receiver on this machine (private), apart from kurz's own host; quick retries.
        s.target.allow_private = true;
        s.server.public_url = "http://sho.rt".into();
        s.webhooks.backoff_base_ms = 50.try_into().unwrap();
        s.webhooks.backoff_max_ms = 100.try_into().unwrap();
        s.webhooks.poll_interval_ms = 50.try_into().unwrap();
    })
    .await;
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let register = |url: String, events: Value| {
        let app = &app;
        async move {
            let response = app
                .send_json(
                    Method::POST,
                    "/api/webhooks",
                    &json!({"url": url, "events": events}),
                )
                .await;
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let id = register(format!("http://{dead}/hook"), json!(["link.created"])).await;
    let quiet = register(
        "https://hooks.example.com/q".into(),
        json!(["link.deleted"]),
    )
    .await;
    let quiet_page = browse(&app, &format!("/api/webhooks/{quiet}/deliveries"))
        .await
        .text()
        .await
        .unwrap();
    assert!(quiet_page.contains(r#"id="no-attempts""#), "{quiet_page}");
    assert!(!quiet_page.contains(r#"id="next-attempts""#));

    app.create_url(json!({ "url": "https://example.com/", "slug": "hooked" }))
        .await;
    let deliveries = format!("/api/webhooks/{id}/deliveries");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while app.json(&deliveries).await["items"]
        .as_array()
        .map_or(0, Vec::len)
        < 2
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "two attempts within 15 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let response = browse(&app, &format!("{deliveries}?limit=1")).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(&format!("<h1>Deliveries of webhook {id}</h1>")),
        "{page}"
    );
    assert!(page.contains(r#"<table id="attempts">"#), "{page}");
    let rows = |page: &str| page.matches("<tr><td>").count();
    assert_eq!(rows(&page), 1, "one page of one attempt");
    assert!(page.contains(r#"<td>link.created</td>"#));
    assert!(page.contains(r#"<td class="bad">no answer</td>"#), "{page}");
    assert!(page.contains(&format!(r#"<a href="/api/webhooks/{id}">the endpoint</a>"#)));
    let next = page
        .split(r#"<a id="next-attempts" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next link")
        .replace("&#38;", "&");
    let next = &next[next.find("/api/").expect("an API path")..];
    assert!(next.contains("cursor="), "{next}");
    let older = browse(&app, next).await;
    assert_eq!(older.status(), 200);
    let older = older.text().await.unwrap();
    assert_eq!(rows(&older), 1, "{older}");
    assert!(older.contains(r#"<td class="bad">no answer</td>"#));
}

/// The webhook pages are the API's answers: a viewer gets the 403 page, without forms.
async fn webhook_pages_are_for_admins(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.auth.anonymous_role = kurz::domain::Role::Viewer;
    })
    .await;
    for path in [
        "/api/webhooks",
        "/api/webhooks/1",
        "/api/webhooks/1/deliveries",
    ] {
        let response = browse(&app, path).await;
        assert_eq!(response.status(), 403, "{path}");
        assert!(is_html(&response), "{path}");
        let page = response.text().await.unwrap();
        for part in [
            "create-webhook",
            "edit-webhook",
            "delete-webhook",
            "id=\"attempts\"",
        ] {
            assert!(!page.contains(part), "{path} shows {part}");
        }
    }
}

crate::on_sqlite!(webhook_pages_are_for_admins);

crate::on_both_backends!(
    webhooks_are_listed_registered_edited_and_deleted_in_the_explorer,
    webhook_deliveries_have_a_page,
);
