//! Several kurz processes on one PostgreSQL database with `cluster.backend = "postgres"`: live
//! visits and redirect cache evictions cross instances through LISTEN/NOTIFY.

use std::time::Duration;

use sqlx::Connection;

use crate::common::database::{Backend, TestDatabase};
use crate::process::KurzProcess;
use crate::streams::{open_ws, ws_next_of, Sse};

/// The real kurz binary on a free port, in the cluster, ready.
struct Instance(KurzProcess);

impl std::ops::Deref for Instance {
    type Target = KurzProcess;
    fn deref(&self) -> &KurzProcess {
        &self.0
    }
}

impl Instance {
    async fn start(database: &TestDatabase) -> Self {
        Self(
            KurzProcess::start(
                database,
                &[
                    ("KURZ__CLUSTER__BACKEND", "postgres"),
                    ("KURZ__VISITS__FLUSH_INTERVAL_MS", "20"),
                ],
            )
            .await,
        )
    }

    async fn create(&self, slug: &str, target: &str) {
        let response = self
            .client
            .post(self.url("/api/urls"))
            .json(&serde_json::json!({ "url": target, "slug": slug }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    async fn location(&self, slug: &str) -> String {
        let response = self
            .client
            .get(self.url(&format!("/{slug}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Polls until `slug` redirects to `target`; returns how long that took.
    async fn wait_for_location(&self, slug: &str, target: &str, limit: Duration) -> Duration {
        let started = tokio::time::Instant::now();
        loop {
            if self.location(slug).await == target {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < limit,
                "{} still redirects {slug} elsewhere than {target} after {limit:?}",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn two_instances() -> (TestDatabase, Instance, Instance) {
    let database = TestDatabase::create(Backend::Postgres).await;
    let a = Instance::start(&database).await;
    let b = Instance::start(&database).await;
    (database, a, b)
}

/// Redirects sent to A arrive on a WebSocket and on an SSE stream of B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visits_on_one_instance_stream_from_another() {
    let (_database, a, b) = two_instances().await;
    a.create("across", "https://example.com/across").await;
    let mut ws = open_ws(&b.url("/api/visits/live")).await;
    let mut sse = Sse::open(&b.client, &b.url("/api/urls/across/visits/live")).await;
    assert_eq!(ws_next_of(&mut ws, "totals").await["visits"], 0);
    assert_eq!(sse.next_of("totals").await["visits"], 0);
    for _ in 0..3 {
        assert_eq!(a.location("across").await, "https://example.com/across");
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        let over_ws = ws_next_of(&mut ws, "visit").await;
        let over_sse = sse.next_of("visit").await;
        assert_eq!(over_ws, over_sse);
        assert_eq!(over_ws["visit"]["url"], "across");
        ids.push(over_ws["visit"]["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "three distinct visits, each once");
}

/// A PATCH on A changes where B redirects within a second, though B had the old target cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_on_one_instance_moves_the_redirects_of_another() {
    let (_database, a, b) = two_instances().await;
    a.create("moving", "https://example.com/old").await;
    assert_eq!(b.location("moving").await, "https://example.com/old");
    assert_eq!(b.location("moving").await, "https://example.com/old");
    let response = a
        .client
        .patch(a.url("/api/urls/moving"))
        .json(&serde_json::json!({ "url": "https://example.com/new" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    b.wait_for_location("moving", "https://example.com/new", Duration::from_secs(1))
        .await;
    // And a DELETE ends B's redirect too.
    let response = a
        .client
        .delete(a.url("/api/urls/moving"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let status = b
            .client
            .get(b.url("/moving"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 404 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "B still redirects after a DELETE"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A server whose LISTEN connection was lost catches up from the link change log once it is
/// back: a change whose notice it missed (written with its log row, never notified) is
/// served within a second of the reconnect, though the log is otherwise read once a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_reconnect_catches_up_from_the_change_log() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let b = Instance(
        KurzProcess::start(
            &database,
            &[
                ("KURZ__CLUSTER__BACKEND", "postgres"),
                ("KURZ__CLUSTER__POLL_INTERVAL_MS", "60000"),
            ],
        )
        .await,
    );
    b.create("behind", "https://example.com/before").await;
    assert_eq!(b.location("behind").await, "https://example.com/before");
    let mut connection = sqlx::PgConnection::connect(&database.url).await.unwrap();
    sqlx::query(
        "WITH changed AS (UPDATE urls SET target = 'https://example.com/after' \
             WHERE slug = 'behind' RETURNING slug) \
         INSERT INTO link_changes (slug, changed_at) SELECT slug, now() FROM changed",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    // Cached: the notice was never sent, and the log is read once a minute.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.location("behind").await, "https://example.com/before");
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'kurz-cluster' AND datname = current_database()",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    assert!(
        !terminated.is_empty(),
        "the cluster's connections were found"
    );
    // The listener comes back (its LISTEN is the connection's last statement)...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listening: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE application_name = 'kurz-cluster' AND datname = current_database() \
               AND query ILIKE 'LISTEN%'",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        if listening > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...and the change it missed is read from the log.
    b.wait_for_location(
        "behind",
        "https://example.com/after",
        Duration::from_secs(1),
    )
    .await;
}

/// A visit cap is exact across instances: N + 50 concurrent clicks by people, split between A
/// and B (both with the link cached), give exactly N redirects and N stored visits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_cap_is_exact_across_instances() {
    const N: usize = 30;
    let (database, a, b) = two_instances().await;
    let response = a
        .client
        .post(a.url("/api/urls"))
        .json(&serde_json::json!({
            "url": "https://example.com/drop", "slug": "drop", "max_visits": N
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // Both caches hold the link before the rush (HEAD takes no unit).
    for instance in [&a, &b] {
        let head = instance.client.head(instance.url("/drop")).send().await;
        assert_eq!(head.unwrap().status(), 302);
    }
    let click = |instance: &Instance| {
        instance
            .client
            .get(instance.url("/drop"))
            .header("user-agent", crate::expiry::BROWSER)
            .send()
    };
    let clicks = (0..N + 50).map(|i| click(if i % 2 == 0 { &a } else { &b }));
    let statuses: Vec<u16> = futures_util::future::join_all(clicks)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    let redirected = statuses.iter().filter(|s| **s == 302).count();
    let gone = statuses.iter().filter(|s| **s == 410).count();
    assert_eq!((redirected, gone), (N, 50), "{statuses:?}");
    let mut connection = sqlx::PgConnection::connect(&database.url).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (visits, people): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(v.id), MAX(u.human_visits) FROM urls u \
             LEFT JOIN url_visits v ON v.url_id = u.id WHERE u.slug = 'drop'",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        assert_eq!(people, N as i64, "the cap's count");
        if visits == N as i64 {
            break;
        }
        assert!(visits < N as i64, "{visits} visits stored");
        assert!(
            tokio::time::Instant::now() < deadline,
            "{visits} of {N} visits stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
