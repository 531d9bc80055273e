//! `GET /api/urls/search`: the bounded endpoint behind every URL picker.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, Backend};

async fn search_finds_by_slug_or_host_and_is_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..30 {
        app.create_url(
            json!({ "url": format!("https://shop.example/{i}"), "slug": format!("sale-{i:02}") }),
        )
        .await;
    }
    app.create_url(json!({ "url": "https://blog.example/post", "slug": "post" }))
        .await;

    let found: Value = app.json("/api/urls/search?q=sale-0").await;
    let slugs: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        [
            "sale-00", "sale-01", "sale-02", "sale-03", "sale-04", "sale-05", "sale-06", "sale-07",
            "sale-08", "sale-09"
        ]
    );
    assert_eq!(
        found["items"][0]["short_url"],
        format!("{}/sale-00", app.address)
    );

    let by_host: Value = app.json("/api/urls/search?q=blog.ex").await;
    assert_eq!(by_host["items"][0]["slug"], "post");

    let capped: Value = app.json("/api/urls/search?q=sale&limit=500").await;
    assert_eq!(
        capped["items"].as_array().unwrap().len(),
        20,
        "never more than 20"
    );
    let three: Value = app.json("/api/urls/search?q=sale&limit=3").await;
    assert_eq!(three["items"].as_array().unwrap().len(), 3);
    let none: Value = app.json("/api/urls/search?q=nothing").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
}

async fn search_rejects_bad_queries(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "q".repeat(101);
    for (query, field) in [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        (&*format!("q={long}"), "q"),
        ("q=a%07b", "q"),
        ("q=a&limit=0", "limit"),
        ("q=a&limit=x", "limit"),
        ("q=a&page=2", "page"),
    ] {
        let problem =
            assert_problem(app.get(&format!("/api/urls/search?{query}")).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
}

crate::on_sqlite!(
    search_finds_by_slug_or_host_and_is_bounded,
    search_rejects_bad_queries,
);
