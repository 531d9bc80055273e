//! `/api/urls`: create, show, change, delete.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend};

async fn create_returns_201_with_location_and_the_resource(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .create_url(json!({ "url": "https://Example.com/launch?utm=1", "title": "Launch" }))
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let slug = body["slug"].as_str().unwrap();
    assert_eq!(slug.len(), 7);
    assert_eq!(location, format!("/api/urls/{slug}"));
    assert_eq!(body["short_url"], format!("{}/{slug}", app.address));
    assert_eq!(body["url"], "https://example.com/launch?utm=1");
    assert_eq!(body["title"], "Launch");
    assert_eq!(body["visit_count"], 0);
    assert_eq!(body["crawlable"], false);
    assert!(body["created_at"].is_string());

    let shown = app.json(&location).await;
    assert_eq!(shown, body);
}

async fn custom_slugs_are_kept_and_conflicts_are_409(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .create_url(json!({ "url": "https://example.com", "slug": "spring-sale" }))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["slug"], "spring-sale");

    let again = app
        .create_url(json!({ "url": "https://example.org", "slug": "spring-sale" }))
        .await;
    let problem = assert_problem(again, 409).await;
    assert_eq!(problem["code"], "conflict");
    // The first link is unchanged.
    let shown = app.json("/api/urls/spring-sale").await;
    assert_eq!(shown["url"], "https://example.com/");
}

async fn slugs_are_case_sensitive(backend: Backend) {
    let app = spawn_app(backend).await;
    for slug in ["Promo", "promo"] {
        let response = app
            .create_url(json!({ "url": format!("https://example.com/{slug}"), "slug": slug }))
            .await;
        assert_eq!(response.status(), 201, "{slug}");
    }
    assert_eq!(
        app.json("/api/urls/Promo").await["url"],
        "https://example.com/Promo"
    );
    assert_eq!(
        app.json("/api/urls/promo").await["url"],
        "https://example.com/promo"
    );
}

async fn reserved_and_malformed_slugs_are_422(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "x".repeat(65);
    for slug in [
        "api",
        "Robots.txt",
        "healthz",
        "readyz",
        "explorer",
        "static",
        "a b",
        "a/b",
        "",
        long.as_str(),
    ] {
        let response = app
            .create_url(json!({ "url": "https://example.com", "slug": slug }))
            .await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], "slug", "{slug:?}");
    }
}

async fn patch_changes_target_title_and_crawlable(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_url(json!({ "url": "https://example.com/a", "slug": "go", "title": "Old" }))
        .await;
    assert_eq!(created.status(), 201);

    let response = app
        .patch_url(
            "go",
            json!({ "url": "https://example.com/b", "crawlable": true }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["url"], "https://example.com/b");
    assert_eq!(body["title"], "Old", "an absent title is left alone");
    assert_eq!(body["crawlable"], true);

    let cleared: Value = app
        .patch_url("go", json!({ "title": null }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["title"], Value::Null, "null clears the title");
    let blank: Value = app
        .patch_url("go", json!({ "title": "  " }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(blank["title"], Value::Null, "a blank title is no title");
    let untitled = app
        .create_url(json!({ "url": "https://example.com/c", "title": "" }))
        .await;
    assert_eq!(untitled.status(), 201);
    let untitled: Value = untitled.json().await.unwrap();
    assert_eq!(untitled["title"], Value::Null, "an empty title is no title");
    for field in ["url", "crawlable"] {
        let null = app.patch_url("go", json!({ field: null })).await;
        let problem = assert_problem(null, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    let redirect = app.follow("go").await;
    assert_eq!(redirect.headers()["location"], "https://example.com/b");

    let bad = app
        .patch_url("go", json!({ "url": "javascript:alert(1)" }))
        .await;
    assert_eq!(assert_problem(bad, 422).await["errors"][0]["field"], "url");
    let unknown_field = app
        .patch_url("go", json!({ "target": "https://x.org" }))
        .await;
    assert_eq!(
        assert_problem(unknown_field, 422).await["errors"][0]["field"],
        "target"
    );
    assert_problem(app.patch_url("missing", json!({ "title": "x" })).await, 404).await;
}

async fn delete_removes_the_url_and_its_visits(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.new_url("https://example.com/gone").await;
    let slug = created["slug"].as_str().unwrap();
    assert_eq!(app.follow(slug).await.status(), 302);
    app.wait_for_visits(1).await;

    let response = app.delete_url(slug).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());

    assert_problem(app.get(&format!("/api/urls/{slug}")).await, 404).await;
    assert_eq!(app.follow(slug).await.status(), 404);
    assert_problem(app.delete_url(slug).await, 404).await;
    let visits = app.json("/api/visits").await;
    assert_eq!(visits["items"].as_array().unwrap().len(), 0);
}

async fn generated_slugs_follow_the_configured_length_and_alphabet(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.slug.length = 12;
        s.slug.alphabet = "ab".into();
    })
    .await;
    let body = app.new_url("https://example.com").await;
    let slug = body["slug"].as_str().unwrap();
    assert_eq!(slug.len(), 12);
    assert!(slug.chars().all(|c| c == 'a' || c == 'b'), "{slug}");
}

async fn short_urls_use_the_configured_public_url(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.public_url = "https://kurz.example/".into();
    })
    .await;
    let body = app
        .create_url(json!({ "url": "https://example.com", "slug": "hello" }))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(body["short_url"], "https://kurz.example/hello");
}

// Whether `abc` and `ABC` are two slugs is up to each database's comparison.
crate::on_both_backends!(slugs_are_case_sensitive,);

crate::on_sqlite!(
    create_returns_201_with_location_and_the_resource,
    custom_slugs_are_kept_and_conflicts_are_409,
    reserved_and_malformed_slugs_are_422,
    patch_changes_target_title_and_crawlable,
    delete_removes_the_url_and_its_visits,
    generated_slugs_follow_the_configured_length_and_alphabet,
    short_urls_use_the_configured_public_url,
);
