//! Shlink's REST API v3 at `/rest/...`: health, the short URL resource (create with
//! `findIfExists` and `shortCodeLength`, shorten, get, edit, delete) in Shlink's shapes, its
//! problem documents, keys and roles, the older version prefixes, and CORS.

use kurz::domain::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_locked_app, Backend, TestApp};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

impl TestApp {
    pub(crate) async fn shlink(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(&format!("/rest/v3{path}")))
            .header("X-Api-Key", key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }
}

/// A Shlink problem document of `status` and `code` (the end of its `type`).
pub(crate) async fn shlink_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["type"],
        format!("https://shlink.io/api/error/{code}"),
        "{body}"
    );
    assert_eq!(body["status"], status);
    body
}

fn is_atom(value: &Value) -> bool {
    value.as_str().is_some_and(|t| {
        t.len() == 25 && t.ends_with("+00:00") && chrono::DateTime::parse_from_rfc3339(t).is_ok()
    })
}

async fn health_reports_the_shlink_version(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    for path in [
        "/rest/health",
        "/rest/v3/health",
        "/rest/v2/health",
        "/rest/v1/health",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/health+json"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (body["status"].as_str(), body["version"].as_str()),
            (Some("pass"), Some("5.0.0"))
        );
    }
    let missing = shlink_problem(
        app.get("/rest/v3/short-urls/x").await,
        401,
        "missing-authentication",
    )
    .await;
    assert_eq!(missing["expectedHeaders"], json!(["X-Api-Key"]));
    let wrong = app
        .shlink(Method::GET, "/short-urls/x", "kurz_wrong", None)
        .await;
    shlink_problem(wrong, 401, "invalid-api-key").await;
    shlink_problem(app.get("/rest/v3/nothing/here").await, 404, "not-found").await;
}

async fn short_urls_are_created_read_edited_and_deleted(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let key = app.api_key(Role::Admin).await;
    let created = app
        .shlink(
            Method::POST,
            "/short-urls",
            &key,
            Some(json!({
                "longUrl": "https://example.com/shlink",
                "customSlug": "from-shlink",
                "tags": ["b", "a"],
                "title": "From Shlink",
                "validUntil": "2099-01-01T00:00:00+00:00",
                "maxVisits": 5,
                "crawlable": true,
                "forwardQuery": false,
                "deviceLongUrls": {"ios": "https://example.com/ios"}
            })),
        )
        .await;
    assert_eq!(created.status(), 200, "Shlink answers 200, not 201");
    let link: Value = created.json().await.unwrap();
    assert_eq!(link["shortCode"], "from-shlink");
    assert_eq!(link["shortUrl"], format!("{}/from-shlink", app.address));
    assert_eq!(link["longUrl"], "https://example.com/shlink");
    assert!(is_atom(&link["dateCreated"]), "{link}");
    assert_eq!(link["tags"], json!(["a", "b"]));
    assert_eq!(
        link["meta"],
        json!({"validSince": null, "validUntil": "2099-01-01T00:00:00+00:00", "maxVisits": 5})
    );
    assert_eq!(link["domain"], Value::Null);
    assert_eq!(
        (
            link["title"].as_str(),
            link["crawlable"].as_bool(),
            link["forwardQuery"].as_bool()
        ),
        (Some("From Shlink"), Some(true), Some(false))
    );
    assert_eq!(
        link["visitsSummary"],
        json!({"total": 0, "nonBots": 0, "bots": 0})
    );
    assert_eq!(link["hasRedirectRules"], false);
    // Made through the application layer: the native API has it.
    let native = app
        .with_key(Method::GET, "/api/urls/from-shlink", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(native.status(), 200);

    // Problems, as Shlink's clients read them.
    let taken = app
        .shlink(
            Method::POST,
            "/short-urls",
            &key,
            Some(json!({"longUrl": "https://example.com/2", "customSlug": "from-shlink"})),
        )
        .await;
    assert_eq!(
        shlink_problem(taken, 400, "non-unique-slug").await["customSlug"],
        "from-shlink"
    );
    for (body, field) in [
        (json!({"title": "no long URL"}), "longUrl"),
        (json!({"longUrl": "not a url"}), "longUrl"),
        (
            json!({"longUrl": "https://example.com/", "validSince": "yesterday"}),
            "validSince",
        ),
        (
            json!({"longUrl": "https://example.com/", "maxVisits": "many"}),
            "maxVisits",
        ),
        (
            json!({"longUrl": "https://example.com/", "maxVisits": 0}),
            "maxVisits",
        ),
        (
            json!({"longUrl": "https://example.com/", "customSlug": "a/b"}),
            "customSlug",
        ),
        (
            json!({"longUrl": "https://example.com/", "domain": "other.example"}),
            "domain",
        ),
        (
            json!({"longUrl": "https://example.com/", "shortCodeLength": 3}),
            "shortCodeLength",
        ),
        (
            json!({"longUrl": "https://example.com/", "pathPrefix": "p-"}),
            "pathPrefix",
        ),
    ] {
        let response = app
            .shlink(Method::POST, "/short-urls", &key, Some(body.clone()))
            .await;
        let problem = shlink_problem(response, 400, "invalid-data").await;
        assert_eq!(
            problem["invalidElements"],
            json!([field]),
            "{body}: {problem}"
        );
    }
    let malformed = app
        .client
        .post(app.url("/rest/v3/short-urls"))
        .header("X-Api-Key", &key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    shlink_problem(malformed, 400, "malformed-request-body").await;

    // findIfExists: the same long URL and the fields given; other tags make another.
    let found = app
        .shlink(Method::POST, "/short-urls", &key, Some(json!({"longUrl": "https://example.com/shlink", "findIfExists": true, "tags": ["a", "b"]})))
        .await;
    assert_eq!(
        found.json::<Value>().await.unwrap()["shortCode"],
        "from-shlink"
    );
    let other = app
        .shlink(Method::POST, "/short-urls", &key, Some(json!({"longUrl": "https://example.com/shlink", "findIfExists": true, "tags": ["c"]})))
        .await;
    let other: Value = other.json().await.unwrap();
    assert_ne!(other["shortCode"], "from-shlink");
    let sized = app
        .shlink(
            Method::POST,
            "/short-urls",
            &key,
            Some(json!({"longUrl": "https://example.com/sized", "shortCodeLength": 9})),
        )
        .await;
    assert_eq!(
        sized.json::<Value>().await.unwrap()["shortCode"]
            .as_str()
            .unwrap()
            .len(),
        9
    );
    let prefixed = app
        .shlink(Method::POST, "/short-urls", &key, Some(json!({"longUrl": "https://example.com/p", "customSlug": "slug", "pathPrefix": "pre-"})))
        .await;
    assert_eq!(
        prefixed.json::<Value>().await.unwrap()["shortCode"],
        "pre-slug"
    );

    // Clicks, one by a bot, show in visitsSummary.
    app.client
        .get(app.url("/from-shlink"))
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();
    app.client
        .get(app.url("/from-shlink"))
        .header("user-agent", GOOGLEBOT)
        .send()
        .await
        .unwrap();
    app.wait_for_visits(2).await;
    let read = app
        .shlink(
            Method::GET,
            "/short-urls/from-shlink?domain=DEFAULT",
            &key,
            None,
        )
        .await;
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(
        read["visitsSummary"],
        json!({"total": 2, "nonBots": 1, "bots": 1})
    );
    let missing = app
        .shlink(Method::GET, "/short-urls/nothing", &key, None)
        .await;
    assert_eq!(
        shlink_problem(missing, 404, "short-url-not-found").await["shortCode"],
        "nothing"
    );

    // Edit: null clears, tags are replaced, the long URL changes.
    let edited = app
        .shlink(
            Method::PATCH,
            "/short-urls/from-shlink",
            &key,
            Some(json!({"longUrl": "https://example.com/edited", "title": null, "maxVisits": null, "validUntil": null, "tags": ["z"]})),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["longUrl"], "https://example.com/edited");
    assert_eq!(
        (edited["title"].clone(), edited["tags"].clone()),
        (Value::Null, json!(["z"]))
    );
    assert_eq!(
        edited["meta"],
        json!({"validSince": null, "validUntil": null, "maxVisits": null})
    );
    let bad = app
        .shlink(
            Method::PATCH,
            "/short-urls/from-shlink",
            &key,
            Some(json!({"validSince": "soon"})),
        )
        .await;
    assert_eq!(
        shlink_problem(bad, 400, "invalid-data").await["invalidElements"],
        json!(["validSince"])
    );

    // The older prefixes serve the same.
    let v2 = app
        .client
        .get(app.url("/rest/v2/short-urls/from-shlink"))
        .header("X-Api-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), 200);

    let deleted = app
        .shlink(Method::DELETE, "/short-urls/from-shlink", &key, None)
        .await;
    assert_eq!(deleted.status(), 204);
    let gone = app
        .shlink(Method::GET, "/short-urls/from-shlink", &key, None)
        .await;
    shlink_problem(gone, 404, "short-url-not-found").await;
}

async fn shorten_answers_json_or_text(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let key = app.api_key(Role::Editor).await;
    let text = app
        .client
        .get(app.url("/rest/v3/short-urls/shorten"))
        .query(&[
            ("apiKey", key.as_str()),
            ("longUrl", "https://example.com/one"),
            ("format", "txt"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);
    assert!(text.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let short = text.text().await.unwrap();
    assert!(short.starts_with(&format!("{}/", app.address)), "{short}");
    let json = app
        .client
        .get(app.url("/rest/v3/short-urls/shorten"))
        .query(&[
            ("apiKey", key.as_str()),
            ("longUrl", "https://example.com/two"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    assert_eq!(
        json.json::<Value>().await.unwrap()["longUrl"],
        "https://example.com/two"
    );
    let keyless = app
        .client
        .get(app.url("/rest/v3/short-urls/shorten?longUrl=https://example.com/three"))
        .send()
        .await
        .unwrap();
    shlink_problem(keyless, 401, "missing-authentication").await;
}

async fn roles_apply_as_on_the_native_api(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let editor = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    let body = json!({"longUrl": "https://example.com/admins", "customSlug": "admins"});
    assert_eq!(
        app.shlink(Method::POST, "/short-urls", &admin, Some(body))
            .await
            .status(),
        200
    );
    // An editor sees only its own links, as a Shlink key limited to its own short URLs.
    let hidden = app
        .shlink(Method::GET, "/short-urls/admins", &editor, None)
        .await;
    shlink_problem(hidden, 404, "short-url-not-found").await;
    let hidden = app
        .shlink(Method::DELETE, "/short-urls/admins", &editor, None)
        .await;
    shlink_problem(hidden, 404, "short-url-not-found").await;
    assert_eq!(
        app.shlink(Method::GET, "/short-urls/admins", &viewer, None)
            .await
            .status(),
        200
    );
    let refused = app
        .shlink(Method::DELETE, "/short-urls/admins", &viewer, None)
        .await;
    assert_eq!(refused.status(), 403);
    let refused = app
        .shlink(
            Method::POST,
            "/short-urls",
            &viewer,
            Some(json!({"longUrl": "https://example.com/v"})),
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
}

async fn any_origin_may_call_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/rest/v3/short-urls"))
        .header("Origin", "https://app.shlink.io")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "x-api-key, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("x-api-key"), "{allowed}");
    let health = app
        .client
        .get(app.url("/rest/health"))
        .header("Origin", "https://app.shlink.io")
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["access-control-allow-origin"], "*");
    // Not the native API.
    let native = app
        .client
        .get(app.url("/api/urls"))
        .header("Origin", "https://app.shlink.io")
        .send()
        .await
        .unwrap();
    assert!(native
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

async fn tags_are_listed_counted_renamed_and_deleted(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let editor = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    for (slug, tags, key) in [
        ("t1", vec!["alpha", "beta"], &admin),
        ("t2", vec!["beta"], &admin),
        ("t3", vec!["gamma"], &editor),
    ] {
        let body = json!({"longUrl": format!("https://example.com/{slug}"), "customSlug": slug, "tags": tags});
        assert_eq!(
            app.shlink(Method::POST, "/short-urls", key, Some(body))
                .await
                .status(),
            200
        );
    }
    app.client
        .get(app.url("/t2"))
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();
    app.client
        .get(app.url("/t2"))
        .header("user-agent", GOOGLEBOT)
        .send()
        .await
        .unwrap();
    app.wait_for_visits(2).await;

    let all: Value = app
        .shlink(Method::GET, "/tags", &admin, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["tags"]["data"], json!(["alpha", "beta", "gamma"]));
    assert_eq!(
        all["tags"]["pagination"],
        json!({"currentPage": 1, "pagesCount": 1, "itemsPerPage": 3, "itemsInCurrentPage": 3, "totalItems": 3})
    );
    let paged: Value = app
        .shlink(
            Method::GET,
            "/tags?page=2&itemsPerPage=2&orderBy=tag-DESC",
            &admin,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paged["tags"]["data"], json!(["alpha"]));
    assert_eq!(paged["tags"]["pagination"]["pagesCount"], 2);
    let searched: Value = app
        .shlink(Method::GET, "/tags?searchTerm=AM", &admin, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(searched["tags"]["data"], json!(["gamma"]));
    let stats: Value = app
        .shlink(Method::GET, "/tags/stats?orderBy=visits-DESC", &admin, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["tags"]["data"][0],
        json!({"tag": "beta", "shortUrlsCount": 2, "visitsSummary": {"total": 2, "nonBots": 1, "bots": 1}})
    );
    // An editor sees the tags of its own links.
    let own: Value = app
        .shlink(Method::GET, "/tags/stats", &editor, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        own["tags"]["data"],
        json!([{"tag": "gamma", "shortUrlsCount": 1, "visitsSummary": {"total": 0, "nonBots": 0, "bots": 0}}])
    );
    let bad = app
        .shlink(Method::GET, "/tags?orderBy=size-ASC", &admin, None)
        .await;
    assert_eq!(
        shlink_problem(bad, 400, "invalid-data").await["invalidElements"],
        json!(["orderBy"])
    );
    let bad = app.shlink(Method::GET, "/tags?page=0", &admin, None).await;
    assert_eq!(
        shlink_problem(bad, 400, "invalid-data").await["invalidElements"],
        json!(["page"])
    );

    // Rename: 204; a taken name is tag-conflict, an unknown one tag-not-found.
    let rename = |key: &str, old: &str, new: &str| {
        let request = app
            .client
            .put(app.url("/rest/v3/tags"))
            .header("X-Api-Key", key)
            .json(&json!({"oldName": old, "newName": new}));
        async move { request.send().await.unwrap() }
    };
    assert_eq!(rename(&admin, "alpha", "first").await.status(), 204);
    let conflict = shlink_problem(rename(&admin, "first", "beta").await, 409, "tag-conflict").await;
    assert_eq!(
        (conflict["oldName"].as_str(), conflict["newName"].as_str()),
        (Some("first"), Some("beta"))
    );
    assert_eq!(
        shlink_problem(rename(&admin, "nope", "other").await, 404, "tag-not-found").await["tag"],
        "nope"
    );
    shlink_problem(
        rename(&viewer, "beta", "b2").await,
        403,
        "forbidden-tag-operation",
    )
    .await;
    shlink_problem(rename(&editor, "beta", "b2").await, 404, "tag-not-found").await;
    let missing = app
        .shlink(
            Method::PUT,
            "/tags",
            &admin,
            Some(json!({"oldName": "beta"})),
        )
        .await;
    assert_eq!(
        shlink_problem(missing, 400, "invalid-data").await["invalidElements"],
        json!(["newName"])
    );

    // Delete: several at once, unknown names ignored.
    let deleted = app
        .client
        .delete(app.url("/rest/v3/tags?tags[]=first&tags[]=beta&tags[]=unknown"))
        .header("X-Api-Key", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let left: Value = app
        .shlink(Method::GET, "/tags", &admin, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(left["tags"]["data"], json!(["gamma"]));
    let t1: Value = app
        .shlink(Method::GET, "/short-urls/t1", &admin, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t1["tags"], json!([]));
    let refused = app
        .client
        .delete(app.url("/rest/v3/tags?tags[]=gamma"))
        .header("X-Api-Key", &viewer)
        .send()
        .await
        .unwrap();
    shlink_problem(refused, 403, "forbidden-tag-operation").await;
}

crate::on_both_backends!(
    health_reports_the_shlink_version,
    tags_are_listed_counted_renamed_and_deleted,
    short_urls_are_created_read_edited_and_deleted,
    shorten_answers_json_or_text,
    roles_apply_as_on_the_native_api,
    any_origin_may_call_it,
);
