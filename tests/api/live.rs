//! Live visits: `GET /api/visits/live` and `GET /api/urls/{slug}/visits/live`, over
//! Server-Sent Events and WebSockets, in one process.

use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use kurz::domain::Role;
use reqwest::Method;

use crate::helpers::{
    assert_problem, spawn_app, spawn_app_with, spawn_locked_app, Backend, TestApp,
};
use crate::streams::{open_ws, ws_next, ws_next_of, Sse, WsEvent};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";

async fn click(app: &TestApp, slug: &str) {
    let response = app
        .client
        .get(app.url(&format!("/{slug}")))
        .header("user-agent", FIREFOX)
        .header("referer", "https://news.example.org/item")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
}

/// A redirect's visit arrives on SSE and on a WebSocket, enriched, as the visit list shows it,
/// after a first message with the totals.
async fn a_redirects_visit_arrives_on_sse_and_websocket(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/live").await;
    click(&app, &slug).await;
    app.wait_for_visits(1).await;

    let mut sse = Sse::open(&app.client, &app.url("/api/visits/live")).await;
    let mut ws = open_ws(&app.url(&format!("/api/urls/{slug}/visits/live"))).await;
    let totals = sse.next_of("totals").await;
    assert_eq!(
        totals,
        serde_json::json!({"type": "totals", "visits": 1, "url": null})
    );
    let WsEvent::Json(totals) = ws_next(&mut ws).await else {
        panic!("a first message")
    };
    assert_eq!(
        totals,
        serde_json::json!({"type": "totals", "visits": 1, "url": slug})
    );

    click(&app, &slug).await;
    app.wait_for_visits(2).await;
    let listed = app.json("/api/visits?limit=1").await;
    let newest = listed["items"][0]["id"].clone();
    // The first click's visit may still be on its way to the streams when they open (a
    // slow relay under load): skip to the second click's.
    let mut over_sse = sse.next_of("visit").await;
    while over_sse["visit"]["id"] != newest {
        over_sse = sse.next_of("visit").await;
    }
    let mut over_ws = ws_next_of(&mut ws, "visit").await;
    while over_ws["visit"]["id"] != newest {
        over_ws = ws_next_of(&mut ws, "visit").await;
    }
    assert_eq!(over_sse, over_ws);
    let visit = &over_sse["visit"];
    assert_eq!(visit["url"], slug.as_str());
    assert_eq!(visit["browser"], "Firefox");
    assert_eq!(visit["os"], "Linux");
    assert_eq!(visit["device"], "desktop");
    assert_eq!(visit["is_bot"], false);
    assert_eq!(visit["referrer_host"], "news.example.org");
    assert_eq!(
        &listed["items"][0], visit,
        "the same object as the visit list"
    );
}

/// A URL's stream shows that URL's visits only.
async fn a_urls_stream_shows_only_that_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let watched = app.new_slug("https://example.com/watched").await;
    let other = app.new_slug("https://example.com/other").await;
    let mut sse = Sse::open(
        &app.client,
        &app.url(&format!("/api/urls/{watched}/visits/live")),
    )
    .await;
    assert_eq!(sse.next_of("totals").await["visits"], 0);
    click(&app, &other).await;
    click(&app, &other).await;
    click(&app, &watched).await;
    let visit = sse.next_of("visit").await;
    assert_eq!(visit["visit"]["url"], watched.as_str());
}

async fn an_unknown_slug_is_a_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/api/urls/no-such-slug/visits/live").await;
    assert_problem(response, 404).await;
    let url = app
        .url("/api/urls/no-such-slug/visits/live")
        .replacen("http", "ws", 1);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    let response = app.get("/api/visits/live?token=x").await;
    assert_problem(response, 422).await;
}

/// A client that falls behind is told how many visits it missed, and the stream goes on.
async fn a_client_that_falls_behind_is_told_what_it_missed(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.live.channel_capacity = 1;
        s.visits.flush_interval_ms = 300;
    })
    .await;
    let slug = app.new_slug("https://example.com/burst").await;
    let mut ws = open_ws(&app.url("/api/visits/live")).await;
    ws_next_of(&mut ws, "totals").await;
    const N: u64 = 200;
    let clicks = (0..N).map(|_| click(&app, &slug));
    futures_util::future::join_all(clicks).await;
    let (mut received, mut missed, mut lagged) = (0, 0, 0);
    while received + missed < N {
        let message = match ws_next(&mut ws).await {
            WsEvent::Json(json) => json,
            WsEvent::Closed(code) => panic!("closed: {code:?}"),
        };
        match message["type"].as_str() {
            Some("visit") => received += 1,
            Some("lagged") => {
                lagged += 1;
                missed += message["missed"].as_u64().unwrap();
            }
            _ => panic!("unexpected {message}"),
        }
    }
    assert_eq!(received + missed, N);
    assert!(lagged > 0, "a burst of {N} through a channel of one lags");
    click(&app, &slug).await;
    let visit = ws_next_of(&mut ws, "visit").await;
    assert_eq!(visit["visit"]["url"], slug.as_str());
}

/// A link's stream has a channel of its own: a burst of another link's visits neither wakes
/// it nor makes it lag; the next visit of its own link comes first, with no `lagged` notice.
async fn other_links_bursts_do_not_make_a_links_stream_lag(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.live.channel_capacity = 1;
        s.visits.flush_interval_ms = 300;
    })
    .await;
    let watched = app.new_slug("https://example.com/watched").await;
    let busy = app.new_slug("https://example.com/busy").await;
    let mut ws = open_ws(&app.url(&format!("/api/urls/{watched}/visits/live"))).await;
    ws_next_of(&mut ws, "totals").await;
    let clicks = (0..100).map(|_| click(&app, &busy));
    futures_util::future::join_all(clicks).await;
    app.wait_for_visits(100).await;
    click(&app, &watched).await;
    let WsEvent::Json(next) = ws_next(&mut ws).await else {
        panic!("the stream closed")
    };
    assert_eq!(next["type"], "visit", "{next}");
    assert_eq!(next["visit"]["url"], watched.as_str());
}

/// Shutdown ends SSE streams and closes WebSockets with 1001, and the server stops.
async fn shutdown_closes_every_stream(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut sse = Sse::open(&app.client, &app.url("/api/visits/live")).await;
    let mut ws = open_ws(&app.url("/api/visits/live")).await;
    sse.next_of("totals").await;
    ws_next_of(&mut ws, "totals").await;
    let stopping = tokio::spawn(app.stop());
    assert!(sse.next().await.is_none(), "the SSE stream ends");
    match ws_next(&mut ws).await {
        WsEvent::Closed(code) => assert_eq!(code, Some(CloseCode::Away)),
        WsEvent::Json(json) => panic!("unexpected {json}"),
    }
    tokio::time::timeout(std::time::Duration::from_secs(10), stopping)
        .await
        .expect("the server stops with streams open")
        .unwrap();
}

/// Past `live.max_subscribers` streams, a new one is refused with 503.
async fn subscribers_are_bounded(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.live.max_subscribers = 1.try_into().unwrap()).await;
    let mut first = Sse::open(&app.client, &app.url("/api/visits/live")).await;
    first.next_of("totals").await;
    let response = app
        .client
        .get(app.url("/api/visits/live"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let body: Value = assert_problem(response, 503).await;
    assert!(body["detail"].is_string());
}

/// SSE heartbeats are comment lines; an open stream outlives the header read deadline (which
/// only bounds reading a request's headers).
async fn idle_sse_streams_get_heartbeats(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.live.heartbeat_secs = 1.try_into().unwrap();
        s.server.header_read_timeout_secs = 1.try_into().unwrap();
    })
    .await;
    let slug = app.new_slug("https://example.com/quiet").await;
    let mut sse = Sse::open(&app.client, &app.url("/api/visits/live")).await;
    sse.next_of("totals").await;
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    click(&app, &slug).await;
    sse.next_of("visit").await;
    assert!(sse.comments >= 2, "{} heartbeats", sse.comments);
}

/// Creates a short link with `key`; returns its slug.
async fn create_with(app: &TestApp, key: &str, target: &str) -> String {
    let response = app
        .with_key(Method::POST, "/api/urls", key)
        .json(&serde_json::json!({ "url": target }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["slug"].as_str().unwrap().to_owned()
}

/// With anonymous use off the streams need a key, in a header or (for browsers) in
/// `access_token`; an editor's stream of all visits shows its own links only, and a viewer's
/// every link.
async fn streams_need_a_key_and_editors_see_their_own_links(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let alice = app.api_key(Role::Editor).await;
    let bob = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    let hers = create_with(&app, &alice, "https://alice.example/").await;
    let his = create_with(&app, &bob, "https://bob.example/").await;

    let anonymous = app
        .client
        .get(app.url("/api/visits/live"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(assert_problem(anonymous, 401).await["code"], "unauthorized");
    let wrong = app
        .client
        .get(app.url("/api/visits/live?access_token=kurz_nope"))
        .send()
        .await
        .unwrap();
    assert_problem(wrong, 401).await;
    let not_his = app
        .with_key(Method::GET, &format!("/api/urls/{hers}/visits/live"), &bob)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(assert_problem(not_his, 403).await["code"], "forbidden");

    let mut editor = Sse::open(
        &app.client,
        &app.url(&format!("/api/visits/live?access_token={alice}")),
    )
    .await;
    let mut everyone = Sse::open(
        &app.client,
        &app.url(&format!("/api/visits/live?access_token={viewer}")),
    )
    .await;
    let mut own = open_ws(&app.url(&format!(
        "/api/urls/{hers}/visits/live?access_token={alice}"
    )))
    .await;
    assert_eq!(editor.next_of("totals").await["visits"], 0);
    assert_eq!(everyone.next_of("totals").await["visits"], 0);
    assert_eq!(ws_next_of(&mut own, "totals").await["url"], hers.as_str());

    click(&app, &his).await;
    click(&app, &hers).await;
    assert_eq!(editor.next_of("visit").await["visit"]["url"], hers.as_str());
    assert_eq!(
        ws_next_of(&mut own, "visit").await["visit"]["url"],
        hers.as_str()
    );
    // The two links' visits may be written by parallel parts of a batch, in either order.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let visit = everyone.next_of("visit").await;
        seen.push(visit["visit"]["url"].as_str().unwrap().to_owned());
    }
    seen.sort();
    let mut both = vec![hers.clone(), his.clone()];
    both.sort();
    assert_eq!(seen, both);
    app.wait_for_visits(2).await;

    // A new editor stream starts from the visits of the editor's own links.
    let mut again = Sse::open(
        &app.client,
        &app.url(&format!("/api/visits/live?access_token={alice}")),
    )
    .await;
    assert_eq!(again.next_of("totals").await["visits"], 1);
}

crate::on_sqlite!(
    streams_need_a_key_and_editors_see_their_own_links,
    a_redirects_visit_arrives_on_sse_and_websocket,
    a_urls_stream_shows_only_that_url,
    an_unknown_slug_is_a_404,
    a_client_that_falls_behind_is_told_what_it_missed,
    other_links_bursts_do_not_make_a_links_stream_lag,
    shutdown_closes_every_stream,
    subscribers_are_bounded,
    idle_sse_streams_get_heartbeats,
);
