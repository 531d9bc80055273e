//! Password-protected links: the form or the 401 problem on `GET /{slug}`, the password on
//! `POST /{slug}` (303 and a visit, or the form again), setting, changing and removing a
//! password, the inputs refused, and wrong passwords limited per client and per link.

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, RETRY_AFTER};
use reqwest::Response;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

impl TestApp {
    /// `GET /{slug}` as a browser asks (HTML first).
    async fn open_in_browser(&self, slug: &str, referrer: Option<&str>) -> Response {
        let mut request = self
            .client
            .get(self.url(&format!("/{slug}")))
            .header(ACCEPT, BROWSER_ACCEPT);
        if let Some(referrer) = referrer {
            request = request.header("referer", referrer);
        }
        request.send().await.expect("request sent")
    }

    /// `POST /{slug}` of the form, as a browser submits it (from `client` when given).
    async fn submit_form(
        &self,
        slug: &str,
        fields: &[(&str, &str)],
        client: Option<&str>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url(&format!("/{slug}")))
            .header(ACCEPT, BROWSER_ACCEPT)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_html_form::to_string(fields).unwrap());
        if let Some(client) = client {
            request = request.header("x-forwarded-for", client);
        }
        request.send().await.expect("request sent")
    }

    /// `POST /{slug}` with a JSON body, as an API client sends it.
    async fn unlock_json(&self, slug: &str, body: Value) -> Response {
        self.client
            .post(self.url(&format!("/{slug}")))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    async fn new_protected(&self, slug: &str, password: &str) -> Value {
        let response = self
            .create_url(json!({
                "url": format!("https://example.com/{slug}"), "slug": slug, "password": password
            }))
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }
}

async fn text(response: Response) -> String {
    response.text().await.expect("a body")
}

/// The form page: HTML, never stored, locked down, naming the slug, with one labelled field.
async fn assert_form(response: Response, status: u16, slug: &str) -> String {
    assert_eq!(response.status(), status);
    let headers = response.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let page = text(response).await;
    assert!(page.contains("<form method=\"post\">"), "{page}");
    assert!(
        page.contains("<label for=\"password\">Password</label>"),
        "{page}"
    );
    assert!(page.contains("type=\"password\""), "{page}");
    assert!(page.contains(&format!("/{slug}")), "{page}");
    assert!(
        !page.contains("<script") && !page.contains("src="),
        "{page}"
    );
    page
}

async fn protected_links_ask_for_their_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.new_protected("team", "open sesame").await;
    assert_eq!(created["password_protected"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    let shown = app.json("/api/urls/team").await;
    assert_eq!(shown["password_protected"], true);
    assert!(!shown.to_string().contains("argon2"), "{shown}");

    // GET: the form for browsers, a problem for the others, HEAD too; no visit.
    let page = assert_form(
        app.open_in_browser("team", Some("https://news.example/post?a=1&b=2"))
            .await,
        401,
        "team",
    )
    .await;
    assert!(
        page.contains("value=\"https://news.example/post?a=1&amp;b=2\""),
        "the referrer is carried: {page}"
    );
    let plain = app.follow("team").await;
    assert_eq!(plain.headers()[CACHE_CONTROL], "no-store");
    assert!(plain.headers().get(LOCATION).is_none());
    assert_eq!(
        assert_problem(plain, 401).await["code"],
        "password_required"
    );
    let head = app.request(reqwest::Method::HEAD, "/team").await;
    assert_eq!(head.status(), 401);

    // Wrong, empty: the form again with the error (browsers), a problem (API clients).
    let wrong = app
        .submit_form("team", &[("password", "open sesame ")], None)
        .await;
    let page = assert_form(wrong, 401, "team").await;
    assert!(page.contains("Wrong password"), "{page}");
    let wrong = app
        .unlock_json("team", json!({"password": "Open Sesame"}))
        .await;
    assert_eq!(wrong.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(assert_problem(wrong, 401).await["code"], "wrong_password");
    let empty = app.unlock_json("team", json!({"password": ""})).await;
    assert_eq!(
        assert_problem(empty, 401).await["code"],
        "password_required"
    );
    let page = assert_form(app.submit_form("team", &[], None).await, 401, "team").await;
    assert!(page.contains("Enter the password"), "{page}");
    let stray = app
        .unlock_json("team", json!({"password": "x", "user": "me"}))
        .await;
    assert_problem(stray, 422).await;
    let other_type = app
        .client
        .post(app.url("/team"))
        .header("content-type", "text/plain")
        .body("open sesame")
        .send()
        .await
        .unwrap();
    assert_problem(other_type, 415).await;

    // Right: 303 to the target, and the visit, with the referrer the form carried.
    let right = app
        .submit_form(
            "team",
            &[
                ("password", "open sesame"),
                ("referrer", "https://news.example/post?a=1&b=2"),
            ],
            None,
        )
        .await;
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()[LOCATION], "https://example.com/team");
    assert_eq!(right.headers()[CACHE_CONTROL], "private, no-cache");
    app.wait_for_visits(1).await;
    let visits = app.json("/api/urls/team/visits").await;
    assert_eq!(
        visits["items"][0]["referrer"],
        "https://news.example/post?a=1&b=2"
    );
    let right = app
        .unlock_json("team", json!({"password": "open sesame"}))
        .await;
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()[LOCATION], "https://example.com/team");
    app.wait_for_visits(2).await;
    assert_eq!(app.json("/api/urls/team").await["visit_count"], 2);

    // A link without a password answers a post with its redirect too (a form left open while
    // the password was removed still lands).
    let open = app.new_slug("https://example.com/open").await;
    let posted = app
        .submit_form(&open, &[("password", "anything")], None)
        .await;
    assert_eq!(posted.status(), 303);
    app.wait_for_visits(3).await;
    // An unknown slug is a 404, whatever was posted.
    let unknown = app
        .unlock_json("no-such-link", json!({"password": "x"}))
        .await;
    assert_problem(unknown, 404).await;
}

async fn passwords_are_set_changed_and_removed(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_url(json!({"url": "https://example.com/guide", "slug": "guide", "crawlable": true}))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(app.follow("guide").await.status(), 302, "cached open");
    assert!(text(app.get("/robots.txt").await)
        .await
        .contains("Allow: /guide"));

    // Setting a password turns crawlable off and takes effect at once (the cache forgets).
    let set = app.patch_url("guide", json!({"password": "first"})).await;
    assert_eq!(set.status(), 200);
    let set: Value = set.json().await.unwrap();
    assert_eq!(set["password_protected"], true);
    assert_eq!(set["crawlable"], false);
    assert_eq!(app.follow("guide").await.status(), 401);
    assert!(!text(app.get("/robots.txt").await).await.contains("/guide"));

    // A PATCH that does not name the password keeps it.
    let renamed = app.patch_url("guide", json!({"title": "Guide"})).await;
    assert_eq!(
        renamed.json::<Value>().await.unwrap()["password_protected"],
        true
    );

    // A new password replaces the old one.
    app.patch_url("guide", json!({"password": "second"})).await;
    let old = app.unlock_json("guide", json!({"password": "first"})).await;
    assert_eq!(assert_problem(old, 401).await["code"], "wrong_password");
    let new = app
        .unlock_json("guide", json!({"password": "second"}))
        .await;
    assert_eq!(new.status(), 303);

    // null removes it: the link redirects again, and may be crawlable again.
    let removed = app
        .patch_url("guide", json!({"password": null, "crawlable": true}))
        .await;
    let removed: Value = removed.json().await.unwrap();
    assert_eq!(removed["password_protected"], false);
    assert_eq!(removed["crawlable"], true);
    assert_eq!(app.follow("guide").await.status(), 302);
}

async fn bad_passwords_are_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let refused = |body: Value, field: &'static str| {
        let app = &app;
        async move {
            let problem = assert_problem(app.create_url(body.clone()).await, 422).await;
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
        }
    };
    let url = "https://example.com/";
    refused(json!({"url": url, "password": ""}), "password").await;
    refused(
        json!({"url": url, "password": "x".repeat(1025)}),
        "password",
    )
    .await;
    // 1 024 bytes, 512 characters: bytes count.
    refused(json!({"url": url, "password": "é".repeat(513)}), "password").await;
    refused(json!({"url": url, "password": 1234}), "password").await;
    refused(
        json!({"url": url, "password": "pw", "crawlable": true}),
        "crawlable",
    )
    .await;
    let longest = app
        .create_url(json!({"url": url, "slug": "longest", "password": "é".repeat(512)}))
        .await;
    assert_eq!(longest.status(), 201);
    let right = app
        .unlock_json("longest", json!({"password": "é".repeat(512)}))
        .await;
    assert_eq!(right.status(), 303);

    app.new_protected("locked", "pw").await;
    for (body, field) in [
        (json!({"password": ""}), "password"),
        (json!({"crawlable": true}), "crawlable"),
        (json!({"password": "new", "crawlable": true}), "crawlable"),
    ] {
        let problem = assert_problem(app.patch_url("locked", body.clone()).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let stored = app.json("/api/urls/locked").await;
    assert_eq!(stored["crawlable"], false);
    assert_eq!(stored["password_protected"], true);
    let still = app.unlock_json("locked", json!({"password": "pw"})).await;
    assert_eq!(still.status(), 303, "the refused changes changed nothing");
}

async fn wrong_passwords_are_limited_per_client_and_per_link(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.rate_limit.enabled = true;
        s.rate_limit.password_attempts_per_minute = 3;
        s.server.trusted_proxies = vec!["127.0.0.0/8".to_string().try_into().unwrap()];
    })
    .await;
    app.new_protected("vault", "right").await;
    app.new_protected("safe", "right").await;
    let attempt = |slug: &'static str, password: &'static str, client: &'static str| {
        let app = &app;
        async move {
            app.submit_form(slug, &[("password", password)], Some(client))
                .await
        }
    };
    // Right passwords are not counted: a link many people open does not lock itself.
    for _ in 0..5 {
        assert_eq!(
            attempt("vault", "right", "198.51.100.9").await.status(),
            303
        );
    }
    for _ in 0..3 {
        assert_eq!(
            attempt("vault", "wrong", "198.51.100.1").await.status(),
            401
        );
    }
    let limited = attempt("vault", "wrong", "198.51.100.1").await;
    let retry_after: u64 = limited.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let page = assert_form(limited, 429, "vault").await;
    assert!(page.contains("Too many wrong passwords"), "{page}");
    // Locked: the right password from this client, or from anyone on this link, waits.
    assert_eq!(
        attempt("vault", "right", "198.51.100.1").await.status(),
        429
    );
    assert_eq!(
        attempt("vault", "right", "198.51.100.2").await.status(),
        429
    );
    let api = app
        .client
        .post(app.url("/vault"))
        .header("x-forwarded-for", "198.51.100.3")
        .json(&json!({"password": "right"}))
        .send()
        .await
        .unwrap();
    assert!(api.headers().contains_key(RETRY_AFTER));
    assert_eq!(assert_problem(api, 429).await["code"], "rate_limited");
    // Another client on another link is not affected; the locked client is, everywhere.
    assert_eq!(attempt("safe", "right", "198.51.100.2").await.status(), 303);
    assert_eq!(attempt("safe", "right", "198.51.100.1").await.status(), 429);
}

/// A password comes on top of the link's other rules: outside its validity window the link
/// answers as it would without one (no form), the right password takes a unit of a visit cap
/// as a click does, and the query the form posts to is forwarded.
async fn passwords_go_with_windows_caps_and_forwarding(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_url(json!({
            "url": "https://example.com/once", "slug": "once", "password": "pw",
            "max_visits": 1, "forward_query": true
        }))
        .await;
    assert_eq!(created.status(), 201);
    assert_form(app.open_in_browser("once", None).await, 401, "once").await;
    // Visits by people count against a cap (a client without a user agent is taken for a bot).
    let unlock = |path: &'static str| {
        app.client
            .post(app.url(path))
            .header("user-agent", FIREFOX)
            .json(&json!({"password": "pw"}))
            .send()
    };
    let right = unlock("/once?utm_source=mail").await.unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(
        right.headers()[LOCATION],
        "https://example.com/once?utm_source=mail"
    );
    assert_eq!(app.json("/api/urls/once").await["visits_left"], 0);
    // Used up: the right password is answered as a click on a used-up link is, and from then
    // on the link is gone without a form.
    let again = unlock("/once").await.unwrap();
    assert_eq!(assert_problem(again, 410).await["code"], "gone");
    assert_eq!(app.open_in_browser("once", None).await.status(), 410);

    let later = app
        .create_url(json!({
            "url": "https://example.com/later", "slug": "later", "password": "pw",
            "valid_since": "2999-01-01T00:00:00Z"
        }))
        .await;
    assert_eq!(later.status(), 201);
    assert_problem(app.follow("later").await, 404).await;
    let early = app.unlock_json("later", json!({"password": "pw"})).await;
    assert_problem(early, 404).await;
}

crate::on_both_backends!(
    passwords_go_with_windows_caps_and_forwarding,
    protected_links_ask_for_their_password,
    passwords_are_set_changed_and_removed,
    bad_passwords_are_refused_naming_the_field,
    wrong_passwords_are_limited_per_client_and_per_link,
);
