//! The URLVisit resource.

use crate::helpers::{assert_problem, spawn_app, Backend};

async fn visits_of_an_unknown_url_are_404_or_422(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(app.get("/api/urls/nope/visits").await, 404).await;
    let problem = assert_problem(app.get("/api/visits?url=nope").await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "url");
    let problem = assert_problem(app.get("/api/visits?url=bad%20slug").await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "url");
}

async fn the_visits_of_one_url_take_no_url_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    let problem = assert_problem(
        app.get(&format!("/api/urls/{slug}/visits?url={slug}"))
            .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "url");
    let problem = assert_problem(
        app.get(&format!("/api/urls/{slug}/visits?from=2026-02-30"))
            .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "from");
}

async fn the_far_future_bounds_the_same_on_both_backends(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    assert_eq!(app.follow(&slug).await.status(), 302);
    app.wait_for_visits(1).await;
    let count = |body: serde_json::Value| body["items"].as_array().unwrap().len();
    for open_end in ["9999-12-31", "9999-12-31T23:00:00-05:00"] {
        let query = format!("/api/visits?to={}", open_end.replace('+', "%2B"));
        assert_eq!(count(app.json(&query).await), 1, "{query}");
    }
    assert_eq!(count(app.json("/api/visits?from=9999-12-31").await), 0);
}

// The bounds of a time filter as each backend compares timestamps.
crate::on_both_backends!(the_far_future_bounds_the_same_on_both_backends,);

crate::on_sqlite!(
    visits_of_an_unknown_url_are_404_or_422,
    the_visits_of_one_url_take_no_url_parameter,
);
