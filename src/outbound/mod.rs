//! Requests kurz makes to addresses its users name (title fetches, webhook deliveries) go
//! through one guard against server-side request forgery: the URL passes the target policy,
//! its host is resolved and every address checked (one private address refuses the host
//! unless `target.allow_private`), and the client connects to the address that was checked (no
//! second lookup a DNS rebinding could answer otherwise) and follows no redirects itself.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::domain::TargetPolicy;

/// Why the guard refused a URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GuardError {
    #[error("refused by the target policy: {0}")]
    Refused(String),
    #[error("cannot resolve the host: {0}")]
    Resolve(String),
}

/// The target policy applied to outgoing requests.
#[derive(Clone)]
pub struct OutboundGuard {
    targets: Arc<TargetPolicy>,
    /// Host names answered from here instead of DNS (tests: a public-looking name for a local
    /// server). Their addresses are checked like any other.
    hosts: Arc<HashMap<String, SocketAddr>>,
    /// Addresses taken for public ones (tests: a local server standing for a public site).
    /// Empty in kurz itself.
    trusted: Arc<HashSet<SocketAddr>>,
}

impl OutboundGuard {
    pub fn new(targets: Arc<TargetPolicy>) -> Self {
        Self {
            targets,
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

    /// `url` as the target policy parses it.
    pub fn checked(&self, url: &str) -> Result<Url, GuardError> {
        let target = self
            .targets
            .parse(url)
            .map_err(|why| GuardError::Refused(why.to_string()))?;
        Url::parse(target.as_str()).map_err(|e| GuardError::Refused(e.to_string()))
    }

    /// The address to connect to for `url`: its host's, each of which must pass the policy's
    /// address rule (one private address refuses the host).
    pub async fn resolve(&self, url: &Url) -> Result<SocketAddr, GuardError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let name = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<SocketAddr> = match self.hosts.get(&name.to_ascii_lowercase()) {
            Some(address) => vec![*address],
            None => tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| GuardError::Resolve(e.to_string()))?
                .collect(),
        };
        for address in addresses.iter().filter(|a| !self.trusted.contains(a)) {
            self.targets
                .check_ip(address.ip(), name)
                .map_err(|why| GuardError::Refused(why.to_string()))?;
        }
        addresses
            .first()
            .copied()
            .ok_or_else(|| GuardError::Resolve(format!("no address for `{name}`")))
    }

    /// A client for one request to `url`, pinned to `address` (from [`OutboundGuard::resolve`]),
    /// following no redirects, giving up after `timeout` when given (a caller bounding a
    /// whole exchange of several requests bounds it itself).
    pub fn client(
        &self,
        url: &Url,
        address: SocketAddr,
        user_agent: &str,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Client, reqwest::Error> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, address)
            .user_agent(user_agent);
        if let Some(timeout) = timeout {
            builder = builder.connect_timeout(timeout).timeout(timeout);
        }
        builder.build()
    }
}
