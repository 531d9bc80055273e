//! `/`, `/robots.txt`, `/healthz`, `/readyz`.

use serde_json::{json, Value};

use kurz::config::{Environment, RootMode};

use crate::helpers::{spawn_app, spawn_app_with, Backend};

async fn robots_disallows_all_but_crawlable_links(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_url(json!({ "url": "https://example.com", "slug": "public", "crawlable": true }))
        .await;
    app.create_url(json!({ "url": "https://example.com", "slug": "private" }))
        .await;
    let response = app.get("/robots.txt").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let body = response.text().await.unwrap();
    assert_eq!(
        body,
        format!("{DEFAULT_PREVIEW_GROUPS}User-agent: *\nAllow: /public\nDisallow: /\n")
    );

    app.patch_url("public", json!({ "crawlable": false })).await;
    let body = app.get("/robots.txt").await.text().await.unwrap();
    assert_eq!(
        body,
        format!("{DEFAULT_PREVIEW_GROUPS}User-agent: *\nDisallow: /\n")
    );
}

/// The groups `robots.preview_agents` adds by default, before `User-agent: *`.
const DEFAULT_PREVIEW_GROUPS: &str = "\
User-agent: facebookexternalhit\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
User-agent: Twitterbot\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
User-agent: Slackbot\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
User-agent: LinkedInBot\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
User-agent: Discordbot\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
User-agent: TelegramBot\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
User-agent: WhatsApp\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n";

async fn robots_groups_follow_the_configured_preview_agents(backend: Backend) {
    let custom = spawn_app_with(backend, |s| {
        s.robots.preview_agents = vec!["Mastodon".into(), "Bluesky-Cardyb".into()];
    })
    .await;
    custom
        .create_url(json!({ "url": "https://example.com", "slug": "open", "crawlable": true }))
        .await;
    let body = custom.get("/robots.txt").await.text().await.unwrap();
    assert_eq!(
        body,
        "User-agent: Mastodon\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
         User-agent: Bluesky-Cardyb\nAllow: /\nDisallow: /api/\nDisallow: /explorer/\n\n\
         User-agent: *\nAllow: /open\nDisallow: /\n"
    );

    // No previewers: robots.txt is the single group it always was.
    let none = spawn_app_with(backend, |s| s.robots.preview_agents = Vec::new()).await;
    none.create_url(json!({ "url": "https://example.com", "slug": "open", "crawlable": true }))
        .await;
    let body = none.get("/robots.txt").await.text().await.unwrap();
    assert_eq!(body, "User-agent: *\nAllow: /open\nDisallow: /\n");
}

async fn health_and_readiness(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.json("/healthz").await["status"], "ok");
    let ready = app.json("/readyz").await;
    assert_eq!(ready["status"], "ok");
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(ready["database"], expected);
}

async fn root_is_an_index_that_links_the_api_only_in_development(backend: Backend) {
    let dev = spawn_app(backend).await;
    let index: Value = dev.json("/").await;
    assert_eq!(index["name"], "kurz");
    assert_eq!(index["api"], format!("{}/api", dev.address));

    let prod = spawn_app_with(backend, |s| s.environment = Environment::Production).await;
    let index: Value = prod.json("/").await;
    assert_eq!(index["name"], "kurz");
    assert!(index.get("api").is_none(), "{index}");
}

async fn root_can_redirect_to_a_homepage(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.root.mode = RootMode::Redirect;
        s.root.redirect_to = "https://www.example.com/".into();
    })
    .await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "https://www.example.com/");
}

/// The API makes up a request id when the client sent none; the redirect lane (short links,
/// `/robots.txt`, `/healthz`) echoes the one a client sent and makes up none.
async fn every_response_carries_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/urls").await;
    assert!(!response.headers()["x-request-id"].is_empty());
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let sent = app.get_with_header("x-request-id", "trace-1234").await;
    assert_eq!(sent.headers()["x-request-id"], "trace-1234");

    let slug = app.new_slug("https://example.com/").await;
    for path in [
        "/healthz".to_owned(),
        "/robots.txt".to_owned(),
        format!("/{slug}"),
    ] {
        let response = app
            .client
            .get(app.url(&path))
            .header("x-request-id", "trace-5678")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "trace-5678", "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let bare = app.get(&path).await;
        assert!(bare.headers().get("x-request-id").is_none(), "{path}");
    }
}

// `/readyz` pings the backend and names it.
crate::on_both_backends!(health_and_readiness,);

crate::on_sqlite!(
    robots_disallows_all_but_crawlable_links,
    robots_groups_follow_the_configured_preview_agents,
    root_is_an_index_that_links_the_api_only_in_development,
    root_can_redirect_to_a_homepage,
    every_response_carries_a_request_id,
);
