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

/// kurz in-process on `database_url` (one-second pool waits, quick flushes): its base URL, its
/// store, the server task and a client that does not follow redirects.
async fn start_on(
    database_url: &str,
) -> (
    String,
    std::sync::Arc<dyn kurz::store::Store>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
    reqwest::Client,
    std::sync::Arc<kurz::cache::RedirectCache>,
) {
    let mut settings = Settings::defaults(Environment::Development).unwrap();
    settings.server.port = 0;
    settings.database.url = database_url.to_owned();
    settings.database.acquire_timeout_secs = 1;
    settings.visits.flush_interval_ms = 20;
    let app = Application::build(settings)
        .await
        .expect("kurz starts, with or without its database");
    let store = app.store();
    let cache = app.redirect_cache();
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (base, store, server, client, cache)
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

    let (base, _store, server, client, _cache) = start_on(url.as_str()).await;

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

/// A PostgreSQL server of the test's own (initdb in a temporary directory, run as the
/// `postgres` user), so that it can really be stopped and started.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn bin(tool: &str) -> String {
        let versions = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries under /usr/lib/postgresql (apt-get install postgresql)");
        let mut versions: Vec<_> = versions.filter_map(Result::ok).map(|e| e.path()).collect();
        versions.sort();
        let dir = versions.pop().expect("a PostgreSQL version");
        dir.join("bin").join(tool).display().to_string()
    }

    fn as_postgres(args: &[&str]) {
        let status = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("runuser");
        assert!(status.success(), "{args:?} failed");
    }

    fn create() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let owner = std::process::Command::new("chown")
            .args(["-R", "postgres:", &dir.path().display().to_string()])
            .status()
            .unwrap();
        assert!(owner.success());
        let data = dir.path().join("data").display().to_string();
        Self::as_postgres(&[
            &Self::bin("initdb"),
            "-D",
            &data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Self { dir, port };
        server.start();
        server
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        Self::as_postgres(&[
            &Self::bin("pg_ctl"),
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &log,
            "-w",
            "start",
        ]);
    }

    fn stop(&self) {
        Self::as_postgres(&[
            &Self::bin("pg_ctl"),
            "-D",
            &self.data(),
            "-m",
            "fast",
            "-w",
            "stop",
        ]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &Self::bin("pg_ctl"),
                "-D",
                &self.data(),
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// PostgreSQL really stopped and started under load: cached short links keep redirecting,
/// writes answer 503 with Retry-After, and the visits taken meanwhile are written once the
/// database is back, each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_loses_no_visit_and_writes_none_twice() {
    let postgres = PrivatePostgres::create();
    let (base, store, server, client, cache) = start_on(&postgres.url()).await;
    let created = client
        .post(format!("{base}/api/urls"))
        .json(&json!({ "url": "https://example.com/", "slug": "steady" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // Until the change log follower knows where the log stands (a moment after start, longer
    // on a busy machine), the cache is bypassed: click until a click is a cache hit.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut before = 0;
    loop {
        let hits = cache
            .counters()
            .hits
            .load(std::sync::atomic::Ordering::Relaxed);
        let response = client.get(format!("{base}/steady")).send().await.unwrap();
        assert_eq!(response.status(), 302);
        before += 1;
        if cache
            .counters()
            .hits
            .load(std::sync::atomic::Ordering::Relaxed)
            > hits
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the link never came from the cache"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    postgres.stop();
    const DURING: usize = 40;
    for _ in 0..DURING {
        let response = client.get(format!("{base}/steady")).send().await.unwrap();
        assert_eq!(response.status(), 302, "cached links keep redirecting");
    }
    let write = client
        .post(format!("{base}/api/urls"))
        .json(&json!({ "url": "https://example.com/" }))
        .send()
        .await
        .unwrap();
    assert!(write.headers().contains_key("retry-after"));
    assert_problem(write, 503).await;

    postgres.start();
    let expected = DURING + before;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let stored = match store
            .list_visits(
                kurz::store::VisitFilter::default(),
                kurz::store::PageRequest {
                    after: None,
                    limit: 1000,
                },
            )
            .await
        {
            Ok(page) => page.items.len(),
            Err(_) => 0,
        };
        if stored >= expected {
            assert_eq!(stored, expected, "no visit written twice");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {stored} of {expected} visits written after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url: serde_json::Value = client
        .get(format!("{base}/api/urls/steady"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(url["visit_count"], expected);
    server.abort();
}
