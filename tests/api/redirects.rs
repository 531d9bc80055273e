//! `GET /{slug}` and `HEAD /{slug}`.

use reqwest::Method;
use serde_json::{json, Value};

use kurz::visits::VisitCounters;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend};

async fn get_redirects_and_records_one_visit(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/landing").await;

    let response = app
        .client
        .get(app.url(&format!("/{slug}")))
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
        )
        .header("referer", "https://News.Example.org/item?id=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "https://example.com/landing"
    );
    assert_eq!(response.headers()["cache-control"], "private, no-cache");

    app.wait_for_visits(1).await;
    let visits = app.json(&format!("/api/urls/{slug}/visits")).await;
    let visit = &visits["items"][0];
    assert_eq!(visit["url"], slug.as_str());
    assert_eq!(visit["client_ip"], "127.0.0.0", "anonymised by default");
    assert_eq!(
        visit["user_agent"],
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"
    );
    assert_eq!(visit["referrer"], "https://News.Example.org/item?id=1");
    assert_eq!(visit["referrer_host"], "news.example.org");
    assert!(visit["visited_at"].is_string());
    assert_eq!(
        app.json(&format!("/api/urls/{slug}")).await["visit_count"],
        1
    );
}

async fn headers_with_non_ascii_bytes_are_kept(backend: Backend) {
    use reqwest::header::HeaderValue;
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/landing").await;
    let agent = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0 café";
    let response = app
        .client
        .get(app.url(&format!("/{slug}")))
        .header(
            "user-agent",
            HeaderValue::from_bytes(agent.as_bytes()).unwrap(),
        )
        .header(
            "referer",
            HeaderValue::from_bytes(b"https://news.example.org/caf\xc3\xa9/\xff").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);

    app.wait_for_visits(1).await;
    let visits = app.json(&format!("/api/urls/{slug}/visits")).await;
    let visit = &visits["items"][0];
    assert_eq!(visit["user_agent"], agent, "UTF-8 kept as sent");
    assert_eq!(visit["browser"], "Firefox");
    assert_eq!(visit["is_bot"], false);
    assert_eq!(
        visit["referrer"], "https://news.example.org/café/\u{fffd}",
        "invalid UTF-8 replaced, not the header lost"
    );
    assert_eq!(visit["referrer_host"], "news.example.org");
}

async fn visit_counts_add_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_slug("https://example.com/a").await;
    let b = app.new_slug("https://example.com/b").await;
    for _ in 0..5 {
        assert_eq!(app.follow(&a).await.status(), 302);
    }
    for _ in 0..3 {
        assert_eq!(app.follow(&b).await.status(), 302);
    }
    app.wait_for_visits(8).await;
    assert_eq!(app.json(&format!("/api/urls/{a}")).await["visit_count"], 5);
    assert_eq!(app.json(&format!("/api/urls/{b}")).await["visit_count"], 3);
}

async fn head_redirects_without_recording_a_visit(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    let head = app.request(Method::HEAD, &format!("/{slug}")).await;
    assert_eq!(head.status(), 302);
    assert_eq!(head.headers()["location"], "https://example.com/");
    // A GET afterwards is the only visit stored.
    app.follow(&slug).await;
    app.wait_for_visits(1).await;
    assert_eq!(
        app.json(&format!("/api/urls/{slug}")).await["visit_count"],
        1
    );
}

async fn redirect_status_is_configurable(backend: Backend) {
    for status in [301u16, 307, 308] {
        let app = spawn_app_with(backend, |s| s.redirect.status = status).await;
        let slug = app.new_slug("https://example.com/").await;
        let response = app.follow(&slug).await;
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()["location"], "https://example.com/");
    }
}

async fn unknown_slugs_are_404_as_json_or_html(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/nope", "/no.such", "/%E2%98%83", "/a/b/c"] {
        let problem = assert_problem(app.get(path).await, 404).await;
        assert_eq!(problem["code"], "not_found", "{path}");
    }
    let html = app
        .client
        .get(app.url("/nope"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 404);
    assert!(html.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(html.text().await.unwrap().contains("Not found"));
    let head = app.request(Method::HEAD, "/nope").await;
    assert_eq!(head.status(), 404);
    assert_eq!(head.headers()["content-type"], "application/problem+json");
}

async fn forwarded_for_is_believed_only_from_trusted_proxies(backend: Backend) {
    let trusting = spawn_app_with(backend, |s| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".to_string().try_into().unwrap()];
        s.enrichment.anonymize_ips = false;
    })
    .await;
    let slug = trusting.new_slug("https://example.com/").await;
    trusting
        .client
        .get(trusting.url(&format!("/{slug}")))
        .header("x-forwarded-for", "203.0.113.50, 198.51.100.7")
        .send()
        .await
        .unwrap();
    trusting.wait_for_visits(1).await;
    let visits: Value = trusting.json("/api/visits").await;
    assert_eq!(visits["items"][0]["client_ip"], "198.51.100.7");

    let untrusting = spawn_app(backend).await;
    let slug = untrusting.new_slug("https://example.com/").await;
    untrusting
        .client
        .get(untrusting.url(&format!("/{slug}")))
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .unwrap();
    untrusting.wait_for_visits(1).await;
    let visits: Value = untrusting.json("/api/visits").await;
    assert_eq!(visits["items"][0]["client_ip"], "127.0.0.0");
}

/// A cache hit answers with the `Location` the cache holds, without reading the link again:
/// a target changed in the database behind the cache's back is not seen until the link is
/// evicted (as every write through kurz does).
async fn a_cache_hit_sends_the_location_it_holds(backend: Backend) {
    use kurz::domain::{Slug, TargetUrl};
    use kurz::store::UrlPatch;
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/first").await;
    let first = app.follow(&slug).await;
    assert_eq!(first.headers()["location"], "https://example.com/first");
    let hits = || {
        app.redirect_cache
            .counters()
            .hits
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let hits_before = hits();

    app.store
        .update_url(
            &Slug::for_lookup(&slug).unwrap(),
            UrlPatch {
                target: Some(TargetUrl::parse("https://example.com/behind", 2048).unwrap()),
                title: None,
                crawlable: None,
                redirect_status: None,
                valid_since: None,
                valid_until: None,
                max_visits: None,
                rules: None,
                forward_query: None,
                tags: None,
                password_hash: None,
            },
        )
        .await
        .unwrap();
    let cached = app.follow(&slug).await;
    assert_eq!(cached.status(), 302);
    assert_eq!(cached.headers()["location"], "https://example.com/first");
    assert_eq!(cached.headers()["cache-control"], "private, no-cache");
    assert_eq!(hits(), hits_before + 1);

    // A change through the API evicts the slug: the next click reads the link again.
    let patched = app
        .patch_url(
            &slug,
            serde_json::json!({"url": "https://example.com/second"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let fresh = app.follow(&slug).await;
    assert_eq!(fresh.headers()["location"], "https://example.com/second");
}

/// A burst of concurrent clicks: every redirect answered has its visit stored, none dropped.
async fn a_burst_of_clicks_stores_every_visit(backend: Backend) {
    use futures_util::StreamExt;
    const CLICKS: usize = 3_000;
    let app = spawn_app(backend).await;
    let slugs = [
        app.new_slug("https://example.com/a").await,
        app.new_slug("https://example.com/b").await,
        app.new_slug("https://example.com/c").await,
    ];
    let answered = futures_util::stream::iter(0..CLICKS)
        .map(|i| {
            let request = app
                .client
                .get(app.url(&format!("/{}", slugs[i % 3])))
                .header(
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0",
                );
            async move { request.send().await.map(|r| r.status().as_u16()) }
        })
        .buffer_unordered(64)
        .filter(|status| std::future::ready(matches!(status, Ok(302))))
        .count()
        .await;
    assert_eq!(answered, CLICKS, "every click answered 302");
    app.wait_for_visits(CLICKS).await;
    for slug in &slugs {
        assert_eq!(
            app.json(&format!("/api/urls/{slug}")).await["visit_count"],
            CLICKS / 3
        );
    }
    let counters = &app.visit_counters;
    assert_eq!(VisitCounters::get(&counters.dropped), 0);
    assert_eq!(VisitCounters::get(&counters.stored), CLICKS as u64);
}

/// A link's own redirect status: stored, answered by the redirect (through the cache), changed
/// by PATCH, given back to the server's default by `null`, and refused unless 301/302/307/308.
async fn links_answer_with_their_own_redirect_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_url(
            json!({ "url": "https://example.com/moved", "slug": "moved", "redirect_status": 301 }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["redirect_status"], 301);
    let plain = app.new_url("https://example.com/plain").await;
    assert_eq!(plain["redirect_status"], Value::Null);

    for _ in 0..2 {
        // The second answer comes from the cache.
        let response = app.follow("moved").await;
        assert_eq!(response.status(), 301);
        assert_eq!(response.headers()["location"], "https://example.com/moved");
        assert!(response.headers().get("cache-control").is_none());
    }
    let slug = plain["slug"].as_str().unwrap();
    assert_eq!(
        app.follow(slug).await.status(),
        302,
        "the configured default"
    );

    let patched = app
        .patch_url("moved", json!({ "redirect_status": 308 }))
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(app.follow("moved").await.status(), 308);
    let patched: Value = app
        .patch_url("moved", json!({ "redirect_status": null }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patched["redirect_status"], Value::Null);
    assert_eq!(app.follow("moved").await.status(), 302);
    // A PATCH without the field leaves it as it is.
    app.patch_url("moved", json!({ "redirect_status": 307 }))
        .await;
    app.patch_url("moved", json!({ "title": "Kept" })).await;
    assert_eq!(app.follow("moved").await.status(), 307);

    for bad in [
        json!(303),
        json!(200),
        json!("301"),
        json!(70000),
        json!(-1),
    ] {
        let response = app
            .create_url(json!({ "url": "https://example.com/", "redirect_status": bad }))
            .await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], "redirect_status", "{bad}");
        let response = app
            .patch_url("moved", json!({ "redirect_status": bad }))
            .await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], "redirect_status", "{bad}");
    }
    assert_eq!(
        app.follow("moved").await.status(),
        307,
        "unchanged by refused PATCHes"
    );
}

// A click all the way into each store: the writer's batches (split in parallel parts where
// the backend allows) and header bytes kept exactly.
crate::on_both_backends!(
    links_answer_with_their_own_redirect_status,
    a_burst_of_clicks_stores_every_visit,
    get_redirects_and_records_one_visit,
    headers_with_non_ascii_bytes_are_kept,
);

crate::on_sqlite!(
    a_cache_hit_sends_the_location_it_holds,
    visit_counts_add_up,
    head_redirects_without_recording_a_visit,
    redirect_status_is_configurable,
    unknown_slugs_are_404_as_json_or_html,
    forwarded_for_is_believed_only_from_trusted_proxies,
);
