//! Shlink's visit lists: a short URL's, a tag's, non-orphan and orphan visits, in Shlink's
//! visit shape, by page number (page 1 from the newest, later pages after an id of the list's
//! page index), with totals from counters or, when dates or bots filter, from the index.

use std::time::Duration;

use kurz::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::shlink::shlink_problem;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

impl TestApp {
    /// `GET /rest/v3{path}` as `key`: the `visits` member of a 200.
    async fn shlink_visits(&self, key: &str, path: &str) -> Value {
        let response = self.shlink(Method::GET, path, key, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        body["visits"].clone()
    }

    async fn click(&self, path: &str, agent: &str, referrer: &str) {
        let response = self
            .client
            .get(self.url(path))
            .header("User-Agent", agent)
            .header("Referer", referrer)
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() < 500, "{path}");
    }
}

fn dates(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["date"].as_str().unwrap().to_owned())
        .collect()
}

fn total(list: &Value) -> u64 {
    list["pagination"]["totalItems"].as_u64().unwrap()
}

/// Links `a` (six visits, the last by a bot) and `b` (two), both tagged `red`, and three orphan
/// visits: an unknown slug, the root, another path.
async fn seed(app: &TestApp, admin: &str) {
    for slug in ["a", "b"] {
        let body = json!({"longUrl": format!("https://example.com/{slug}"),
                          "customSlug": slug, "tags": ["red"]});
        let response = app
            .shlink(Method::POST, "/short-urls", admin, Some(body))
            .await;
        assert_eq!(response.status(), 200);
    }
    for i in 0..5 {
        app.click("/a", FIREFOX, &format!("https://news.example/{i}"))
            .await;
    }
    app.click("/a", GOOGLEBOT, "").await;
    for _ in 0..2 {
        app.click("/b", FIREFOX, "https://news.example/").await;
    }
    app.wait_for_visits(8).await;
    for path in ["/nope", "/", "/x/y"] {
        app.click(path, FIREFOX, "").await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while total(&app.shlink_visits(admin, "/visits/orphan").await) < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "orphan visits stored"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_short_urls_visits_are_listed(app: &TestApp, admin: &str) {
    let all = app.shlink_visits(admin, "/short-urls/a/visits").await;
    assert_eq!(
        all["pagination"],
        json!({"currentPage": 1, "pagesCount": 1, "itemsPerPage": 5000,
               "itemsInCurrentPage": 6, "totalItems": 6})
    );
    let newest = &all["data"][0];
    assert_eq!(newest["potentialBot"], true);
    assert_eq!(newest["userAgent"], GOOGLEBOT);
    assert_eq!(newest["referer"], "");
    assert_eq!(newest["visitedUrl"], app.url("/a"));
    assert_eq!(newest["redirectUrl"], "https://example.com/a");
    assert_eq!(newest["visitLocation"], Value::Null);
    assert!(newest.get("type").is_none());
    let oldest = &all["data"][5];
    assert_eq!(
        (&oldest["referer"], &oldest["potentialBot"]),
        (&json!("https://news.example/0"), &json!(false))
    );
    let mut sorted = dates(&all);
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates(&all), sorted, "newest first");

    let people = app
        .shlink_visits(admin, "/short-urls/a/visits?excludeBots=true")
        .await;
    assert_eq!(total(&people), 5);
    assert!(people["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["potentialBot"] == false));

    // Pages of 4: the first from the newest, the second after the index's boundary.
    let referers = |list: &Value| -> Vec<Value> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["referer"].clone())
            .collect()
    };
    let mut paged = Vec::new();
    for page in 1..=3 {
        let list = app
            .shlink_visits(
                admin,
                &format!("/short-urls/a/visits?page={page}&itemsPerPage=4"),
            )
            .await;
        assert_eq!(list["pagination"]["pagesCount"], 2);
        assert_eq!(list["pagination"]["totalItems"], 6);
        paged.extend(referers(&list));
    }
    assert_eq!(paged, referers(&all));

    let future = app
        .shlink_visits(admin, "/short-urls/a/visits?startDate=2999-01-01")
        .await;
    assert_eq!(
        (total(&future), future["data"].as_array().unwrap().len()),
        (0, 0)
    );
    let past = app
        .shlink_visits(admin, "/short-urls/a/visits?endDate=2020-01-01")
        .await;
    assert_eq!(total(&past), 0);
    let dated = app
        .shlink_visits(
            admin,
            "/short-urls/a/visits?startDate=2020-01-01&excludeBots=true&itemsPerPage=2&page=3",
        )
        .await;
    assert_eq!(
        dated["pagination"],
        json!({"currentPage": 3, "pagesCount": 3, "itemsPerPage": 2,
               "itemsInCurrentPage": 1, "totalItems": 5})
    );
    assert_eq!(dated["data"][0]["referer"], "https://news.example/0");
    let elsewhere = app
        .shlink_visits(admin, "/short-urls/a/visits?domain=other.example")
        .await;
    assert_eq!(total(&elsewhere), 0);

    let missing = app
        .shlink(Method::GET, "/short-urls/zz/visits", admin, None)
        .await;
    shlink_problem(missing, 404, "short-url-not-found").await;
    let bad = app
        .shlink(
            Method::GET,
            "/short-urls/a/visits?excludeBots=maybe",
            admin,
            None,
        )
        .await;
    let problem = shlink_problem(bad, 400, "invalid-data").await;
    assert_eq!(problem["invalidElements"], json!(["excludeBots"]));
}

async fn tag_and_site_wide_visits_are_listed(app: &TestApp, admin: &str, editor: &str) {
    let red = app.shlink_visits(admin, "/tags/red/visits").await;
    assert_eq!(total(&red), 8);
    assert!(red["data"][0].get("redirectUrl").is_some());
    let red_people = app
        .shlink_visits(
            admin,
            "/tags/red/visits?excludeBots=true&itemsPerPage=3&page=3",
        )
        .await;
    assert_eq!(
        red_people["pagination"],
        json!({"currentPage": 3, "pagesCount": 3, "itemsPerPage": 3,
               "itemsInCurrentPage": 1, "totalItems": 7})
    );
    let missing = app
        .shlink(Method::GET, "/tags/blue/visits", admin, None)
        .await;
    shlink_problem(missing, 404, "tag-not-found").await;

    let all = app.shlink_visits(admin, "/visits/non-orphan").await;
    assert_eq!(total(&all), 8);
    let people = app
        .shlink_visits(admin, "/visits/non-orphan?excludeBots=true")
        .await;
    assert_eq!(total(&people), 7);
    let domain = app.shlink_visits(admin, "/domains/DEFAULT/visits").await;
    assert_eq!(total(&domain), 8);
    let elsewhere = app
        .shlink(Method::GET, "/domains/other.example/visits", admin, None)
        .await;
    let problem = shlink_problem(elsewhere, 404, "domain-not-found").await;
    assert_eq!(problem["authority"], "other.example");
    // An editor sees its own links' visits: none.
    let own = app.shlink_visits(editor, "/visits/non-orphan").await;
    assert_eq!(total(&own), 0);
    // Nor a tag its links do not carry.
    let hidden = app
        .shlink(Method::GET, "/tags/red/visits", editor, None)
        .await;
    shlink_problem(hidden, 404, "tag-not-found").await;

    let orphans = app.shlink_visits(admin, "/visits/orphan").await;
    assert_eq!(total(&orphans), 3);
    let kinds: Vec<&str> = orphans["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["regular_404", "base_url", "invalid_short_url"]);
    assert_eq!(orphans["data"][0]["visitedUrl"], app.url("/x/y"));
    assert_eq!(orphans["data"][0]["redirectUrl"], Value::Null);
    for (kind, path) in [
        ("invalid_short_url", "/nope"),
        ("base_url", "/"),
        ("regular_404", "/x/y"),
    ] {
        let only = app
            .shlink_visits(admin, &format!("/visits/orphan?type={kind}"))
            .await;
        assert_eq!(total(&only), 1, "{kind}");
        assert_eq!(only["data"][0]["visitedUrl"], app.url(path));
    }
    let bad = app
        .shlink(Method::GET, "/visits/orphan?type=lost", admin, None)
        .await;
    let problem = shlink_problem(bad, 400, "invalid-data").await;
    assert_eq!(problem["invalidElements"], json!(["type"]));
    let refused = app
        .shlink(Method::GET, "/visits/orphan", editor, None)
        .await;
    assert_eq!(refused.status(), 403);
}

async fn visit_lists_answer_shlink_clients(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.auth.allow_anonymous = false).await;
    let admin = app.api_key(Role::Admin).await;
    let editor = app.api_key(Role::Editor).await;
    seed(&app, &admin).await;
    a_short_urls_visits_are_listed(&app, &admin).await;
    tag_and_site_wide_visits_are_listed(&app, &admin, &editor).await;
}

crate::on_both_backends!(visit_lists_answer_shlink_clients);
