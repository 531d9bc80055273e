//! Shlink's REST API v3 at one server, with one API key: `GET` as JSON, with retries.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::cli::UsageError;

/// One request's time limit.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Shlink's REST API at one server, with one key.
pub(super) struct Client {
    http: reqwest::Client,
    /// `…/rest/v3/`.
    base: url::Url,
    key: String,
}

/// Why a request failed: worth another try, or not.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Final(String),
    /// 403: the key may not do this (an "authored short URLs" key and orphan visits).
    #[error("{0}")]
    Forbidden(String),
    /// 404: the short URL (or route) is not there.
    #[error("not found")]
    NotFound,
}

impl Client {
    pub(super) fn new(url: &str, key: &str) -> anyhow::Result<Self> {
        let mut base =
            url::Url::parse(url).map_err(|e| UsageError(format!("--url: not a URL ({e})")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(UsageError("--url: Shlink's address, http:// or https://".into()).into());
        }
        if key.trim().is_empty() {
            return Err(
                UsageError("--from shlink needs --api-key KEY (a Shlink API key)".into()).into(),
            );
        }
        base.set_query(None);
        base.set_fragment(None);
        // `https://s.example`, `https://s.example/` and `https://s.example/rest/v3` alike.
        let path = base.path().trim_end_matches('/').to_owned();
        let path = path
            .strip_suffix("/rest/v3")
            .or_else(|| path.strip_suffix("/rest/v2"))
            .unwrap_or(&path)
            .to_owned();
        base.set_path(&format!("{path}/rest/v3/"));
        let http = reqwest::Client::builder()
            .user_agent(concat!("kurz-import/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            base,
            key: key.trim().to_owned(),
        })
    }

    /// The server without the API path, for the import marks' source.
    pub(super) fn server(&self) -> String {
        let mut server = self.base.clone();
        let path = server
            .path()
            .trim_end_matches("rest/v3/")
            .trim_end_matches('/')
            .to_owned();
        server.set_path(&path);
        server.as_str().trim_end_matches('/').to_owned()
    }

    /// `GET` a route (its path segments, each encoded) as JSON, tried again on transient
    /// failures; the answer and the server's time.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<(T, Option<DateTime<Utc>>), Failure> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Failure::Final("--url cannot take a path".into()))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        (|| self.try_get(&url))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(500))
                    .with_max_delay(Duration::from_secs(10))
                    .with_max_times(5),
            )
            .when(|failure| matches!(failure, Failure::Transient(_)))
            .notify(|failure, wait| {
                eprintln!(
                    "{url}: {failure}; trying again in {:.1} s",
                    wait.as_secs_f64()
                );
            })
            .await
    }

    async fn try_get<T: DeserializeOwned>(
        &self,
        url: &url::Url,
    ) -> Result<(T, Option<DateTime<Utc>>), Failure> {
        let response = self
            .http
            .get(url.clone())
            .header("X-Api-Key", &self.key)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| Failure::Transient(format!("no answer ({e})")))?;
        let status = response.status();
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&Utc));
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::Transient(format!("the answer broke off ({e})")))?;
        if status.is_success() {
            let value = serde_json::from_slice(&body)
                .map_err(|e| Failure::Final(format!("{url}: not the JSON Shlink answers ({e})")))?;
            return Ok((value, date));
        }
        let detail = problem(&body);
        let refused = || format!("Shlink refused the API key ({status}{detail})");
        match status.as_u16() {
            404 => Err(Failure::NotFound),
            401 => Err(Failure::Final(refused())),
            403 => Err(Failure::Forbidden(refused())),
            429 | 500..=599 => Err(Failure::Transient(format!("{status}{detail}"))),
            _ => Err(Failure::Final(format!("{url}: {status}{detail}"))),
        }
    }
}

/// A problem document's `detail` (or `title`), as `: detail`.
fn problem(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    value["detail"]
        .as_str()
        .or(value["title"].as_str())
        .map(|text| format!(": {text}"))
        .unwrap_or_default()
}
