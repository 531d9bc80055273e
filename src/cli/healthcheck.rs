//! `kurz healthcheck`: asks the running server's `/healthz` (or `/readyz` with `--ready`) over
//! loopback and exits 0 when it answers 200. The Docker image's HEALTHCHECK uses it, so the
//! image needs no curl.

use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::output;
use crate::config::Settings;

const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// Check readiness (the database answers) instead of liveness.
    #[arg(long)]
    pub ready: bool,
}

/// What `--json` prints when the server answered 200.
#[derive(Debug, Serialize)]
struct HealthJson {
    endpoint: &'static str,
    status: u16,
}

pub async fn run(settings: &Settings, args: &HealthcheckArgs, json: bool) -> anyhow::Result<()> {
    let host = match settings.server.host.as_str() {
        "0.0.0.0" => "127.0.0.1",
        "::" | "[::]" => "::1",
        other => other,
    };
    let path = if args.ready { "/readyz" } else { "/healthz" };
    let address = (host, settings.server.port);
    let status = tokio::time::timeout(TIMEOUT, async {
        let mut stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("cannot connect to {host}:{}", settings.server.port))?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let read = stream.read(&mut head).await?;
        let line = String::from_utf8_lossy(&head[..read]).into_owned();
        anyhow::Ok(line)
    })
    .await
    .context("no answer within 3 s")??;
    let code = status.split_whitespace().nth(1).unwrap_or("");
    if code != "200" {
        bail!("{path} answered {code:?}");
    }
    if json {
        output::json(&HealthJson {
            endpoint: path,
            status: 200,
        })
    } else {
        output::emit(&format!("ok: {path} answered 200\n"))
    }
}
