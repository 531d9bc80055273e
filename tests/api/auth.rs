//! API keys and roles: 401 without a valid key (when anonymous use is off), 403 when the key's
//! role does not allow the action, editors confined to their own short links, per-key rate
//! limits, and anonymous use in development.

use kurz::config::{Environment, Settings};
use kurz::domain::{Role, Slug};
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, spawn_app, spawn_app_with, spawn_locked_app, Backend, TestApp,
};

async fn assert_unauthorized(response: Response) {
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "challenge: {challenge:?}");
    assert_eq!(assert_problem(response, 401).await["code"], "unauthorized");
}

async fn assert_forbidden(response: Response) {
    assert_eq!(assert_problem(response, 403).await["code"], "forbidden");
}

/// Creates a short link with `key`; returns its slug.
async fn create_with(app: &TestApp, key: &str, target: &str) -> String {
    let response = app
        .with_key(Method::POST, "/api/urls", key)
        .json(&json!({ "url": target }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "creating {target}");
    let body: Value = response.json().await.unwrap();
    body["slug"].as_str().unwrap().to_owned()
}

async fn get_with(app: &TestApp, key: &str, path: &str) -> Response {
    app.with_key(Method::GET, path, key).send().await.unwrap()
}

async fn slugs_of(response: Response) -> Vec<String> {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        // A URL's slug, or the slug of a visit's URL.
        .map(|item| {
            item["slug"]
                .as_str()
                .or(item["url"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn requests_need_a_valid_key_when_anonymous_use_is_off(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    for path in [
        "/api/urls",
        "/api/urls/search?q=a",
        "/api/urls/some-slug",
        "/api/urls/some-slug/visits",
        "/api/urls/some-slug/stats",
        "/api/visits",
    ] {
        assert_unauthorized(app.get(path).await).await;
    }
    assert_unauthorized(
        app.create_url(json!({ "url": "https://example.com/" }))
            .await,
    )
    .await;
    assert_unauthorized(app.patch_url("some-slug", json!({ "title": "x" })).await).await;
    assert_unauthorized(app.delete_url("some-slug").await).await;

    let admin = app.api_key(Role::Admin).await;
    let slug = create_with(&app, &admin, "https://example.com/public").await;
    // Malformed, unknown and revoked keys.
    for bad in [
        "not-a-key".to_owned(),
        format!("kurz_{}", "a".repeat(39)),
        format!("kurz_{}", "a".repeat(40)),
    ] {
        assert_unauthorized(get_with(&app, &bad, "/api/urls").await).await;
    }
    let revoked = app.api_key(Role::Admin).await;
    assert_eq!(get_with(&app, &revoked, "/api/urls").await.status(), 200);
    let id = app.store.list_api_keys().await.unwrap().last().unwrap().id;
    app.store.revoke_api_key(id).await.unwrap();
    assert_unauthorized(get_with(&app, &revoked, "/api/urls").await).await;

    // What stays public.
    assert_eq!(app.follow(&slug).await.status(), 302);
    for path in [
        "/",
        "/healthz",
        "/readyz",
        "/robots.txt",
        "/api",
        "/api/openapi.json",
        "/metrics",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

async fn keys_are_accepted_in_either_header(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let key = app.api_key(Role::Viewer).await;
    let bearer = app
        .get_with_header("authorization", &format!("Bearer {key}"))
        .await;
    assert_eq!(bearer.status(), 200);
    let lower = app
        .get_with_header("authorization", &format!("bearer {key}"))
        .await;
    assert_eq!(lower.status(), 200);
    let header = app.get_with_header("x-api-key", &key).await;
    assert_eq!(header.status(), 200);
    // Another scheme is not an API key.
    let basic = app
        .get_with_header("authorization", "Basic dXNlcjpwdw==")
        .await;
    assert_unauthorized(basic).await;
}

async fn viewers_read_everything_and_change_nothing(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let viewer = app.api_key(Role::Viewer).await;
    let slug = create_with(&app, &admin, "https://example.com/read-me").await;
    app.follow(&slug).await;
    app.wait_for_visits(1).await;

    assert_eq!(
        slugs_of(get_with(&app, &viewer, "/api/urls").await).await,
        [slug.as_str()]
    );
    for path in [
        format!("/api/urls/{slug}"),
        format!("/api/urls/{slug}/visits"),
        format!("/api/urls/{slug}/stats"),
        "/api/visits".to_owned(),
        "/api/urls/search?q=read".to_owned(),
    ] {
        assert_eq!(get_with(&app, &viewer, &path).await.status(), 200, "{path}");
    }
    let create = app
        .with_key(Method::POST, "/api/urls", &viewer)
        .json(&json!({ "url": "https://example.com/nope" }))
        .send()
        .await
        .unwrap();
    assert_forbidden(create).await;
    let patch = app
        .with_key(Method::PATCH, &format!("/api/urls/{slug}"), &viewer)
        .json(&json!({ "title": "nope" }))
        .send()
        .await
        .unwrap();
    assert_forbidden(patch).await;
    let delete = app
        .with_key(Method::DELETE, &format!("/api/urls/{slug}"), &viewer)
        .send()
        .await
        .unwrap();
    assert_forbidden(delete).await;
    // The role is checked before the body is read: whatever a viewer sends is a 403, not a
    // 400, 415 or 422 about the body.
    for (content_type, body) in [
        ("application/json", "{"),
        ("text/plain", "hello"),
        ("application/json", r#"{"unknown": 1}"#),
    ] {
        for (method, path) in [
            (Method::POST, "/api/urls".to_owned()),
            (Method::PATCH, format!("/api/urls/{slug}")),
        ] {
            let response = app
                .with_key(method.clone(), &path, &viewer)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_forbidden(response).await;
        }
    }
    assert!(app
        .store
        .get_url(&Slug::for_lookup(&slug).unwrap())
        .await
        .is_ok());
}

async fn editors_see_and_change_only_their_own_links(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let alice = app.api_key(Role::Editor).await;
    let bob = app.api_key(Role::Editor).await;
    let keys = app.store.list_api_keys().await.unwrap();
    let alice_id = keys[1].id;

    let mine = create_with(&app, &alice, "https://shared.example/alice").await;
    let theirs = create_with(&app, &bob, "https://shared.example/bob").await;
    let admins = create_with(&app, &admin, "https://shared.example/admin").await;
    let stored = app
        .store
        .get_url(&Slug::for_lookup(&mine).unwrap())
        .await
        .unwrap();
    assert_eq!(stored.created_by, Some(alice_id), "created_by is recorded");
    for slug in [&mine, &theirs, &mine] {
        app.follow(slug).await;
    }
    app.wait_for_visits(3).await;

    // Lists show Alice's own links and their visits only.
    assert_eq!(
        slugs_of(get_with(&app, &alice, "/api/urls").await).await,
        [mine.as_str()]
    );
    assert_eq!(
        slugs_of(get_with(&app, &alice, "/api/urls/search?q=shared").await).await,
        [mine.as_str()]
    );
    assert_eq!(
        slugs_of(get_with(&app, &alice, "/api/visits").await).await,
        [mine.clone(), mine.clone()]
    );
    assert_eq!(
        slugs_of(get_with(&app, &alice, &format!("/api/visits?url={mine}")).await)
            .await
            .len(),
        2
    );
    // Paginated like everyone's: one per page, following the cursor.
    let first: Value = get_with(&app, &alice, "/api/visits?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let next = first["next"].as_str().expect("a next page").to_owned();
    let second = app
        .client
        .get(next)
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(slugs_of(second).await, [mine.as_str()]);
    assert_eq!(
        slugs_of(get_with(&app, &admin, "/api/urls").await)
            .await
            .len(),
        3
    );

    // Her own link: read and change.
    for path in [
        format!("/api/urls/{mine}"),
        format!("/api/urls/{mine}/visits"),
        format!("/api/urls/{mine}/stats"),
    ] {
        assert_eq!(get_with(&app, &alice, &path).await.status(), 200, "{path}");
    }
    let patch = app
        .with_key(Method::PATCH, &format!("/api/urls/{mine}"), &alice)
        .json(&json!({ "title": "Mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 200);

    // Anyone else's (another editor's or an admin's): 403, read or change.
    for other in [&theirs, &admins] {
        for path in [
            format!("/api/urls/{other}"),
            format!("/api/urls/{other}/visits"),
            format!("/api/urls/{other}/stats"),
            format!("/api/visits?url={other}"),
        ] {
            assert_forbidden(get_with(&app, &alice, &path).await).await;
        }
        let patch = app
            .with_key(Method::PATCH, &format!("/api/urls/{other}"), &alice)
            .json(&json!({ "title": "Taken over" }))
            .send()
            .await
            .unwrap();
        assert_forbidden(patch).await;
        let delete = app
            .with_key(Method::DELETE, &format!("/api/urls/{other}"), &alice)
            .send()
            .await
            .unwrap();
        assert_forbidden(delete).await;
    }
    // An unknown slug is still a 404.
    assert_problem(get_with(&app, &alice, "/api/urls/no-such-slug").await, 404).await;

    // The admin changes and deletes anyone's.
    let delete = app
        .with_key(Method::DELETE, &format!("/api/urls/{mine}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    let delete = app
        .with_key(Method::DELETE, &format!("/api/urls/{theirs}"), &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204, "an editor deletes its own");
}

/// The URL resource names the key that created it: the same id for every link of one key,
/// another for another key, `null` for links created anonymously.
async fn links_show_the_key_that_created_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.api_key(Role::Editor).await;
    let bob = app.api_key(Role::Editor).await;
    let creator = |slug: String| {
        let app = &app;
        async move { app.json(&format!("/api/urls/{slug}")).await["created_by"].clone() }
    };
    let first = creator(create_with(&app, &alice, "https://alice.example/1").await).await;
    let second = creator(create_with(&app, &alice, "https://alice.example/2").await).await;
    let other = creator(create_with(&app, &bob, "https://bob.example/").await).await;
    assert!(first.is_i64(), "{first}");
    assert_eq!(first, second);
    assert_ne!(first, other);
    assert!(other.is_i64(), "{other}");
    let anonymous = app.new_url("https://example.com/anon").await;
    assert_eq!(anonymous["created_by"], Value::Null);
}

async fn editor_creations_are_limited_per_key_and_admins_are_not(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.auth.allow_anonymous = false;
        s.rate_limit.enabled = true;
        s.rate_limit.editor_creates_per_minute = 3;
        s.rate_limit.anonymous_creates_per_minute = 1;
    })
    .await;
    let editor = app.api_key(Role::Editor).await;
    let other = app.api_key(Role::Editor).await;
    let admin = app.api_key(Role::Admin).await;
    let create = |key: &str| {
        app.with_key(Method::POST, "/api/urls", key)
            .json(&json!({ "url": "https://example.com/" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(create(&editor).await.unwrap().status(), 201);
    }
    let limited = create(&editor).await.unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(assert_problem(limited, 429).await["code"], "rate_limited");
    // Another editor key has its own allowance; admin keys have no limit (nor the IP one).
    assert_eq!(create(&other).await.unwrap().status(), 201);
    for _ in 0..10 {
        assert_eq!(create(&admin).await.unwrap().status(), 201);
    }
}

async fn anonymous_use_in_development(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.new_url("https://example.com/anonymous").await;
    let slug = created["slug"].as_str().unwrap();
    let stored = app
        .store
        .get_url(&Slug::for_lookup(slug).unwrap())
        .await
        .unwrap();
    assert_eq!(stored.created_by, None, "no key created it");
    assert_eq!(
        app.delete_url(slug).await.status(),
        204,
        "anonymous is an admin"
    );
    // A key that is presented is checked, even when no key is needed.
    assert_unauthorized(get_with(&app, "kurz_wrong", "/api/urls").await).await;
    let editor = app.api_key(Role::Editor).await;
    assert_eq!(
        slugs_of(get_with(&app, &editor, "/api/urls").await)
            .await
            .len(),
        0
    );

    let read_only = spawn_app_with(backend, |s| s.auth.anonymous_role = Role::Viewer).await;
    assert_eq!(read_only.get("/api/urls").await.status(), 200);
    assert_forbidden(
        read_only
            .create_url(json!({ "url": "https://example.com/" }))
            .await,
    )
    .await;
}

#[test]
fn anonymous_use_is_on_in_development_only() {
    let development = Settings::defaults(Environment::Development).unwrap();
    assert!(development.auth.allow_anonymous);
    assert_eq!(development.auth.anonymous_role, Role::Admin);
    let production = Settings::defaults(Environment::Production).unwrap();
    assert!(!production.auth.allow_anonymous);
    assert_eq!(production.rate_limit.editor_creates_per_minute, 600);

    let mut editor = production.clone();
    editor.auth.anonymous_role = Role::Editor;
    let error = editor.validate().unwrap_err().to_string();
    assert!(error.contains("auth.anonymous_role"), "{error}");
}

crate::on_sqlite!(
    requests_need_a_valid_key_when_anonymous_use_is_off,
    keys_are_accepted_in_either_header,
    viewers_read_everything_and_change_nothing,
    editors_see_and_change_only_their_own_links,
    links_show_the_key_that_created_them,
    editor_creations_are_limited_per_key_and_admins_are_not,
    anonymous_use_in_development,
);
