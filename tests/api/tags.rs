//! Tags over HTTP: on links (create, PATCH, the resource), the list filter, `/api/tags`
//! (list, search, rename, delete, statistics), who may do what, and bad input naming its field.

use kurz::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_locked_app, Backend, TestApp};

impl TestApp {
    async fn tagged(&self, slug: &str, tags: &[&str]) -> Value {
        let response = self
            .create_url(json!({ "url": "https://example.com/", "slug": slug, "tags": tags }))
            .await;
        assert_eq!(response.status(), 201, "creating {slug}");
        response.json().await.unwrap()
    }

    /// The slugs of one page of `GET path`, and its `next` link.
    async fn slugs(&self, path: &str) -> (Vec<String>, Value) {
        let page = self.json(path).await;
        let slugs = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["slug"].as_str().unwrap().to_owned())
            .collect();
        (slugs, page["next"].clone())
    }

    /// Every page of `path`, following `next`.
    async fn all_slugs(&self, path: &str) -> Vec<String> {
        let (mut slugs, mut next) = self.slugs(path).await;
        while let Some(link) = next.as_str() {
            let path = link.strip_prefix(&self.address).unwrap().to_owned();
            let (more, after) = self.slugs(&path).await;
            slugs.extend(more);
            next = after;
        }
        slugs
    }
}

fn tag_rows(page: &Value) -> Vec<(String, i64, i64)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["links"].as_i64().unwrap(),
                t["visits"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn links_carry_tags_set_on_create_and_replaced_on_patch(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.tagged("t1", &["q4", "launch", "q4"]).await;
    assert_eq!(created["tags"], json!(["launch", "q4"]));
    assert_eq!(
        app.json("/api/urls/t1").await["tags"],
        json!(["launch", "q4"])
    );
    assert_eq!(
        app.new_url("https://example.com/x").await["tags"],
        json!([])
    );

    let patched = app.patch_url("t1", json!({ "title": "T" })).await;
    assert_eq!(
        patched.json::<Value>().await.unwrap()["tags"],
        json!(["launch", "q4"])
    );
    let patched = app.patch_url("t1", json!({ "tags": ["spring"] })).await;
    assert_eq!(patched.status(), 200);
    assert_eq!(
        patched.json::<Value>().await.unwrap()["tags"],
        json!(["spring"])
    );
    let cleared = app.patch_url("t1", json!({ "tags": [] })).await;
    assert_eq!(cleared.json::<Value>().await.unwrap()["tags"], json!([]));
    assert_eq!(tag_rows(&app.json("/api/tags").await), vec![]);
}

async fn lists_filter_by_any_or_all_tags_page_by_page(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..6 {
        let mut tags = vec![if i % 2 == 0 { "even" } else { "odd" }];
        if i % 3 == 0 {
            tags.push("three");
        }
        app.tagged(&format!("f{i}"), &tags).await;
    }
    assert_eq!(
        app.all_slugs("/api/urls?tag=even&limit=2").await,
        ["f4", "f2", "f0"]
    );
    assert_eq!(
        app.all_slugs("/api/urls?tag=odd&tag=three&limit=2").await,
        ["f5", "f3", "f1", "f0"]
    );
    assert_eq!(
        app.all_slugs("/api/urls?tag=odd&tag=three&tags=any&limit=1")
            .await,
        ["f5", "f3", "f1", "f0"]
    );
    assert_eq!(
        app.all_slugs("/api/urls?tag=odd&tag=three&tags=all&limit=1")
            .await,
        ["f3"]
    );
    let (_, next) = app
        .slugs("/api/urls?tag=odd&tag=three&tags=all&limit=1")
        .await;
    assert_eq!(next, Value::Null);
    let (_, next) = app.slugs("/api/urls?tag=odd&tag=three&limit=1").await;
    let next = next.as_str().unwrap();
    assert!(
        next.contains("tag=odd&tag=three") && next.contains("cursor="),
        "{next}"
    );
    assert!(app.slugs("/api/urls?tag=unknown").await.0.is_empty());
}

async fn tags_are_listed_searched_and_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    app.tagged("c1", &["alpha", "beta"]).await;
    app.tagged("c2", &["beta"]).await;
    app.tagged("c3", &["gamma"]).await;
    for _ in 0..3 {
        assert_eq!(app.follow("c2").await.status(), 302);
    }
    app.wait_for_visits(3).await;
    let page = app.json("/api/tags").await;
    assert_eq!(
        tag_rows(&page),
        [
            ("alpha".to_string(), 1, 0),
            ("beta".to_string(), 2, 3),
            ("gamma".to_string(), 1, 0)
        ]
    );
    assert_eq!(page["next"], Value::Null);
    let first = app.json("/api/tags?limit=2").await;
    assert_eq!(tag_rows(&first).len(), 2);
    let next = first["next"].as_str().unwrap();
    let rest = app.json(next.strip_prefix(&app.address).unwrap()).await;
    assert_eq!(tag_rows(&rest)[0].0, "gamma");
    let found = app.json("/api/tags?q=B").await;
    assert_eq!(tag_rows(&found), [("beta".to_string(), 2, 3)]);
}

async fn tags_are_renamed_and_deleted_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    app.tagged("r1", &["old", "keep"]).await;
    app.tagged("r2", &["old"]).await;
    let renamed = app
        .send_json(Method::PATCH, "/api/tags/old", &json!({ "name": "new" }))
        .await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(
        renamed.json::<Value>().await.unwrap(),
        json!({ "name": "new", "links": 2, "visits": 0 })
    );
    assert_eq!(app.json("/api/urls/r2").await["tags"], json!(["new"]));
    let clash = app
        .send_json(Method::PATCH, "/api/tags/new", &json!({ "name": "keep" }))
        .await;
    let problem = assert_problem(clash, 409).await;
    assert_eq!(problem["code"], "tag_exists");
    let missing = app
        .send_json(Method::PATCH, "/api/tags/old", &json!({ "name": "x" }))
        .await;
    assert_problem(missing, 404).await;

    let deleted = app.request(Method::DELETE, "/api/tags/new").await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.json("/api/urls/r1").await["tags"], json!(["keep"]));
    assert_eq!(app.json("/api/urls/r2").await["tags"], json!([]));
    assert_problem(app.request(Method::DELETE, "/api/tags/new").await, 404).await;
}

async fn tag_stats_have_the_shape_of_a_links(backend: Backend) {
    let app = spawn_app(backend).await;
    app.tagged("s1", &["t"]).await;
    app.tagged("s2", &["t"]).await;
    app.tagged("s3", &[]).await;
    for slug in ["s1", "s2", "s2", "s3"] {
        app.follow(slug).await;
    }
    app.wait_for_visits(4).await;
    let stats = app.json("/api/tags/t/stats?bots=true").await;
    assert_eq!(stats["tag"], "t");
    assert_eq!(stats["total_visits"], 3);
    let link = app.json("/api/urls/s1/stats?bots=true").await;
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.retain(|k| k != "tag" && k != "slug");
        keys.sort();
        keys
    };
    assert_eq!(keys(&stats), keys(&link));
    assert_problem(app.get("/api/tags/nope/stats").await, 404).await;
    assert_problem(app.get("/api/tags/t/stats?top=0").await, 422).await;
}

async fn editors_see_and_change_only_their_own_links_tags(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let (admin, editor, viewer) = (
        app.api_key(Role::Admin).await,
        app.api_key(Role::Editor).await,
        app.api_key(Role::Viewer).await,
    );
    let create = |key: &str, slug: &str, tags: &[&str]| {
        app.with_key(Method::POST, "/api/urls", key)
            .json(&json!({ "url": "https://example.com/", "slug": slug, "tags": tags }))
            .send()
    };
    assert_eq!(
        create(&admin, "a1", &["shared", "admins"])
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        create(&editor, "e1", &["shared", "mine"])
            .await
            .unwrap()
            .status(),
        201
    );

    let app = &app;
    let list = |key: String| async move {
        let response = app
            .with_key(Method::GET, "/api/tags", &key)
            .send()
            .await
            .unwrap();
        tag_rows(&response.json().await.unwrap())
    };
    assert_eq!(
        list(editor.clone()).await,
        [("mine".to_string(), 1, 0), ("shared".to_string(), 1, 0)]
    );
    assert_eq!(list(viewer.clone()).await.len(), 3);
    let filtered = app
        .with_key(Method::GET, "/api/urls?tag=shared", &editor)
        .send()
        .await
        .unwrap();
    let filtered: Value = filtered.json().await.unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);

    let rename = |key: &str, tag: &str, to: &str| {
        app.with_key(Method::PATCH, &format!("/api/tags/{tag}"), key)
            .json(&json!({ "name": to }))
            .send()
    };
    assert_problem(rename(&viewer, "mine", "x").await.unwrap(), 403).await;
    assert_problem(rename(&editor, "shared", "x").await.unwrap(), 403).await;
    assert_problem(rename(&editor, "admins", "x").await.unwrap(), 404).await;
    assert_eq!(rename(&editor, "mine", "ours").await.unwrap().status(), 200);
    let delete = |key: &str, tag: &str| {
        app.with_key(Method::DELETE, &format!("/api/tags/{tag}"), key)
            .send()
    };
    assert_problem(delete(&viewer, "ours").await.unwrap(), 403).await;
    assert_problem(delete(&editor, "shared").await.unwrap(), 403).await;
    assert_eq!(delete(&editor, "ours").await.unwrap().status(), 204);
    assert_eq!(delete(&admin, "shared").await.unwrap().status(), 204);
    let stats = app
        .with_key(Method::GET, "/api/tags/admins/stats", &editor)
        .send()
        .await
        .unwrap();
    assert_problem(stats, 404).await;
}

async fn bad_tags_are_422_naming_the_field(backend: Backend) {
    let app = &spawn_app(backend).await;
    let field = |body: Value| async move {
        let response = app.create_url(body).await;
        let problem = assert_problem(response, 422).await;
        problem["errors"][0]["field"].as_str().unwrap().to_owned()
    };
    let url = "https://example.com/";
    assert_eq!(
        field(json!({ "url": url, "tags": ["ok", "ok", "Bad"] })).await,
        "tags[2]"
    );
    assert_eq!(field(json!({ "url": url, "tags": [""] })).await, "tags[0]");
    assert_eq!(
        field(json!({ "url": url, "tags": ["x".repeat(65)] })).await,
        "tags[0]"
    );
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    assert_eq!(field(json!({ "url": url, "tags": many })).await, "tags");
    assert_eq!(field(json!({ "url": url, "tags": "a" })).await, "tags");
    assert_eq!(field(json!({ "url": url, "tags": [1] })).await, "tags[0]");

    app.tagged("b1", &["fine"]).await;
    let patched = app.patch_url("b1", json!({ "tags": ["a b"] })).await;
    assert_eq!(
        assert_problem(patched, 422).await["errors"][0]["field"],
        "tags[0]"
    );
    let patched = app.patch_url("b1", json!({ "tags": null })).await;
    assert_eq!(
        assert_problem(patched, 422).await["errors"][0]["field"],
        "tags"
    );
    assert_eq!(app.json("/api/urls/b1").await["tags"], json!(["fine"]));

    for (query, field) in [
        ("tag=UPPER", "tag[0]"),
        ("tag=a&tag=", "tag[1]"),
        ("tags=all", "tags"),
        ("tag=a&tags=some", "tags"),
        ("tag=a&tags=all&tags=any", "tags"),
    ] {
        let response = app.get(&format!("/api/urls?{query}")).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    for (query, field) in [
        ("cursor=nope", "cursor"),
        ("limit=0", "limit"),
        (&format!("q={}", "a".repeat(65)), "q"),
    ] {
        let response = app.get(&format!("/api/tags?{query}")).await;
        assert_eq!(
            assert_problem(response, 422).await["errors"][0]["field"],
            field
        );
    }
    for body in [
        json!({ "name": "Bad" }),
        json!({ "name": "" }),
        json!({ "nom": "x" }),
    ] {
        let response = app.send_json(Method::PATCH, "/api/tags/fine", &body).await;
        assert_problem(response, 422).await;
    }
    let response = app
        .send_json(Method::PATCH, "/api/tags/fine", &json!({ "name": "a/b" }))
        .await;
    assert_eq!(
        assert_problem(response, 422).await["errors"][0]["field"],
        "name"
    );
    assert_problem(app.get("/api/tags/NOT%20A%20TAG/stats").await, 404).await;
}

crate::on_both_backends!(
    links_carry_tags_set_on_create_and_replaced_on_patch,
    lists_filter_by_any_or_all_tags_page_by_page,
    tags_are_listed_searched_and_counted,
    tags_are_renamed_and_deleted_everywhere,
    tag_stats_have_the_shape_of_a_links,
    editors_see_and_change_only_their_own_links_tags,
    bad_tags_are_422_naming_the_field,
);
