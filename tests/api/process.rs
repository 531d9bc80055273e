//! The real `kurz` binary as a child process on a free port, for what only a process shows:
//! signals, and several instances on one database.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::database::TestDatabase;

pub struct KurzProcess {
    child: Option<Child>,
    pub base: String,
    pub client: reqwest::Client,
}

impl KurzProcess {
    /// Starts kurz (development settings) on `database` with these extra environment
    /// variables, and waits until `/readyz` answers 200.
    pub async fn start(database: &TestDatabase, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_kurz"))
            .env("DATABASE_URL", &database.url)
            .env("KURZ_ENV", "development")
            .env("KURZ__SERVER__PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("kurz starts");
        let mut process = Self {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while process
            .client
            .get(process.url("/readyz"))
            .send()
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "kurz did not become ready"
            );
            let child = process.child.as_mut().expect("running");
            assert!(child.try_wait().unwrap().is_none(), "kurz exited early");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub async fn terminate(mut self) {
        let mut child = self.child.take().expect("running");
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "kurz exits cleanly on SIGTERM: {status}");
    }
}

impl Drop for KurzProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
