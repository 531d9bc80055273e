//! Request limits: URI length (414), header size (431), requests in flight (503 at once).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{assert_problem, spawn_app_with, Backend};

async fn oversized_uris_and_headers_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.max_uri_bytes = 300;
        s.server.max_header_bytes = 1024;
    })
    .await;
    let long_query = format!("/api/urls?cursor={}", "a".repeat(400));
    let problem = assert_problem(app.get(&long_query).await, 414).await;
    assert_eq!(problem["code"], "uri_too_long");
    let big_header = app
        .client
        .get(app.url("/api/urls"))
        .header("x-padding", "p".repeat(2000))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(big_header, 431).await["code"],
        "headers_too_large"
    );
    // Ordinary requests pass.
    assert_eq!(app.get("/api/urls").await.status(), 200);
}

async fn requests_beyond_the_concurrency_limit_are_shed(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.max_concurrent_requests = 1.try_into().unwrap()
    })
    .await;
    let slug = app.new_slug("https://example.com/").await;
    let address = app.address.trim_start_matches("http://").to_owned();
    // A request that holds its slot: headers announce a body that never comes. A probe that
    // is in flight when it arrives sheds it instead, so each attempt lets it settle first and
    // starts over with a fresh stalled request if it was the one refused.
    let mut attempts = 0;
    let stalled = loop {
        attempts += 1;
        assert!(attempts <= 20, "the stalled request never took the slot");
        let mut stalled = TcpStream::connect(&address).await.unwrap();
        stalled
            .write_all(
                b"POST /api/urls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The redirect lane (short links, /healthz) is not counted; the API is.
        let response = app.get("/api").await;
        if response.status() == 503 {
            assert!(response.headers().contains_key("retry-after"));
            assert_eq!(assert_problem(response, 503).await["code"], "overloaded");
            break stalled;
        }
        assert_eq!(response.status(), 200);
    };
    // Redirects and /healthz take the redirect lane, which the bound does not count.
    assert_eq!(app.follow(&slug).await.status(), 302);
    assert_eq!(app.get("/healthz").await.status(), 200);
    drop(stalled);
    // Once it is gone the slot is free again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.get("/api").await.status() != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never released"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn the_html_not_found_page_is_locked_down(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let page = app
        .client
        .get(app.url("/nope"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
}

/// Half a request's headers, then nothing (a slow-loris client).
async fn stall_in_headers(address: &str) -> TcpStream {
    let mut stalled = TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stalled
        .write_all(b"GET /api/urls HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    stalled
}

async fn a_client_stalling_in_its_headers_is_disconnected(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.header_read_timeout_secs = 1.try_into().unwrap()
    })
    .await;
    let mut stalled = stall_in_headers(&app.address).await;
    let mut idle = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    for (name, stream) in [("stalled", &mut stalled), ("idle", &mut idle)] {
        let mut answer = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("the {name} connection was still open after 10 s"));
        assert!(closed.is_ok(), "{name}: {closed:?}");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{name}: {answer}"
        );
    }
    assert_eq!(app.get("/api/urls").await.status(), 200);
}

async fn shutdown_waits_for_a_stalled_client_only_its_grace(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.header_read_timeout_secs = 600.try_into().unwrap();
        s.server.shutdown_grace_secs = 1;
    })
    .await;
    let stalled = stall_in_headers(&app.address).await;
    tokio::time::timeout(Duration::from_secs(15), app.stop())
        .await
        .expect("the server stopped within its grace, not when the client gave up");
    drop(stalled);
}

crate::on_sqlite!(
    a_client_stalling_in_its_headers_is_disconnected,
    shutdown_waits_for_a_stalled_client_only_its_grace,
    oversized_uris_and_headers_are_refused,
    requests_beyond_the_concurrency_limit_are_shed,
    the_html_not_found_page_is_locked_down,
);
