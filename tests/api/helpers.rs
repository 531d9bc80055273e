//! `spawn_app()`: the real kurz server on a random port, against a fresh database.

use std::sync::Arc;
use std::time::Duration;

use kurz::cache::RedirectCache;
use kurz::config::{Environment, Settings};
use kurz::domain::{ApiKey, Role};
use kurz::startup::Application;
use kurz::store::{NewApiKey, PageRequest, Store, VisitFilter};
use kurz::visits::VisitCounters;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::common::database::Backend;
use crate::common::database::TestDatabase;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// The visit pipeline's counters and the redirect cache of this server (`/metrics` shows
    /// the process's, shared by every server a test binary runs at once).
    pub visit_counters: Arc<VisitCounters>,
    pub redirect_cache: Arc<RedirectCache>,
    /// The geolocation handle of this server (tests reload it as SIGHUP does).
    pub geo: kurz::geo::Geo,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    database: Option<TestDatabase>,
}

/// A stopped server's store, with its database kept alive for inspection.
pub struct Stopped {
    pub store: Arc<dyn Store>,
    _database: Option<TestDatabase>,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts kurz as production does it for the API: no anonymous use, every request needs a key.
pub async fn spawn_locked_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| s.auth.allow_anonymous = false).await
}

/// Starts kurz with the development defaults, adjusted by `configure`.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDatabase::create(backend).await, configure).await
}

/// Starts kurz on an existing database (a stopped server's, see [`Stopped::restart`]).
async fn spawn_app_on(database: TestDatabase, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::defaults(Environment::Development).expect("default settings");
    settings.server.port = 0;
    settings.database.url = database.url.clone();
    settings.database.max_connections = 5.try_into().expect("not zero");
    settings.visits.flush_interval_ms = 10;
    // Tests create links to hosts they do not serve: no fetches unless a test asks for them.
    settings.titles.fetch = false;
    configure(&mut settings);
    settings.validate().expect("test settings are valid");

    let app = Application::build(settings).await.expect("kurz starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    let visit_counters = app.visit_counters();
    let redirect_cache = app.redirect_cache();
    let geo = app.geo();
    let (stop, stopped) = oneshot::channel();
    let ready_cache = redirect_cache.clone();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    // The cache is bypassed until the change log follower knows where the log ends (a moment
    // after start, longer on a busy machine); tests of what the cache holds start after that.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while ready_cache.is_bypassed() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the redirect cache is still bypassed 10 s after start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    TestApp {
        address,
        client,
        store,
        visit_counters,
        redirect_cache,
        geo,
        stop: Some(stop),
        server: Some(server),
        database: Some(database),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(&self, method: Method, path: &str) -> Response {
        self.client
            .request(method, self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).await
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.client
            .request(method, self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates an API key with this role directly in the store; returns the key in clear.
    pub async fn api_key(&self, role: Role) -> String {
        let key = ApiKey::generate();
        self.store
            .create_api_key(NewApiKey {
                name: format!("test {role}"),
                role,
                prefix: key.display_prefix(),
                key_hash: key.hash(),
                created_at: chrono::Utc::now(),
            })
            .await
            .expect("API key stored");
        key.expose().to_owned()
    }

    /// A request that sends `key` as `Authorization: Bearer <key>`.
    pub fn with_key(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(key)
    }

    /// `GET /api/urls` with one extra header.
    pub async fn get_with_header(&self, name: &str, value: &str) -> Response {
        self.client
            .get(self.url("/api/urls"))
            .header(name, value)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /api/urls` with this body.
    pub async fn create_url(&self, body: Value) -> Response {
        self.send_json(Method::POST, "/api/urls", &body).await
    }

    /// Creates a URL that must succeed and returns its JSON.
    pub async fn new_url(&self, target: &str) -> Value {
        let response = self.create_url(serde_json::json!({ "url": target })).await;
        assert_eq!(response.status(), 201, "creating {target}");
        response.json().await.expect("JSON body")
    }

    /// Creates a URL that must succeed and returns its slug.
    pub async fn new_slug(&self, target: &str) -> String {
        self.new_url(target).await["slug"]
            .as_str()
            .expect("a slug")
            .to_owned()
    }

    pub async fn patch_url(&self, slug: &str, body: Value) -> Response {
        self.send_json(Method::PATCH, &format!("/api/urls/{slug}"), &body)
            .await
    }

    pub async fn delete_url(&self, slug: &str) -> Response {
        self.request(Method::DELETE, &format!("/api/urls/{slug}"))
            .await
    }

    /// Clicks a short link the way a browser would, without following the redirect.
    pub async fn follow(&self, slug: &str) -> Response {
        self.get(&format!("/{slug}")).await
    }

    pub async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// Waits until the visit writer has stored `count` visits in all (polling, bounded).
    pub async fn wait_for_visits(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let stored = stored_visits(self.store.as_ref()).await;
            if stored >= count {
                assert_eq!(stored, count, "more visits than expected");
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {stored} of {count} visits stored after 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server the way SIGTERM does and waits for the queue to be drained.
    pub async fn stop(mut self) -> Stopped {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        Stopped {
            store: self.store.clone(),
            _database: self.database.take(),
        }
    }
}

impl Stopped {
    /// Starts kurz again on the stopped server's database, with the development defaults
    /// adjusted by `configure`.
    pub async fn restart(mut self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let database = self
            ._database
            .take()
            .expect("the stopped server's database");
        spawn_app_on(database, configure).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Asserts an RFC 9457 problem response and returns its body.
pub async fn assert_problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem JSON");
    assert_eq!(body["status"], status);
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// How many visits a store holds (up to 10 000, plenty for tests).
pub async fn stored_visits(store: &dyn Store) -> usize {
    store
        .list_visits(
            VisitFilter::default(),
            PageRequest {
                after: None,
                limit: 10_000,
            },
        )
        .await
        .expect("visits listed")
        .items
        .len()
}
