//! Fetched titles (`titles.fetch`): a link created without a title gets its target page's
//! title in the background. The pages are served by local servers (so the apps here set
//! `target.allow_private`); what the fetcher refuses in the default policy is shown on the
//! fetcher itself, with host names it resolves to a local server that counts connections.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kurz::config::{Environment, Settings};
use kurz::domain::{TargetPolicy, TargetUrl};
use kurz::titles::{FetchError, TitleFetcher};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{spawn_app_with, Backend, TestApp};

/// One canned answer.
#[derive(Clone)]
struct Page {
    path: &'static str,
    head: String,
    body: Vec<u8>,
    delay: Duration,
}

fn html(path: &'static str, content_type: &str, body: impl Into<Vec<u8>>) -> Page {
    Page {
        path,
        head: format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"),
        body: body.into(),
        delay: Duration::ZERO,
    }
}

fn redirect(path: &'static str, location: &str) -> Page {
    Page {
        path,
        head: format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\n"),
        body: Vec::new(),
        delay: Duration::ZERO,
    }
}

/// A bare HTTP/1.1 server on 127.0.0.1 answering its pages by path (404 otherwise), one
/// request per connection, counting connections.
struct PageServer {
    address: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl PageServer {
    async fn start(pages: Vec<Page>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("an address");
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let pages = pages.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&request).to_string();
                    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let page = pages.iter().find(|page| page.path == path);
                    let (head, body, delay) = match page {
                        Some(page) => (page.head.clone(), page.body.clone(), page.delay),
                        None => (
                            "HTTP/1.1 404 Not Found\r\n".into(),
                            Vec::new(),
                            Duration::ZERO,
                        ),
                    };
                    tokio::time::sleep(delay).await;
                    let head = format!(
                        "{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                });
            }
        });
        Self {
            address,
            connections,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn policy(allow_private: bool) -> Arc<TargetPolicy> {
    let mut settings = Settings::defaults(Environment::Development).expect("settings");
    settings.target.allow_private = allow_private;
    Arc::new(settings.target.policy("http://sho.rt").expect("a policy"))
}

fn fetcher(allow_private: bool) -> TitleFetcher {
    TitleFetcher::new(policy(allow_private), Duration::from_secs(5), 1 << 20)
}

fn target(url: &str) -> TargetUrl {
    policy(true).parse(url).expect("a valid target")
}

async fn fetch(fetcher: &TitleFetcher, url: String) -> Result<Option<String>, FetchError> {
    let title = fetcher.title(&target(&url)).await?;
    Ok(title.map(|title| title.as_str().to_owned()))
}

/// Lets links point at the local page servers (127.0.0.1 is private, and the app's own host).
fn allow_local_pages(settings: &mut Settings) {
    settings.target.allow_private = true;
    settings.server.public_url = "http://sho.rt".into();
}

async fn spawn_fetching_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |settings| {
        settings.titles.fetch = true;
        allow_local_pages(settings);
    })
    .await
}

/// The link's JSON once its title is `expected` (polling, bounded).
async fn wait_for_title(app: &TestApp, slug: &str, expected: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let link = app.json(&format!("/api/urls/{slug}")).await;
        if link["title"] == expected {
            return link;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no title {expected:?}: {link}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_link_created_without_a_title_gets_its_pages_title(backend: Backend) {
    let page = "<html><head><title>\n Launch &amp; day </title></head></html>";
    let server = PageServer::start(vec![html("/", "text/html", page)]).await;
    let app = spawn_fetching_app(backend).await;

    let created = app.new_url(&server.url("/")).await;
    assert_eq!(created["title"], Value::Null, "the create does not wait");
    let slug = created["slug"].as_str().expect("a slug");
    let link = wait_for_title(&app, slug, "Launch & day").await;
    assert_ne!(
        link["updated_at"], created["updated_at"],
        "a change like any"
    );
}

async fn a_title_given_or_set_meanwhile_is_kept(backend: Backend) {
    let mut slow = html("/slow", "text/html", "<title>Fetched</title>");
    slow.delay = Duration::from_millis(500);
    let server = PageServer::start(vec![slow, html("/", "text/html", "<title>No</title>")]).await;
    let app = spawn_fetching_app(backend).await;

    let given = app
        .create_url(json!({ "url": server.url("/"), "title": "Given" }))
        .await;
    assert_eq!(given.status(), 201);
    let slug = app.new_slug(&server.url("/slow")).await;
    let patched = app.patch_url(&slug, json!({ "title": "Mine" })).await;
    assert_eq!(patched.status(), 200);
    // The slow page has been answered (and its title offered) well before this.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.json(&format!("/api/urls/{slug}")).await["title"],
        "Mine"
    );
    assert_eq!(
        server.connections(),
        1,
        "a link with a title is not fetched"
    );
}

async fn titles_are_not_fetched_when_turned_off(backend: Backend) {
    let server = PageServer::start(vec![html("/", "text/html", "<title>T</title>")]).await;
    let app = spawn_app_with(backend, allow_local_pages).await;
    let slug = app.new_slug(&server.url("/")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.json(&format!("/api/urls/{slug}")).await["title"],
        Value::Null
    );
    assert_eq!(server.connections(), 0);
}

crate::on_both_backends!(
    a_link_created_without_a_title_gets_its_pages_title,
    a_title_given_or_set_meanwhile_is_kept,
);
crate::on_sqlite!(titles_are_not_fetched_when_turned_off);

#[tokio::test]
async fn og_title_and_the_pages_charset_are_used() {
    let og = r#"<meta property="og:title" content="Caf&eacute? Caf&#233;">"#;
    let latin1 = b"<title>Caf\xe9 cr\xe8me</title>".to_vec();
    let meta = b"<meta charset=windows-1252><title>\x93Quoted\x94</title>".to_vec();
    let server = PageServer::start(vec![
        html("/og", "text/html", og),
        html("/latin1", "text/html; charset=ISO-8859-1", latin1),
        html("/meta", "text/html", meta),
        html("/xhtml", "application/xhtml+xml", "<title>X</title>"),
    ])
    .await;
    let fetcher = fetcher(true);
    let title = |path| fetch(&fetcher, server.url(path));
    assert_eq!(
        title("/og").await.unwrap().as_deref(),
        Some("Caf&eacute? Café")
    );
    assert_eq!(
        title("/latin1").await.unwrap().as_deref(),
        Some("Café crème")
    );
    assert_eq!(
        title("/meta").await.unwrap().as_deref(),
        Some("\u{201c}Quoted\u{201d}")
    );
    assert_eq!(title("/xhtml").await.unwrap().as_deref(), Some("X"));
}

#[tokio::test]
async fn only_html_pages_and_their_first_mebibyte_are_read() {
    let mut huge = vec![b' '; 2 << 20];
    huge.extend_from_slice(b"<title>Too far</title>");
    let mut early = b"<title>Early</title>".to_vec();
    early.extend(vec![b'x'; 3 << 20]);
    let server = PageServer::start(vec![
        html(
            "/json",
            "application/json",
            r#"{"title":"<title>no</title>"}"#,
        ),
        html("/huge", "text/html", huge),
        html("/early", "text/html", early),
        html("/none", "text/html", "<p>no title</p>"),
    ])
    .await;
    let fetcher = fetcher(true);
    let title = |path| fetch(&fetcher, server.url(path));
    assert!(matches!(title("/json").await, Err(FetchError::NotHtml(_))));
    assert_eq!(title("/huge").await.unwrap(), None);
    assert_eq!(title("/early").await.unwrap().as_deref(), Some("Early"));
    assert_eq!(title("/none").await.unwrap(), None);
    assert!(matches!(
        title("/missing").await,
        Err(FetchError::Status(_))
    ));
}

#[tokio::test]
async fn a_slow_page_is_given_up_at_the_timeout() {
    let mut slow = html("/", "text/html", "<title>Slow</title>");
    slow.delay = Duration::from_secs(3);
    let server = PageServer::start(vec![slow]).await;
    let fetcher = TitleFetcher::new(policy(true), Duration::from_millis(300), 1 << 20);
    let started = std::time::Instant::now();
    assert!(matches!(
        fetch(&fetcher, server.url("/")).await,
        Err(FetchError::Timeout(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn redirects_are_followed_five_times_at_most() {
    let server = PageServer::start(vec![
        redirect("/1", "/2"),
        redirect("/2", "/3"),
        redirect("/3", "/4"),
        redirect("/4", "/5"),
        redirect("/5", "/page"),
        redirect("/0", "/1"),
        html("/page", "text/html", "<title>Arrived</title>"),
    ])
    .await;
    let fetcher = fetcher(true);
    assert_eq!(
        fetch(&fetcher, server.url("/1")).await.unwrap().as_deref(),
        Some("Arrived")
    );
    assert!(matches!(
        fetch(&fetcher, server.url("/0")).await,
        Err(FetchError::TooManyRedirects)
    ));
}

#[tokio::test]
async fn a_public_name_resolving_to_a_private_address_is_never_connected_to() {
    let private = PageServer::start(vec![html("/", "text/html", "<title>Inside</title>")]).await;
    let fetcher = fetcher(false).resolving("rebound.example", private.address);
    let url = format!("http://rebound.example:{}/", private.address.port());
    assert!(matches!(
        fetch(&fetcher, url).await,
        Err(FetchError::Refused(_))
    ));
    assert_eq!(private.connections(), 0);
}

#[tokio::test]
async fn a_redirect_into_a_private_address_is_refused_in_the_default_policy() {
    let private = PageServer::start(vec![html("/", "text/html", "<title>Inside</title>")]).await;
    let port = private.address.port();
    let public = PageServer::start(vec![
        redirect("/literal", &format!("http://127.0.0.1:{port}/")),
        redirect("/name", &format!("http://rebound.example:{port}/")),
        redirect("/local", &format!("http://intranet.localhost:{port}/")),
        html("/", "text/html", "<title>Outside</title>"),
    ])
    .await;
    // The first server stands for a public site; the second is private, as it is.
    let fetcher = fetcher(false)
        .resolving("public.example", public.address)
        .trusting(public.address)
        .resolving("rebound.example", private.address);
    let at = |path: &str| format!("http://public.example:{}{path}", public.address.port());
    assert_eq!(
        fetch(&fetcher, at("/")).await.unwrap().as_deref(),
        Some("Outside")
    );
    for path in ["/literal", "/name", "/local"] {
        let outcome = fetch(&fetcher, at(path)).await;
        assert!(
            matches!(outcome, Err(FetchError::Refused(_))),
            "{path}: {outcome:?}"
        );
    }
    assert_eq!(private.connections(), 0);
}
