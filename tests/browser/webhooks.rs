//! Webhooks in a real browser: an endpoint registered through the explorer's form (its events
//! the boxes checked, the secret kurz generates shown in place, once), changed and deleted on
//! its page.

use serde_json::{json, Value};

use crate::driver::{eventually, Browser, STEP_TIMEOUT};
use crate::helpers::{spawn_app, Backend};
use crate::{form_error, screenshot_path};

/// Whether the box of `event` in `form` is checked.
async fn checked(browser: &Browser, form: &str, event: &str) -> bool {
    browser
        .find(&format!(r#"{form} input[name=events][value="{event}"]"#))
        .await
        .is_selected()
        .await
        .expect("a checkbox's state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_registered_edited_and_deleted_in_the_explorer() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = Browser::start(&app.address).await;
    browser.open("/api").await;
    browser.click(r#".resources a[href="/api/webhooks"]"#).await;
    browser.wait_for_location("/api/webhooks").await;
    browser.wait_for("#create-webhook").await;
    assert!(!browser
        .find("#webhook-secret")
        .await
        .is_displayed()
        .await
        .expect("shown or not"));

    // No event checked: the API's 422, in the form.
    browser
        .type_into(
            "#create-webhook input[name=url]",
            "https://hooks.example.com/kurz",
        )
        .await;
    browser.click("#create-webhook button[type=submit]").await;
    let error = form_error(&browser, "#create-webhook").await;
    assert!(error.starts_with("events:"), "{error}");

    // Two events, no secret: kurz generates one, and the page shows it in place.
    browser
        .click(r#"#create-webhook input[value="link.created"]"#)
        .await;
    browser
        .click(r#"#create-webhook input[value="visit"]"#)
        .await;
    browser.click("#create-webhook button[type=submit]").await;
    let secret = eventually("the generated secret", STEP_TIMEOUT, || async {
        let shown = browser
            .client
            .find(fantoccini::Locator::Css("#webhook-secret code.secret"))
            .await
            .ok()?;
        let text = shown.text().await.ok()?;
        (!text.is_empty()).then_some(text)
    })
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(browser.location().await, "/api/webhooks");
    browser
        .screenshot(&screenshot_path("explorer-webhooks.png"))
        .await;
    let listed = app.json("/api/webhooks").await;
    let hook = &listed[0];
    assert_eq!(hook["url"], "https://hooks.example.com/kurz");
    assert_eq!(hook["events"], json!(["visit", "link.created"]));
    let id = hook["id"].as_i64().expect("an id");
    let path = format!("/api/webhooks/{id}");
    // The form is emptied, and the link opens the new endpoint, whose page never shows it.
    assert_eq!(browser.value("#create-webhook input[name=url]").await, "");
    assert!(!checked(&browser, "#create-webhook", "visit").await);
    browser.click("#webhook-secret a").await;
    browser.wait_for_location(&path).await;
    browser.wait_for("#edit-webhook").await;
    let source = browser.client.source().await.expect("the page's source");
    assert!(!source.contains(&secret), "the secret is shown once");
    assert!(checked(&browser, "#edit-webhook", "visit").await);
    assert!(checked(&browser, "#edit-webhook", "link.created").await);
    assert!(!checked(&browser, "#edit-webhook", "orphan_visit").await);

    // Change its events, URL and secret: the boxes checked now replace the events.
    browser.click(r#"#edit-webhook input[value="visit"]"#).await;
    browser
        .click(r#"#edit-webhook input[value="orphan_visit"]"#)
        .await;
    browser
        .type_into(
            "#edit-webhook input[name=url]",
            "https://hooks.example.com/changed",
        )
        .await;
    browser
        .type_into("#edit-webhook input[name=secret]", "a-rotated-secret-0123")
        .await;
    browser.click("#edit-webhook button[type=submit]").await;
    let changed: Value = eventually("the endpoint changed", STEP_TIMEOUT, || async {
        let hook = app.json(&path).await;
        (hook["url"] == "https://hooks.example.com/changed").then_some(hook)
    })
    .await;
    assert_eq!(changed["events"], json!(["link.created", "orphan_visit"]));
    browser.open(&path).await;
    browser.wait_for("#edit-webhook").await;
    assert!(!checked(&browser, "#edit-webhook", "visit").await);
    assert!(checked(&browser, "#edit-webhook", "orphan_visit").await);
    assert_eq!(
        browser.text("#webhook-url").await,
        "https://hooks.example.com/changed"
    );
    browser.click("#webhook-deliveries").await;
    browser
        .wait_for_location(&format!("{path}/deliveries"))
        .await;
    browser.wait_for("#no-attempts").await;

    // Delete it, after the confirmation.
    browser.open(&path).await;
    browser.click("#delete-webhook button[type=submit]").await;
    let question = eventually("the confirm dialog", STEP_TIMEOUT, || async {
        browser.dialog().await
    })
    .await;
    assert_eq!(
        question,
        format!("Delete endpoint {id} and its queued deliveries?")
    );
    browser
        .client
        .accept_alert()
        .await
        .expect("dialog accepted");
    browser.wait_for_location("/api/webhooks").await;
    browser.wait_for("#no-webhooks").await;
    assert_eq!(app.json("/api/webhooks").await, json!([]));

    // With a secret of one's own there is nothing to show: the new endpoint's page opens.
    browser
        .type_into(
            "#create-webhook input[name=url]",
            "https://hooks.example.com/own",
        )
        .await;
    browser
        .type_into(
            "#create-webhook input[name=secret]",
            "a-secret-of-my-own-0123",
        )
        .await;
    browser
        .click(r#"#create-webhook input[value="link.deleted"]"#)
        .await;
    browser.click("#create-webhook button[type=submit]").await;
    browser
        .wait_for_location(&format!("/api/webhooks/{}", id + 1))
        .await;
    browser.wait_for("#edit-webhook").await;
    assert!(checked(&browser, "#edit-webhook", "link.deleted").await);

    browser.close().await;
}
