//! Graceful shutdown: every redirect answered has its visit stored.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

/// The real kurz binary on a free port, ready, with the short link `sig` created.
struct Binary {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Binary {
    async fn start(database: &TestDatabase) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_kurz"))
            .env("DATABASE_URL", &database.url)
            .env("KURZ_ENV", "development")
            .env("KURZ__SERVER__PORT", port.to_string())
            .env("KURZ__VISITS__FLUSH_INTERVAL_MS", "60000")
            .env("KURZ__VISITS__BATCH_SIZE", "100000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("kurz starts");
        let mut binary = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        // Wait for readiness by polling /readyz (bounded).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while binary
            .client
            .get(format!("{}/readyz", binary.base))
            .send()
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "kurz did not become ready"
            );
            assert!(
                binary.child.try_wait().unwrap().is_none(),
                "kurz exited early"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let created: serde_json::Value = binary
            .client
            .post(format!("{}/api/urls", binary.base))
            .json(&serde_json::json!({ "url": "https://example.com/", "slug": "sig" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(created["slug"], "sig");
        binary
    }

    /// Sends SIGTERM and waits for a clean exit.
    async fn terminate(self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let mut child = self.child;
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "kurz exits cleanly on SIGTERM: {status}");
    }
}

async fn visits_stored_in(database: &TestDatabase) -> usize {
    let mut settings =
        kurz::config::Settings::defaults(kurz::config::Environment::Development).unwrap();
    settings.database.url = database.url.clone();
    let store = kurz::store::connect(&settings.database).await.unwrap();
    stored_visits(store.as_ref()).await
}

/// The real binary, stopped with SIGTERM after answering N redirects, has stored N visits.
async fn sigterm_stops_the_binary_without_losing_visits(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let binary = Binary::start(&database).await;
    const N: usize = 150;
    for _ in 0..N {
        let status = binary
            .client
            .get(format!("{}/sig", binary.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 302);
    }
    binary.terminate().await;
    assert_eq!(visits_stored_in(&database).await, N);
}

/// SIGTERM in the middle of a concurrent redirect load: every redirect that was answered has
/// its visit stored.
async fn sigterm_under_load_keeps_every_answered_visit(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let binary = Binary::start(&database).await;
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..8 {
        let client = binary.client.clone();
        let url = format!("{}/sig", binary.base);
        let answered = answered.clone();
        clients.push(tokio::spawn(async move {
            // Until the server is gone (bounded in time either way).
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while tokio::time::Instant::now() < deadline {
                match client.get(&url).send().await {
                    Ok(response) if response.status() == 302 => {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(response) => panic!("unexpected {}", response.status()),
                    Err(_) => return,
                }
            }
        }));
    }
    // Let the load build up, then stop kurz in the middle of it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while answered.load(Ordering::SeqCst) < 300 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the load never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    binary.terminate().await;
    for client in clients {
        client.await.unwrap();
    }
    let answered = answered.load(Ordering::SeqCst);
    assert!(answered >= 300);
    assert_eq!(visits_stored_in(&database).await, answered);
}

crate::on_both_backends!(
    stopping_drains_the_visit_queue,
    sigterm_stops_the_binary_without_losing_visits,
    sigterm_under_load_keeps_every_answered_visit,
);
