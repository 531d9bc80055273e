//! Graceful shutdown: every redirect answered has its visit stored.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::database::TestDatabase;
use crate::helpers::{spawn_app_with, stored_visits, Backend};
use crate::process::KurzProcess;

async fn stopping_drains_the_visit_queue(backend: Backend) {
    // A slow flush keeps the visits queued until the stop.
    let app = spawn_app_with(backend, |s| {
        s.visits.flush_interval_ms = 60_000;
        s.visits.batch_size = 10_000.try_into().unwrap();
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

/// The real kurz binary on a free port, ready, with the short link `sig` created; a slow
/// flush keeps the visits queued until the stop.
async fn start_binary(database: &TestDatabase) -> KurzProcess {
    let binary = KurzProcess::start(
        database,
        &[
            ("KURZ__VISITS__FLUSH_INTERVAL_MS", "60000"),
            ("KURZ__VISITS__BATCH_SIZE", "100000"),
        ],
    )
    .await;
    let created: serde_json::Value = binary
        .client
        .post(binary.url("/api/urls"))
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
    let binary = start_binary(&database).await;
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
    let binary = start_binary(&database).await;
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
