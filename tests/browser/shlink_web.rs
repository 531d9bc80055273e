//! Shlink's published web component (`@shlinkio/shlink-web-component`, on the page of
//! tests/compat/shlink-web built by Vite) against a live kurz in headless Chromium. The page is
//! served from another origin than kurz, as Shlink's web client is, so every call crosses CORS
//! with its `X-Api-Key` preflight. The list shows the seeded links, the create form makes one
//! (then read through kurz's own `/api`), and a link's visits page counts the seeded visits and
//! names their country. The page comes from scripts/compat-fixtures.sh (scripts/test.sh runs
//! it); without it this test fails.

use std::path::{Path, PathBuf};

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kurz::domain::{Location, Role, Slug};
use kurz::store::NewVisit;
use reqwest::Method;
use serde_json::{json, Value};

use crate::driver::{Browser, STEP_TIMEOUT};
use crate::helpers::{spawn_locked_app, Backend, TestApp};
use crate::screenshot_path;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// The built page: scripts/compat-fixtures.sh writes it.
fn dist() -> PathBuf {
    let dist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/compat/shlink-web/dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} is missing: the web component test needs the page scripts/compat-fixtures.sh builds \
         (scripts/test.sh runs it; it needs node and npm)",
        dist.display()
    );
    dist
}

/// One file of the page, or the page itself for any other path: the component routes in the
/// browser (`/list-short-urls/1`, `/short-code/x/visits`), as a static host of Shlink's web
/// client is set up to answer.
async fn page_file(dist: &Path, uri: &Uri) -> Response {
    let relative = uri.path().trim_start_matches('/');
    let asked = dist.join(relative);
    let file = if !relative.is_empty() && !relative.contains("..") && asked.is_file() {
        asked
    } else {
        dist.join("index.html")
    };
    let content_type = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&file).await {
        Ok(body) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// Serves the page on a port of its own (another origin than kurz's); returns its base URL.
async fn serve_page() -> String {
    let dist = dist();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the page");
    let address = listener.local_addr().expect("its address");
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let dist = dist.clone();
        async move { page_file(&dist, &uri).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// Creates a link through kurz's own API with `key`.
async fn create(app: &TestApp, key: &str, body: Value) {
    let response = app
        .with_key(Method::POST, "/api/urls", key)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 201, "creating {body}");
}

/// Visits of `slug` from Germany (two) and France (one), written straight to the store.
async fn seed_visits(app: &TestApp, slug: &str) -> usize {
    let url_id = app
        .store
        .resolve(&Slug::for_lookup(slug).expect("a slug"))
        .await
        .expect("resolved")
        .expect("the link exists")
        .url_id;
    let visits: Vec<NewVisit> = ["DE", "FR", "DE"]
        .iter()
        .enumerate()
        .map(|(i, country)| NewVisit {
            url_id,
            visited_at: Utc::now() - chrono::Duration::minutes(10 - i as i64),
            client_ip: Some("2001:db8::1".parse().expect("an IP")),
            user_agent: Some(FIREFOX.into()),
            referrer: Some("https://news.example/".into()),
            referrer_host: Some("news.example".into()),
            browser: Some("Firefox".into()),
            os: Some("Linux".into()),
            device: Some("desktop".into()),
            is_bot: false,
            cap_taken: false,
            rule: None,
            location: Location {
                country: Some(country.parse().expect("a country code")),
                ..Location::default()
            },
        })
        .collect();
    app.store
        .record_visits(&visits)
        .await
        .expect("visits seeded");
    visits.len()
}

/// Everything the page shows as text (SVG chart labels included).
async fn page_text(browser: &Browser) -> String {
    browser
        .client
        .execute("return document.body.textContent;", vec![])
        .await
        .expect("the page's text")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the page's text contains every one of `wanted`; fails with what it shows.
async fn wait_for_text(browser: &Browser, what: &str, wanted: &[&str]) {
    let deadline = std::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let text = page_text(browser).await;
        if wanted.iter().all(|w| text.contains(w)) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {STEP_TIMEOUT:?} waiting for {what} ({wanted:?}); the page shows: {}",
            text.chars().take(2000).collect::<String>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_component_lists_creates_and_shows_visits() {
    let app = spawn_locked_app(Backend::Sqlite).await;
    let key = app.api_key(Role::Admin).await;
    create(
        &app,
        &key,
        json!({"url": "https://example.com/spring", "slug": "web-launch",
               "title": "Spring launch", "tags": ["launch"]}),
    )
    .await;
    create(
        &app,
        &key,
        json!({"url": "https://example.com/docs", "slug": "web-docs", "title": "The docs"}),
    )
    .await;
    let seeded = seed_visits(&app, "web-launch").await;

    let page = serve_page().await;
    assert_ne!(page, app.address, "the page has an origin of its own");
    let browser = Browser::start(&page).await;

    // Connect: the page asks kurz's health for the version, then shows the component.
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("url", &app.address)
        .append_pair("key", &key)
        .finish();
    browser.open(&format!("/?{query}")).await;
    let connected = browser.wait_for("#connected").await;
    assert_eq!(
        connected
            .attr("data-server-version")
            .await
            .expect("the version attribute")
            .as_deref(),
        Some("5.0.0")
    );

    // The create form: a long URL and a custom slug, saved through kurz's /rest API.
    browser.open("/create-short-url").await;
    browser
        .wait_for(r#"input[placeholder="URL to be shortened"]"#)
        .await;
    browser
        .type_into(
            r#"input[placeholder="URL to be shortened"]"#,
            "https://example.com/from-the-web-component",
        )
        .await;
    browser
        .type_into(r#"input[placeholder="Title"]"#, "Made in the component")
        .await;
    browser
        .type_into(r#"input[placeholder="Custom slug"]"#, "web-made")
        .await;
    browser
        .click(r#"form[name="shortUrlForm"] button[type="submit"]"#)
        .await;
    wait_for_text(
        &browser,
        "the created short URL",
        &["Great!", &format!("{}/web-made", app.address)],
    )
    .await;
    let stored = app
        .with_key(Method::GET, "/api/urls/web-made", &key)
        .send()
        .await
        .expect("request sent");
    assert_eq!(stored.status(), 200, "the link the form made");
    let stored: Value = stored.json().await.expect("a link");
    assert_eq!(stored["url"], "https://example.com/from-the-web-component");
    assert_eq!(stored["title"], "Made in the component");

    // The list: the seeded links and the one just made, with their titles.
    browser.open("/list-short-urls/1").await;
    wait_for_text(
        &browser,
        "the seeded links in the list",
        &[
            &format!("{}/web-launch", app.address),
            &format!("{}/web-docs", app.address),
            &format!("{}/web-made", app.address),
            "Spring launch",
            "The docs",
            "Made in the component",
        ],
    )
    .await;
    assert!(
        !page_text(&browser).await.contains("Something went wrong"),
        "the list failed to load"
    );
    browser
        .screenshot(&screenshot_path("shlink-web-list.png"))
        .await;

    // A link's visits: the count of the seeded visits, and their country by name.
    browser.open("/short-code/web-launch/visits").await;
    browser.wait_for(r#"[data-testid="badge"]"#).await;
    wait_for_text(
        &browser,
        "the visit count in the header",
        &[&format!("Visits: {seeded}")],
    )
    .await;
    browser
        .open("/short-code/web-launch/visits/by-location")
        .await;
    wait_for_text(
        &browser,
        "the countries of the visits",
        &["Germany", "France"],
    )
    .await;
    browser
        .screenshot(&screenshot_path("shlink-web-visits.png"))
        .await;
    browser.close().await;
}
