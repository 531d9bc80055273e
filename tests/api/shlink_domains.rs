//! Shlink's domains (kurz's one, with the redirects of its configuration; changing them is
//! refused) and `mercure-info` (kurz has no Mercure hub).

use kurz::config::RootMode;
use kurz::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, spawn_locked_app, Backend};
use crate::shlink_calls::{rest, rest_json, shlink_problem};

async fn the_one_domain_shows_the_configured_redirects(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let key = app.api_key(Role::Viewer).await;
    let own = url::Url::parse(&app.address).unwrap();
    let authority = format!("{}:{}", own.host_str().unwrap(), own.port().unwrap());
    let none = json!({"baseUrlRedirect": null, "regular404Redirect": null,
                      "invalidShortUrlRedirect": null});
    assert_eq!(
        rest_json(&app, "/domains", &key).await,
        json!({"domains": {
            "data": [{"domain": authority, "isDefault": true, "redirects": none}],
            "defaultRedirects": none
        }})
    );

    let configured = spawn_app_with(backend, |s| {
        s.auth.allow_anonymous = false;
        s.root.mode = RootMode::Redirect;
        s.root.redirect_to = "https://example.com/home".into();
        s.redirect.expired_url = "https://example.com/expired".into();
    })
    .await;
    let key = configured.api_key(Role::Editor).await;
    let domains = rest_json(&configured, "/domains", &key).await;
    let redirects = json!({"baseUrlRedirect": "https://example.com/home",
                           "regular404Redirect": null,
                           "invalidShortUrlRedirect": "https://example.com/expired"});
    assert_eq!(domains["domains"]["data"][0]["redirects"], redirects);
    assert_eq!(domains["domains"]["defaultRedirects"], redirects);

    let missing = app
        .client
        .get(app.url("/rest/v3/domains"))
        .send()
        .await
        .unwrap();
    shlink_problem(missing, 401, "missing-authentication").await;
}

async fn domain_redirects_are_set_in_the_configuration(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let body = json!({"domain": "DEFAULT", "baseUrlRedirect": "https://example.com/"});
    let admin = app.api_key(Role::Admin).await;
    let refused = rest(
        &app,
        Method::PATCH,
        "/domains/redirects",
        &admin,
        Some(body.clone()),
    )
    .await;
    let problem = shlink_problem(refused, 400, "invalid-data").await;
    assert_eq!(problem["invalidElements"], json!(["domain"]));
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("configuration")),
        "{problem}"
    );
    let editor = app.api_key(Role::Editor).await;
    let forbidden = rest(
        &app,
        Method::PATCH,
        "/domains/redirects",
        &editor,
        Some(body),
    )
    .await;
    shlink_problem(forbidden, 403, "").await;
}

async fn mercure_is_not_configured(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let key = app.api_key(Role::Viewer).await;
    let answer = rest(&app, Method::GET, "/mercure-info", &key, None).await;
    let problem = shlink_problem(answer, 501, "mercure-not-configured").await;
    assert_eq!(problem["title"], "Mercure integration not configured");
    let missing = app
        .client
        .get(app.url("/rest/v3/mercure-info"))
        .send()
        .await
        .unwrap();
    let problem: Value = shlink_problem(missing, 401, "missing-authentication").await;
    assert_eq!(problem["expectedHeaders"], json!(["X-Api-Key"]));
}

crate::on_sqlite!(
    the_one_domain_shows_the_configured_redirects,
    domain_redirects_are_set_in_the_configuration,
    mercure_is_not_configured,
);
