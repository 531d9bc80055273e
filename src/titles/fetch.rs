//! Fetches a page for its title without letting a target reach into private networks: every
//! hop (at most [`MAX_REDIRECTS`] redirects, followed here, not by the client) is checked by
//! the target policy, its host resolved and every address checked, and the connection made
//! to the address that was checked (no second lookup a DNS rebinding could answer otherwise).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};

use super::html::page_title;
use crate::domain::{TargetPolicy, TargetUrl, Title};
use crate::outbound::{GuardError, OutboundGuard};

/// How the title fetcher introduces itself.
const USER_AGENT: &str = concat!("kurz/", env!("CARGO_PKG_VERSION"), " (title fetcher)");

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

impl From<GuardError> for FetchError {
    fn from(error: GuardError) -> Self {
        match error {
            GuardError::Refused(why) => Self::Refused(why),
            GuardError::Resolve(why) => Self::Resolve(why),
        }
    }
}

/// Fetches pages for their titles.
#[derive(Clone)]
pub struct TitleFetcher {
    guard: OutboundGuard,
    timeout: Duration,
    max_bytes: usize,
}

impl TitleFetcher {
    pub fn new(targets: Arc<TargetPolicy>, timeout: Duration, max_bytes: usize) -> Self {
        Self {
            guard: OutboundGuard::new(targets),
            timeout,
            max_bytes,
        }
    }

    /// Resolves `host` to `address` without asking DNS (the address is still checked).
    pub fn resolving(mut self, host: &str, address: SocketAddr) -> Self {
        self.guard = self.guard.resolving(host, address);
        self
    }

    /// Takes `address` for a public one whatever the policy says (for tests).
    pub fn trusting(mut self, address: SocketAddr) -> Self {
        self.guard = self.guard.trusting(address);
        self
    }

    /// The title of the page at `target`, `Ok(None)` when it has none.
    pub async fn title(&self, target: &TargetUrl) -> Result<Option<Title>, FetchError> {
        tokio::time::timeout(self.timeout, self.follow(target))
            .await
            .map_err(|_| FetchError::Timeout(self.timeout))?
    }

    async fn follow(&self, target: &TargetUrl) -> Result<Option<Title>, FetchError> {
        let mut url = self.guard.checked(target.as_str())?;
        for _ in 0..=MAX_REDIRECTS {
            let address = self.guard.resolve(&url).await?;
            let client = self.guard.client(&url, address, USER_AGENT, None)?;
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
                url = self.guard.checked(next.as_str())?;
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
