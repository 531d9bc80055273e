//! Fetches a page for its title without letting a target reach into private networks: every
//! hop (at most [`MAX_REDIRECTS`] redirects, followed here, not by the client) is checked by
//! the target policy, its host resolved and every address checked, and the connection made
//! to the address that was checked (no second lookup a DNS rebinding could answer otherwise).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use url::Url;

use super::html::page_title;
use crate::domain::{TargetPolicy, TargetUrl, Title};

/// Redirects followed from a link's target.
pub const MAX_REDIRECTS: usize = 5;

/// Why a page gave no title.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused by the target policy: {0}")]
    Refused(String),
    #[error("cannot resolve the host: {0}")]
    Resolve(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("answered {0}")]
    Status(reqwest::StatusCode),
    #[error("not an HTML page ({0})")]
    NotHtml(String),
    #[error("took longer than {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// Fetches pages for their titles.
#[derive(Clone)]
pub struct TitleFetcher {
    targets: Arc<TargetPolicy>,
    timeout: Duration,
    max_bytes: usize,
    /// Host names answered from here instead of DNS (tests: a public-looking name for a local
    /// server). Their addresses are checked like any other.
    hosts: Arc<HashMap<String, SocketAddr>>,
    /// Addresses taken for public ones (tests: a local server standing for a public site, to
    /// show what its redirects may reach). Empty in kurz itself.
    trusted: Arc<HashSet<SocketAddr>>,
}

impl TitleFetcher {
    pub fn new(targets: Arc<TargetPolicy>, timeout: Duration, max_bytes: usize) -> Self {
        Self {
            targets,
            timeout,
            max_bytes,
            hosts: Arc::default(),
            trusted: Arc::default(),
        }
    }

    /// Resolves `host` to `address` without asking DNS (the address is still checked).
    pub fn resolving(mut self, host: &str, address: SocketAddr) -> Self {
        Arc::make_mut(&mut self.hosts).insert(host.to_ascii_lowercase(), address);
        self
    }

    /// Takes `address` for a public one whatever the policy says (for tests).
    pub fn trusting(mut self, address: SocketAddr) -> Self {
        Arc::make_mut(&mut self.trusted).insert(address);
        self
    }

    /// The title of the page at `target`, `Ok(None)` when it has none.
    pub async fn title(&self, target: &TargetUrl) -> Result<Option<Title>, FetchError> {
        tokio::time::timeout(self.timeout, self.follow(target))
            .await
            .map_err(|_| FetchError::Timeout(self.timeout))?
    }

    async fn follow(&self, target: &TargetUrl) -> Result<Option<Title>, FetchError> {
        let mut url = self.checked(target.as_str())?;
        for _ in 0..=MAX_REDIRECTS {
            let address = self.resolve(&url).await?;
            let host = url.host_str().unwrap_or_default().to_owned();
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .resolve(&host, address)
                .user_agent(concat!(
                    "kurz/",
                    env!("CARGO_PKG_VERSION"),
                    " (title fetcher)"
                ))
                .build()?;
            let mut response = client
                .get(url.clone())
                .header(ACCEPT, "text/html,application/xhtml+xml")
                .send()
                .await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or(FetchError::Status(status))?;
                let next = url
                    .join(location)
                    .map_err(|e| FetchError::Refused(e.to_string()))?;
                url = self.checked(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status));
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let (mime, charset) = media_type(&content_type);
            if mime != "text/html" && mime != "application/xhtml+xml" {
                return Err(FetchError::NotHtml(content_type));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                let room = self.max_bytes - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= self.max_bytes {
                    break;
                }
            }
            return Ok(page_title(&body, charset.as_deref()));
        }
        Err(FetchError::TooManyRedirects)
    }

    /// A hop's URL, by the target policy.
    fn checked(&self, url: &str) -> Result<Url, FetchError> {
        let target = self
            .targets
            .parse(url)
            .map_err(|why| FetchError::Refused(why.to_string()))?;
        Url::parse(target.as_str()).map_err(|e| FetchError::Refused(e.to_string()))
    }

    /// The address to connect to: the host's, each of which must pass the policy's address
    /// rule (one private address refuses the host).
    async fn resolve(&self, url: &Url) -> Result<SocketAddr, FetchError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let name = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<SocketAddr> = match self.hosts.get(&name.to_ascii_lowercase()) {
            Some(address) => vec![*address],
            None => tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| FetchError::Resolve(e.to_string()))?
                .collect(),
        };
        for address in addresses.iter().filter(|a| !self.trusted.contains(a)) {
            self.targets
                .check_ip(address.ip(), name)
                .map_err(|why| FetchError::Refused(why.to_string()))?;
        }
        addresses
            .first()
            .copied()
            .ok_or_else(|| FetchError::Resolve(format!("no address for `{name}`")))
    }
}

/// The media type (lowercase) and charset parameter of a Content-Type value.
fn media_type(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts.find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_owned())
    });
    (mime, charset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_give_their_media_type_and_charset() {
        assert_eq!(
            media_type("Text/HTML; Charset=\"ISO-8859-1\""),
            ("text/html".into(), Some("ISO-8859-1".into()))
        );
        assert_eq!(
            media_type("application/json"),
            ("application/json".into(), None)
        );
        assert_eq!(media_type(""), (String::new(), None));
    }
}
