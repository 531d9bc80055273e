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

async fn visits_of_deleted_urls_in_flight_are_skipped_not_failed(backend: Backend) {
    let app = spawn_app(backend).await;
    let keep = app.new_url("https://example.com/keep").await["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = app.new_url("https://example.com/gone").await["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone_id = app
        .store
        .resolve(&kurz::domain::Slug::for_lookup(&gone).unwrap())
        .await
        .unwrap()
        .unwrap()
        .url_id;
    app.delete_url(&gone).await;
    // A batch that mixes a live URL and one deleted since its click was queued.
    let visit = |url_id| kurz::store::NewVisit {
        url_id,
        visited_at: chrono::Utc::now(),
        client_ip: None,
        user_agent: None,
        referrer: None,
        referrer_host: None,
        browser: None,
        os: None,
        device: None,
        is_bot: false,
    };
    let keep_id = app
        .store
        .resolve(&kurz::domain::Slug::for_lookup(&keep).unwrap())
        .await
        .unwrap()
        .unwrap()
        .url_id;
    let stored = app
        .store
        .record_visits(&[visit(keep_id), visit(gone_id), visit(keep_id)])
        .await
        .unwrap();
    assert_eq!(stored, 2);
    assert_eq!(
        app.json(&format!("/api/urls/{keep}")).await["visit_count"],
        2
    );
}

crate::on_both_backends!(
    visits_of_an_unknown_url_are_404_or_422,
    visits_of_deleted_urls_in_flight_are_skipped_not_failed,
);
