//! The redirect cache never serves a stale answer after a change made through the API.

use serde_json::json;

use crate::helpers::{spawn_app, Backend};

async fn a_patch_changes_the_next_redirect(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_url(json!({ "url": "https://example.com/old", "slug": "moving" }))
        .await;
    assert_eq!(
        app.follow("moving").await.headers()["location"],
        "https://example.com/old"
    );
    app.patch_url("moving", json!({ "url": "https://example.com/new" }))
        .await;
    assert_eq!(
        app.follow("moving").await.headers()["location"],
        "https://example.com/new"
    );
}

async fn a_delete_ends_the_redirect_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_url(json!({ "url": "https://example.com/", "slug": "brief" }))
        .await;
    assert_eq!(app.follow("brief").await.status(), 302);
    assert_eq!(app.delete_url("brief").await.status(), 204);
    assert_eq!(app.follow("brief").await.status(), 404);
}

async fn a_slug_probed_before_it_existed_works_once_created(backend: Backend) {
    let app = spawn_app(backend).await;
    // The 404 is cached as unknown...
    assert_eq!(app.follow("later").await.status(), 404);
    assert_eq!(app.follow("later").await.status(), 404);
    // ...and creating the slug evicts that entry.
    app.create_url(json!({ "url": "https://example.com/", "slug": "later" }))
        .await;
    assert_eq!(app.follow("later").await.status(), 302);
}

crate::on_sqlite!(
    a_patch_changes_the_next_redirect,
    a_delete_ends_the_redirect_at_once,
    a_slug_probed_before_it_existed_works_once_created,
);
