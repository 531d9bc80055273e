//! Faults: kurz starts while its database is unreachable, says so, and recovers by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kurz::config::{Environment, Settings};
use kurz::startup::Application;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

use crate::common::database::{Backend, TestDatabase};
use crate::helpers::assert_problem;

/// A TCP door in front of PostgreSQL: while shut it hangs up on every connection.
struct Door {
    port: u16,
    open: Arc<AtomicBool>,
}

impl Door {
    async fn shut_in_front_of(upstream: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(false));
        let is_open = open.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !is_open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { port, open }
    }

    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_without_the_database_and_serves_once_it_answers() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let mut url = url::Url::parse(&database.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .unwrap()
        .next()
        .unwrap();
    let door = Door::shut_in_front_of(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(door.port)).unwrap();

    let mut settings = Settings::defaults(Environment::Development).unwrap();
    settings.server.port = 0;
    settings.database.url = url.to_string();
    settings.database.acquire_timeout_secs = 1;
    let app = Application::build(settings)
        .await
        .expect("kurz starts without its database");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Up, not ready.
    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.headers()["retry-after"], "5");
    assert_problem(ready, 503).await;
    let create = client
        .post(format!("{base}/api/urls"))
        .json(&json!({ "url": "https://example.com/" }))
        .send()
        .await
        .unwrap();
    assert_problem(create, 503).await;
    assert_problem(
        client
            .get(format!("{base}/some-slug"))
            .send()
            .await
            .unwrap(),
        503,
    )
    .await;

    // The database comes up: kurz migrates and serves without a restart.
    door.open();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "kurz never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = client
        .post(format!("{base}/api/urls"))
        .json(&json!({ "url": "https://example.com/", "slug": "after" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let redirect = client.get(format!("{base}/after")).send().await.unwrap();
    assert_eq!(redirect.status(), 302);
    server.abort();
}
