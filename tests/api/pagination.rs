//! Keyset pagination: no row skipped or repeated, even while rows are inserted.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend};

/// Follows `next` links from `first`, returning every page's items.
async fn walk(
    app: &crate::helpers::TestApp,
    first: &str,
    during: impl AsyncFn(usize),
) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(app.url(first));
    let mut pages = 0;
    while let Some(url) = next {
        let page: Value = app
            .client
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_owned);
        if next.is_some() {
            assert!(page["next_cursor"].is_string());
        }
        pages += 1;
        during(pages).await;
        assert!(pages < 100, "pagination does not end");
    }
    items
}

async fn url_pages_cover_every_row_once_while_rows_are_inserted(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut expected = Vec::new();
    for i in 0..23 {
        expected.push(app.new_slug(&format!("https://example.com/{i}")).await);
    }
    let items = walk(&app, "/api/urls?limit=5", async |page| {
        // Every page, someone else creates two more links.
        for j in 0..2 {
            app.new_url(&format!("https://example.com/new/{page}/{j}"))
                .await;
        }
    })
    .await;
    let seen: Vec<String> = items
        .iter()
        .map(|u| u["slug"].as_str().unwrap().to_owned())
        .collect();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a row was repeated");
    expected.reverse();
    assert_eq!(
        seen, expected,
        "newest first, none skipped, none added mid-walk"
    );
}

async fn visit_pages_are_newest_first_and_complete(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    let other = app.new_slug("https://example.org/").await;
    for _ in 0..12 {
        app.follow(&slug).await;
    }
    for _ in 0..4 {
        app.follow(&other).await;
    }
    app.wait_for_visits(16).await;

    let mine = walk(
        &app,
        &format!("/api/urls/{slug}/visits?limit=5"),
        async |_| {},
    )
    .await;
    assert_eq!(mine.len(), 12);
    let ids: Vec<i64> = mine.iter().map(|v| v["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let filtered = walk(
        &app,
        &format!("/api/visits?url={other}&limit=3"),
        async |_| {},
    )
    .await;
    assert_eq!(filtered.len(), 4);
    assert!(filtered.iter().all(|v| v["url"] == other.as_str()));

    let all = walk(&app, "/api/visits?limit=7", async |_| {}).await;
    assert_eq!(all.len(), 16);
}

async fn limit_is_capped_and_defaulted(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.pagination.default_limit = 3;
        s.pagination.max_limit = 5;
    })
    .await;
    for i in 0..8 {
        app.new_url(&format!("https://example.com/{i}")).await;
    }
    let page = app.json("/api/urls").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let page = app.json("/api/urls?limit=1000").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert!(page["next"].as_str().unwrap().contains("limit=5"));
    let problem = assert_problem(app.get("/api/urls?limit=0").await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "limit");
}

async fn the_last_page_has_no_next_link(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..4 {
        app.new_url(&format!("https://example.com/{i}")).await;
    }
    let page = app.json("/api/urls?limit=4").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    assert_eq!(page["next"], Value::Null);
    assert_eq!(page["next_cursor"], Value::Null);
    let empty = spawn_app(backend).await.json("/api/urls").await;
    assert_eq!(empty["items"].as_array().unwrap().len(), 0);
}

// Pages stay complete while rows are inserted only if the store orders them well: each backend.
crate::on_both_backends!(
    url_pages_cover_every_row_once_while_rows_are_inserted,
    visit_pages_are_newest_first_and_complete,
);

crate::on_sqlite!(
    limit_is_capped_and_defaulted,
    the_last_page_has_no_next_link,
);
