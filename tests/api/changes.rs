//! A link changed by a management command reaches a running server within a second, on both
//! backends: the real `kurz` binary serves, another `kurz` process changes the database (as
//! `docker exec <container> kurz ...` does), and the server's redirect cache follows.

use std::process::Command;
use std::time::Duration;

use crate::common::database::{Backend, TestDatabase};
use crate::process::KurzProcess;

/// The longest a change may take to reach a running server.
const WITHIN: Duration = Duration::from_secs(1);

/// Runs `kurz <args>` on `database` as a separate process, and expects success.
fn kurz(database: &TestDatabase, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kurz"))
        .args(args)
        .env("DATABASE_URL", &database.url)
        .env("KURZ_ENV", "development")
        .env("RUST_LOG", "warn")
        .output()
        .expect("kurz runs");
    assert!(
        output.status.success(),
        "kurz {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Status and `Location` of `GET /{slug}`.
async fn follow(server: &KurzProcess, slug: &str) -> (u16, Option<String>) {
    let response = server
        .client
        .get(server.url(&format!("/{slug}")))
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (response.status().as_u16(), location)
}

/// Polls `GET /{slug}` until it answers `expected`; fails after [`WITHIN`].
async fn expect_within(server: &KurzProcess, slug: &str, expected: (u16, Option<&str>)) {
    let started = tokio::time::Instant::now();
    loop {
        let (status, location) = follow(server, slug).await;
        if (status, location.as_deref()) == expected {
            return;
        }
        assert!(
            started.elapsed() < WITHIN,
            "/{slug} still answers {status} {location:?} {WITHIN:?} after the change, \
             expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn commands_reach_a_running_server(backend: Backend, env: &[(&str, &str)]) {
    let database = TestDatabase::create(backend).await;
    let server = KurzProcess::start(&database, env).await;
    let created = server
        .client
        .post(server.url("/api/urls"))
        .json(&serde_json::json!({"url": "https://example.com/before", "slug": "phish"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // Both answers are cached now: the redirect for 300 s, the unknown slug for a while.
    assert_eq!(
        follow(&server, "phish").await,
        (302, Some("https://example.com/before".into()))
    );
    assert_eq!(follow(&server, "later").await.0, 404);

    kurz(
        &database,
        &[
            "url",
            "update",
            "phish",
            "--url",
            "https://example.com/after",
        ],
    );
    expect_within(&server, "phish", (302, Some("https://example.com/after"))).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("links.csv");
    std::fs::write(&file, "url,slug\nhttps://example.com/later,later\n").unwrap();
    kurz(&database, &["import", file.to_str().unwrap()]);
    expect_within(&server, "later", (302, Some("https://example.com/later"))).await;

    kurz(&database, &["url", "delete", "phish", "--yes"]);
    expect_within(&server, "phish", (404, None)).await;
}

/// The server reads the change log every `cluster.poll_interval_ms` (250 ms by default): a
/// command's update, import and delete count within a second.
async fn command_changes_reach_the_server_through_the_change_log(backend: Backend) {
    commands_reach_a_running_server(backend, &[]).await;
}

crate::on_both_backends!(command_changes_reach_the_server_through_the_change_log);

/// On PostgreSQL a command also `NOTIFY`s: with the log read only once a minute, a server in
/// the cluster still follows within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_notifies_servers_listening_on_postgres() {
    commands_reach_a_running_server(
        Backend::Postgres,
        &[
            ("KURZ__CLUSTER__BACKEND", "postgres"),
            ("KURZ__CLUSTER__POLL_INTERVAL_MS", "60000"),
        ],
    )
    .await;
}
