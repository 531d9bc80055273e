//! Webhooks: endpoints registered through the API receive signed JSON POSTs of link changes
//! and visit batches. The receivers are local axum servers (so the apps here set
//! `target.allow_private`); what the default policy refuses is shown with it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use kurz::config::Settings;
use kurz::domain::Role;
use kurz::webhooks::{verify, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::helpers::{assert_problem, spawn_app_with, spawn_locked_app, Backend, TestApp};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
    /// What the receiver answered.
    answered: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A local webhook receiver: answers 500 to its first `fail_first` requests and while `down`,
/// 204 otherwise, recording every request.
#[derive(Clone)]
struct Receiver {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    down: Arc<AtomicBool>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("an address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicUsize::new(fail_first));
        let (log, is_down) = (received.clone(), down.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (log, is_down, failures) = (log.clone(), is_down.clone(), failures.clone());
                async move {
                    let failing = is_down.load(Ordering::SeqCst)
                        || failures
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                    let status = if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    };
                    log.lock().unwrap().push(Received {
                        headers,
                        body,
                        answered: status.as_u16(),
                    });
                    status
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            address,
            received,
            down,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests answered 2xx, one per delivery id (repeats dropped, as a receiver
    /// would), in arrival order.
    fn accepted(&self) -> Vec<Received> {
        let mut seen = HashSet::new();
        self.all()
            .into_iter()
            .filter(|r| r.answered < 300)
            .filter(|r| seen.insert(r.headers[DELIVERY_HEADER].to_str().unwrap().to_owned()))
            .collect()
    }

    /// Waits until `done` holds for the accepted requests (15 s at most).
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let accepted = self.accepted();
            if done(&accepted) {
                return accepted;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within 15 s; received {:?}",
                self.all()
                    .iter()
                    .map(|r| (r.answered, String::from_utf8_lossy(&r.body).to_string()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn events_of(received: &[Received], event: &str) -> Vec<Value> {
    received
        .iter()
        .map(Received::json)
        .filter(|body| body["event"] == event)
        .collect()
}

/// Local receivers (127.0.0.1 is private, and the app's own host unless it has a public URL
/// of its own), quick retries.
fn quick(settings: &mut Settings) {
    settings.target.allow_private = true;
    settings.server.public_url = "http://sho.rt".into();
    settings.webhooks.backoff_base_ms = 50.try_into().unwrap();
    settings.webhooks.backoff_max_ms = 200.try_into().unwrap();
    settings.webhooks.poll_interval_ms = 50.try_into().unwrap();
    settings.webhooks.timeout_ms = 2000.try_into().unwrap();
}

async fn register(app: &TestApp, url: &str, events: &[&str], secret: Option<&str>) -> Value {
    let mut body = json!({"url": url, "events": events});
    if let Some(secret) = secret {
        body["secret"] = json!(secret);
    }
    let response = app.send_json(Method::POST, "/api/webhooks", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

const SECRET: &str = "a-receiver-secret-0123";

async fn deliveries_are_signed_and_carry_the_api_objects(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let app = spawn_app_with(backend, quick).await;
    register(
        &app,
        &receiver.url(),
        &["link.created", "visit"],
        Some(SECRET),
    )
    .await;
    let slug = app.new_slug("https://example.com/signed").await;
    assert_eq!(app.follow(&slug).await.status(), 302);

    let accepted = receiver
        .wait_for("link.created and the visit", |r| {
            !events_of(r, "link.created").is_empty() && !events_of(r, "visit").is_empty()
        })
        .await;
    for request in &accepted {
        let signature = request.headers[SIGNATURE_HEADER].to_str().unwrap();
        assert!(verify(SECRET, signature, &request.body), "{signature}");
        assert!(!verify("another-secret-0123456", signature, &request.body));
        let body = request.json();
        assert_eq!(
            request.headers[EVENT_HEADER],
            body["event"].as_str().unwrap()
        );
        assert_eq!(
            request.headers[DELIVERY_HEADER].to_str().unwrap(),
            body["id"].to_string()
        );
        assert_eq!(request.headers["content-type"], "application/json");
    }
    let created = &events_of(&accepted, "link.created")[0];
    assert_eq!(
        created["data"],
        app.json(&format!("/api/urls/{slug}"))
            .await
            .tap_visit_count(0)
    );
    let visits = &events_of(&accepted, "visit")[0]["data"];
    let listed = app.json(&format!("/api/urls/{slug}/visits")).await;
    assert_eq!(visits, &listed["items"]);
}

/// The link as `GET /api/urls/{slug}` shows it, with the visit count it had when created.
trait TapVisitCount {
    fn tap_visit_count(self, count: i64) -> Value;
}

impl TapVisitCount for Value {
    fn tap_visit_count(mut self, count: i64) -> Value {
        self["visit_count"] = json!(count);
        self
    }
}

async fn a_failing_receiver_gets_each_event_once_and_visits_batched(backend: Backend) {
    let receiver = Receiver::start(3).await;
    let app = spawn_app_with(backend, |s| {
        quick(s);
        // Clicks within 300 ms are written (and delivered) as one batch.
        s.visits.flush_interval_ms = 300;
    })
    .await;
    register(
        &app,
        &receiver.url(),
        &["link.created", "visit"],
        Some(SECRET),
    )
    .await;
    let slug = app.new_slug("https://example.com/retried").await;
    let clicks = futures_util::future::join_all((0..20).map(|_| app.follow(&slug))).await;
    assert!(clicks.iter().all(|r| r.status() == 302));

    let accepted = receiver
        .wait_for("link.created and every visit", |r| {
            events_of(r, "link.created").len() == 1
                && events_of(r, "visit")
                    .iter()
                    .map(|e| e["data"].as_array().unwrap().len())
                    .sum::<usize>()
                    >= 20
        })
        .await;
    assert!(receiver.all().iter().filter(|r| r.answered == 500).count() >= 3);
    assert_eq!(events_of(&accepted, "link.created").len(), 1);
    let batches = events_of(&accepted, "visit");
    assert!(
        batches.len() < 20,
        "{} visit deliveries for 20 clicks",
        batches.len()
    );
    let ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| b["data"].as_array().unwrap().clone())
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 20);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        20,
        "each visit once"
    );

    // Each failed attempt is listed, newest first.
    let hook = app.json("/api/webhooks").await[0]["id"].as_i64().unwrap();
    let attempts = app
        .json(&format!("/api/webhooks/{hook}/deliveries?limit=100"))
        .await;
    let statuses: Vec<i64> = attempts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), 3);
    assert!(attempts["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["duration_ms"].is_i64() && a["attempted_at"].is_string()));
}

async fn kurz_restarted_mid_retry_still_delivers(backend: Backend) {
    let receiver = Receiver::start(0).await;
    receiver.down.store(true, Ordering::SeqCst);
    let app = spawn_app_with(backend, quick).await;
    let hook = register(&app, &receiver.url(), &["link.created"], Some(SECRET)).await;
    let slug = app.new_slug("https://example.com/restarted").await;
    // At least one attempt failed before the stop.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while receiver.all().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no attempt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped = app.stop().await;
    receiver.down.store(false, Ordering::SeqCst);
    let app = stopped.restart(quick).await;
    let accepted = receiver
        .wait_for("the delivery after the restart", |r| !r.is_empty())
        .await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].json()["data"]["slug"], slug);
    // The receiver answers before kurz records the attempt: wait for the record.
    let path = format!("/api/webhooks/{}/deliveries", hook["id"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let items = loop {
        let items = app.json(&path).await["items"].as_array().unwrap().clone();
        if items[0]["delivery_state"] == "delivered" {
            break items;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not recorded: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(items.len() >= 2);
}

/// A receiver that accepts connections and never answers.
async fn hanging_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("http://{address}/hook"), task)
}

async fn a_dead_receiver_does_not_hold_up_redirects_or_visits(backend: Backend) {
    let (hanging, _task) = hanging_receiver().await;
    // A closed port: bound, then released.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    let alive = Receiver::start(0).await;
    let app = spawn_app_with(backend, |s| {
        quick(s);
        s.webhooks.timeout_ms = 30_000.try_into().unwrap();
    })
    .await;
    for url in [&hanging, &closed] {
        register(&app, url, &["visit", "link.created"], None).await;
    }
    register(&app, &alive.url(), &["visit"], None).await;
    let slug = app.new_slug("https://example.com/dead-receiver").await;
    for _ in 0..5 {
        let clicks = futures_util::future::join_all((0..10).map(|_| app.follow(&slug))).await;
        assert!(clicks.iter().all(|r| r.status() == 302));
    }
    app.wait_for_visits(50).await;
    // The live endpoint got them all meanwhile.
    alive
        .wait_for("every visit at the live endpoint", |r| {
            events_of(r, "visit")
                .iter()
                .map(|e| e["data"].as_array().unwrap().len())
                .sum::<usize>()
                >= 50
        })
        .await;
}

async fn endpoints_are_registered_listed_changed_and_deleted(backend: Backend) {
    let app = spawn_app_with(backend, quick).await;
    let created = register(
        &app,
        "https://hooks.example.com/kurz",
        &["visit", "link.created"],
        None,
    )
    .await;
    let secret = created["secret"]
        .as_str()
        .expect("a generated secret, shown once");
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created["events"], json!(["visit", "link.created"]));
    let id = created["id"].as_i64().unwrap();
    let shown = app.json(&format!("/api/webhooks/{id}")).await;
    assert!(shown.get("secret").is_none());
    assert_eq!(shown["url"], "https://hooks.example.com/kurz");
    let given = register(
        &app,
        "https://hooks.example.com/b",
        &["link.deleted"],
        Some(SECRET),
    )
    .await;
    assert!(given.get("secret").is_none());
    let listed = app.json("/api/webhooks").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let path = format!("/api/webhooks/{id}");
    let changed = app
        .send_json(
            Method::PATCH,
            &path,
            &json!({"events": ["link.updated", "link.updated"]}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["events"], json!(["link.updated"]));
    assert!(changed.get("secret").is_none());
    let empty = app.json(&format!("{path}/deliveries")).await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(app.request(Method::DELETE, &path).await.status(), 204);
    assert_problem(app.get(&path).await, 404).await;
    assert_problem(app.request(Method::DELETE, &path).await, 404).await;
    assert_problem(app.get("/api/webhooks/nope").await, 404).await;
    assert_problem(app.get(&format!("{path}/deliveries")).await, 404).await;
}

async fn bad_endpoints_are_refused_naming_the_field(backend: Backend) {
    // The default policy: no private addresses.
    let app = spawn_app_with(backend, |_| {}).await;
    let cases = [
        (
            json!({"url": "http://127.0.0.1:9/hook", "events": ["visit"]}),
            "url",
        ),
        (
            json!({"url": "http://localhost/hook", "events": ["visit"]}),
            "url",
        ),
        (
            json!({"url": "http://10.0.0.8/hook", "events": ["visit"]}),
            "url",
        ),
        (
            json!({"url": "ftp://example.com/hook", "events": ["visit"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/hook", "events": ["click"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/hook", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/hook", "events": ["visit"], "secret": "short"}),
            "secret",
        ),
    ];
    for (body, field) in cases {
        let problem = assert_problem(
            app.send_json(Method::POST, "/api/webhooks", &body).await,
            422,
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let created = register(&app, "https://hooks.example.com/ok", &["visit"], None).await;
    let problem = assert_problem(
        app.send_json(
            Method::PATCH,
            &format!("/api/webhooks/{}", created["id"]),
            &json!({"url": "http://192.168.1.1/"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "url");
}

async fn only_admins_manage_webhooks(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    assert_problem(app.get("/api/webhooks").await, 401).await;
    for role in [Role::Editor, Role::Viewer] {
        let key = app.api_key(role).await;
        let response = app
            .with_key(Method::GET, "/api/webhooks", &key)
            .send()
            .await
            .unwrap();
        assert_problem(response, 403).await;
    }
    let admin = app.api_key(Role::Admin).await;
    let response = app
        .with_key(Method::POST, "/api/webhooks", &admin)
        .json(&json!({"url": "https://hooks.example.com/x", "events": ["visit"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert!(created["created_by"].is_i64());
}

async fn link_updated_fires_when_a_fetched_title_arrives(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let page = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(|| async {
                (
                    [("content-type", "text/html; charset=utf-8")],
                    "<html><head><title>Fetched title</title></head></html>",
                )
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{address}/")
    };
    let app = spawn_app_with(backend, |s| {
        quick(s);
        s.titles.fetch = true;
    })
    .await;
    register(&app, &receiver.url(), &["link.updated"], Some(SECRET)).await;
    let slug = app.new_slug(&page).await;
    let accepted = receiver
        .wait_for("link.updated", |r| !events_of(r, "link.updated").is_empty())
        .await;
    let data = &events_of(&accepted, "link.updated")[0]["data"];
    assert_eq!(data["slug"], slug);
    assert_eq!(data["title"], "Fetched title");
    assert_eq!(data, &app.json(&format!("/api/urls/{slug}")).await);
}

async fn link_changes_and_deletes_are_delivered(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let app = spawn_app_with(backend, quick).await;
    register(
        &app,
        &receiver.url(),
        &["link.updated", "link.deleted"],
        Some(SECRET),
    )
    .await;
    let slug = app.new_slug("https://example.com/changing").await;
    let response = app
        .patch_url(&slug, json!({"title": "Changed", "tags": ["b", "a"]}))
        .await;
    assert_eq!(response.status(), 200);
    let shown = app.json(&format!("/api/urls/{slug}")).await;
    assert_eq!(app.delete_url(&slug).await.status(), 204);
    let accepted = receiver
        .wait_for("link.updated and link.deleted", |r| r.len() >= 2)
        .await;
    let updated = &events_of(&accepted, "link.updated")[0];
    assert_eq!(updated["data"], shown);
    let deleted = &events_of(&accepted, "link.deleted")[0];
    assert_eq!(deleted["data"]["slug"], slug);
    assert_eq!(deleted["data"]["tags"], json!(["a", "b"]));
    // Nothing for link.created: not subscribed.
    assert!(events_of(&accepted, "link.created").is_empty());
    let ids: HashMap<i64, ()> = accepted
        .iter()
        .map(|r| (r.json()["id"].as_i64().unwrap(), ()))
        .collect();
    assert_eq!(ids.len(), accepted.len());
}

crate::on_both_backends!(
    deliveries_are_signed_and_carry_the_api_objects,
    a_failing_receiver_gets_each_event_once_and_visits_batched,
    kurz_restarted_mid_retry_still_delivers,
    a_dead_receiver_does_not_hold_up_redirects_or_visits,
    link_updated_fires_when_a_fetched_title_arrives,
);

crate::on_sqlite!(
    endpoints_are_registered_listed_changed_and_deleted,
    bad_endpoints_are_refused_naming_the_field,
    only_admins_manage_webhooks,
    link_changes_and_deletes_are_delivered,
);

/// The code block of docs/api.md after `marker`.
fn documented_snippet(marker: &str) -> String {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md"))
        .expect("docs/api.md");
    let after = docs
        .split_once(marker)
        .unwrap_or_else(|| panic!("{marker} in docs/api.md"))
        .1;
    let block = after.split_once("```").expect("a code block").1;
    let block = block.split_once('\n').expect("a fenced block").1;
    block
        .split_once("```")
        .expect("the block's end")
        .0
        .to_owned()
}

/// Runs `program` with `args`; whether it exited 0.
fn runs(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{program} must be installed for this test: {e}"))
        .success()
}

async fn the_documented_snippets_verify_a_delivery(backend: Backend) {
    let receiver = Receiver::start(0).await;
    let app = spawn_app_with(backend, quick).await;
    register(&app, &receiver.url(), &["link.created"], Some(SECRET)).await;
    app.new_slug("https://example.com/snippets").await;
    let delivery = receiver.wait_for("the delivery", |r| !r.is_empty()).await[0].clone();
    let header = delivery.headers[SIGNATURE_HEADER]
        .to_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let (body, tampered) = (dir.path().join("body"), dir.path().join("tampered"));
    std::fs::write(&body, &delivery.body).unwrap();
    let mut changed = delivery.body.to_vec();
    changed.push(b' ');
    std::fs::write(&tampered, changed).unwrap();

    let python = format!(
        "{}\nimport sys\nsys.exit(0 if verify(sys.argv[1], sys.argv[2], open(sys.argv[3], 'rb').read()) else 1)\n",
        documented_snippet("<!-- webhook-verify-python -->")
    );
    let javascript = format!(
        "{}\nprocess.exit(verify(process.argv[1], process.argv[2], require('node:fs').readFileSync(process.argv[3])) ? 0 : 1);\n",
        documented_snippet("<!-- webhook-verify-javascript -->")
    );
    for (program, flag, script) in [("python3", "-c", &python), ("node", "-e", &javascript)] {
        let run = |secret: &str, file: &std::path::Path| {
            runs(
                program,
                &[flag, script, secret, &header, file.to_str().unwrap()],
            )
        };
        assert!(run(SECRET, &body), "{program}: the delivery verifies");
        assert!(
            !run(SECRET, &tampered),
            "{program}: a changed body does not"
        );
        assert!(
            !run("another-secret-0123456", &body),
            "{program}: another secret does not"
        );
    }
}

crate::on_sqlite!(the_documented_snippets_verify_a_delivery);

/// At each delivery the endpoint's host is resolved again and every address checked: a public
/// name that now resolves to a private address is refused without a connection.
#[tokio::test]
async fn a_delivery_to_a_name_resolving_to_a_private_address_is_refused() {
    use kurz::config::Environment;
    use kurz::outbound::OutboundGuard;
    use kurz::webhooks::client::{Answer, Request};
    use kurz::webhooks::WebhookClient;

    let receiver = Receiver::start(0).await;
    let client = |allow_private: bool| {
        let mut settings = Settings::defaults(Environment::Development).unwrap();
        settings.target.allow_private = allow_private;
        let policy = Arc::new(settings.target.policy("http://sho.rt").unwrap());
        WebhookClient::new(
            OutboundGuard::new(policy).resolving("hooks.example.com", receiver.address),
            Duration::from_secs(5),
        )
    };
    let url = format!("http://hooks.example.com:{}/hook", receiver.address.port());
    let send = |client: WebhookClient| {
        let url = url.clone();
        async move {
            client
                .send(Request {
                    url: &url,
                    secret: SECRET,
                    event: "link.created",
                    delivery_id: 1,
                    body: b"{}".to_vec(),
                })
                .await
        }
    };
    match send(client(false)).await {
        Answer::NoAnswer(why) => assert!(why.contains("refused"), "{why}"),
        other => panic!("sent: {other:?}"),
    }
    assert!(receiver.all().is_empty(), "never connected");
    // Allowed, the same request arrives, signed.
    assert!(matches!(send(client(true)).await, Answer::Status(204)));
    let received = receiver.all();
    assert_eq!(received.len(), 1);
    let signature = received[0].headers[SIGNATURE_HEADER].to_str().unwrap();
    assert!(verify(SECRET, signature, b"{}"));
}
