//! Password-protected links in a real browser: the form kurz serves on the short link (a wrong
//! password shows the error, the right one lands on the target and the visit is recorded),
//! and a password set and removed through the explorer.

use axum::response::Html;
use axum::routing::get;
use serde_json::json;

use crate::driver::{eventually, Browser, STEP_TIMEOUT};
use crate::helpers::{spawn_app, spawn_app_with, Backend};
use crate::screenshot_path;

/// A page for the short link to land on, on a loopback address of its own (a link may not point
/// to kurz's own host): `http://127.0.0.2:PORT/landed`.
async fn landing_page() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0")
        .await
        .expect("a landing server on 127.0.0.2");
    let address = listener.local_addr().expect("its address");
    let app = axum::Router::new().route(
        "/landed",
        get(|| async {
            Html("<!doctype html><title>Landed</title><h1 id=\"landed\">Landed on the target</h1>")
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/landed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_form_lets_the_right_password_through() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.target.allow_private = true).await;
    let target = landing_page().await;
    let created = app
        .create_url(json!({ "url": target, "slug": "members", "password": "correct horse" }))
        .await;
    assert_eq!(created.status(), 201);
    let browser = Browser::start(&app.address).await;

    // The short link shows the form: the slug named, one labelled password field.
    browser.open("/members").await;
    let field = browser
        .wait_for("form[method=post] input[type=password]")
        .await;
    assert_eq!(
        field.attr("name").await.unwrap().as_deref(),
        Some("password")
    );
    assert_eq!(browser.text("label[for=password]").await, "Password");
    assert!(browser.text("main").await.contains("/members"));
    assert!(browser.find_all("#error").await.is_empty());
    browser
        .screenshot(&screenshot_path("password-form.png"))
        .await;

    // A wrong password: the form again, with the error, and still no visit.
    browser.type_into("#password", "battery staple").await;
    browser.click("button[type=submit]").await;
    let error = browser.wait_for("#error").await;
    assert_eq!(
        error.text().await.expect("the error"),
        "Wrong password. Try again."
    );
    assert_eq!(browser.location().await, "/members");
    assert_eq!(app.json("/api/urls/members").await["visit_count"], 0);

    // The right one: the browser lands on the target, and the visit is recorded.
    browser.type_into("#password", "correct horse").await;
    browser.click("button[type=submit]").await;
    browser.wait_for("#landed").await;
    let url = browser.client.current_url().await.expect("the current URL");
    assert_eq!(url.as_str(), target);
    app.wait_for_visits(1).await;
    let visits = app.json("/api/urls/members/visits").await;
    let visit = &visits["items"][0];
    assert!(
        visit["user_agent"]
            .as_str()
            .is_some_and(|ua| ua.contains("Chrome")),
        "{visit}"
    );
    browser.close().await;
}

/// Waits (bounded) until the URL page, reloaded after a save, says `status` of its password.
async fn wait_for_password_status(browser: &Browser, status: &str) {
    eventually(status, STEP_TIMEOUT, || async {
        let shown = browser
            .client
            .find(fantoccini::Locator::Css("#password-protected"))
            .await
            .ok()?;
        let text = shown.text().await.ok()?;
        text.starts_with(status).then_some(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_is_set_and_removed_in_the_explorer() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = Browser::start(&app.address).await;

    browser.open("/api/urls").await;
    browser.wait_for("#create-url").await;
    browser
        .type_into("#create-url input[name=url]", "https://example.com/private")
        .await;
    browser
        .type_into("#create-url input[name=slug]", "private")
        .await;
    browser
        .type_into("#create-url input[name=password]", " spaced out ")
        .await;
    browser.click("#create-url button[type=submit]").await;
    browser.wait_for_location("/api/urls/private").await;
    wait_for_password_status(&browser, "password protected").await;
    assert_eq!(
        app.json("/api/urls/private").await["password_protected"],
        true
    );
    // Kept as typed, spaces and all.
    let right = app
        .client
        .post(app.url("/private"))
        .json(&json!({ "password": " spaced out " }))
        .send()
        .await
        .expect("posted");
    assert_eq!(right.status(), 303);

    // Remove it from the edit form: anyone may follow the link again.
    browser.click("#edit-url input[name=no_password]").await;
    browser.click("#edit-url button[type=submit]").await;
    wait_for_password_status(&browser, "no password").await;
    assert_eq!(
        app.json("/api/urls/private").await["password_protected"],
        false
    );
    assert_eq!(app.follow("private").await.status(), 302);

    // And set one again.
    browser
        .type_into("#edit-url input[name=password]", "again")
        .await;
    browser.click("#edit-url button[type=submit]").await;
    wait_for_password_status(&browser, "password protected").await;
    assert_eq!(app.follow("private").await.status(), 401);
    browser.close().await;
}
