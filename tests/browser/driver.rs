//! A real headless Chromium, driven over WebDriver: `chromedriver` as a child process on a free
//! port, and a fantoccini session with a fresh profile. Both go away when the `Browser` drops.
//!
//! Needs Debian's `chromium` and `chromium-driver` packages (`/usr/bin/chromium`,
//! `chromedriver` on PATH). Without them the browser tests fail, saying how to install them;
//! they are never skipped.

use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::time::Instant;

pub const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";
const INSTALL_HINT: &str = "install them with `apt-get install chromium chromium-driver` \
     (scripts/test.sh does this for you); the browser tests never skip";

/// How long a page may take to show what a step waits for.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long chromedriver may take to answer `/status`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it yields a value, failing the test with `what` after `timeout`.
pub async fn eventually<T, Fut>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Fut) -> T
where
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The `chromedriver` child process; killed, with the Chromium it started, on drop.
struct Chromedriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Chromedriver {
    async fn start(log_dir: &Path) -> Self {
        assert!(
            Path::new(CHROMIUM).is_file(),
            "Chromium is missing ({CHROMIUM} not found): {INSTALL_HINT}"
        );
        let port = free_port();
        let log = log_dir.join("chromedriver.log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that dropping it also ends the Chromium it launched.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start `{CHROMEDRIVER}` ({error}): {INSTALL_HINT}")
            });
        let mut driver = Self { child, port, log };
        driver.wait_until_ready().await;
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `GET /status` until chromedriver says it is ready (bounded).
    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let status = format!("{}/status", self.url());
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(exit) = self.child.try_wait().expect("chromedriver's state") {
                panic!(
                    "chromedriver exited at start-up ({exit}); its log:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(response) = client.get(&status).send().await {
                if let Ok(body) = response.json::<Value>().await {
                    if body["value"]["ready"] == true {
                        return;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer {status} within {STARTUP_TIMEOUT:?}; its log:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

/// One headless Chromium session with its own profile directory.
pub struct Browser {
    pub client: Client,
    /// The base address of the kurz server under test.
    base: String,
    // Dropped after `client`'s last use: the driver, then the profile directory.
    driver: Chromedriver,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start(base: &str) -> Self {
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let driver = Chromedriver::start(profile.path()).await;
        let user_data = profile.path().join("chromium");
        let capabilities = json!({
            "browserName": "chrome",
            // Leave dialogs open: a test looks at them, and a stray alert fails the next step.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", user_data.display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are an object")
        };
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "no Chromium session from chromedriver ({error}); its log:\n{}",
                    driver.log_tail()
                )
            });
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            driver,
            _profile: profile,
        }
    }

    /// Ends the WebDriver session cleanly (Chromium quits); dropping also ends it, by force.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        drop(self.driver);
    }

    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The path (and query, if any) of the page now shown.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits (bounded) for an element to be on the page.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(STEP_TIMEOUT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for `{css}`: {e}"))
    }

    /// Waits (bounded) until the page shown is `path` (with its query, if it has one).
    pub async fn wait_for_location(&self, path: &str) {
        eventually(&format!("the page {path}"), STEP_TIMEOUT, || async {
            let url = self.client.current_url().await.ok()?;
            let here = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            (here == path).then_some(())
        })
        .await
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding `{css}`: {e}"))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding `{css}`: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    /// The current `value` of a form field (what the user sees in it).
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("a field's value")
            .unwrap_or_default()
    }

    /// Replaces what a text field holds with `text`, typed key by key.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("field cleared");
        field.send_keys(text).await.expect("text typed");
    }

    /// Sets a field's value as a script would: for inputs whose typing depends on the
    /// browser's locale (`datetime-local`).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.find(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![css.into(), value.into()],
            )
            .await
            .unwrap_or_else(|e| panic!("setting `{css}`: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking `{css}`: {e}"));
    }

    /// The text of the open JavaScript dialog, if one is open.
    pub async fn dialog(&self) -> Option<String> {
        match self.client.get_alert_text().await {
            Ok(text) => Some(text),
            Err(CmdError::Standard(error)) if error.error == ErrorStatus::NoSuchAlert => None,
            Err(error) => panic!("asking for an open dialog: {error}"),
        }
    }

    /// Saves a PNG of the whole page (the window is stretched to the page's height for it).
    pub async fn screenshot(&self, path: &Path) {
        let height = self
            .client
            .execute(
                "return Math.ceil(document.documentElement.scrollHeight);",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(900)
            .clamp(600, 4000);
        let (width, window_height) = self.client.get_window_size().await.expect("window size");
        let viewport_height = self
            .client
            .execute("return window.innerHeight;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(window_height);
        // The window is a little taller than its viewport; keep that difference.
        let chrome = window_height.saturating_sub(viewport_height);
        self.client
            .set_window_size(width as u32, (height + chrome) as u32)
            .await
            .expect("window resized for the screenshot");
        let png = self.client.screenshot().await.expect("a screenshot");
        self.client
            .set_window_size(width as u32, window_height as u32)
            .await
            .expect("window size restored");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot directory");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}
