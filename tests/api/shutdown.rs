//! Graceful shutdown: every redirect answered has its visit stored.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::database::TestDatabase;
use crate::helpers::{spawn_app_with, stored_visits, Backend};

async fn stopping_drains_the_visit_queue(backend: Backend) {
    // A slow flush keeps the visits queued until the stop.
    let app = spawn_app_with(backend, |s| {
        s.visits.flush_interval_ms = 60_000;
        s.visits.batch_size = 10_000;
    })
    .await;
    let slug = app.new_slug("https://example.com/").await;
    const N: usize = 200;
    let mut clicks = Vec::new();
    for _ in 0..N {
        let client = app.client.clone();
        let url = app.url(&format!("/{slug}"));
        clicks.push(tokio::spawn(async move {
            client.get(url).send().await.unwrap().status()
        }));
    }
    for click in clicks {
        assert_eq!(click.await.unwrap(), 302);
    }
    let stopped = app.stop().await;
    assert_eq!(stored_visits(stopped.store.as_ref()).await, N);
}

/// The real binary, stopped with SIGTERM after answering N redirects, has stored N visits.
async fn sigterm_stops_the_binary_without_losing_visits(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kurz"))
        .env("DATABASE_URL", &database.url)
        .env("KURZ_ENV", "development")
        .env("KURZ__SERVER__PORT", port.to_string())
        .env("KURZ__VISITS__FLUSH_INTERVAL_MS", "60000")
        .env("KURZ__VISITS__BATCH_SIZE", "100000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("kurz starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Wait for readiness by polling /readyz (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "kurz did not become ready"
        );
        assert!(child.try_wait().unwrap().is_none(), "kurz exited early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let created: serde_json::Value = client
        .post(format!("{base}/api/urls"))
        .json(&serde_json::json!({ "url": "https://example.com/", "slug": "sig" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["slug"], "sig");
    const N: usize = 150;
    for _ in 0..N {
        let status = client
            .get(format!("{base}/sig"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 302);
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "kurz exits cleanly on SIGTERM: {status}");

    let mut settings =
        kurz::config::Settings::defaults(kurz::config::Environment::Development).unwrap();
    settings.database.url = database.url.clone();
    let store = kurz::store::connect(&settings.database).await.unwrap();
    assert_eq!(stored_visits(store.as_ref()).await, N);
}

crate::on_both_backends!(
    stopping_drains_the_visit_queue,
    sigterm_stops_the_binary_without_losing_visits,
);
