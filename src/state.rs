use std::sync::Arc;

use crate::cache::RedirectCache;
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::domain::{SlugPolicy, TargetPolicy};
use crate::live::LiveHub;
use crate::rate_limit::RateLimits;
use crate::readiness::Readiness;
use crate::store::Store;
use crate::visits::{ClientIpResolver, VisitQueue};

/// What every handler can reach. Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub slugs: Arc<SlugPolicy>,
    /// What a short link may point to; every target from a request is parsed through it.
    pub targets: Arc<TargetPolicy>,
    /// The base of every short link, without a trailing slash.
    pub public_url: Arc<str>,
    pub visits: VisitQueue,
    pub redirects: Arc<RedirectCache>,
    /// Whether the database has been reached and migrated.
    pub readiness: Arc<Readiness>,
    pub rate_limits: Arc<RateLimits>,
    pub client_ip: Arc<ClientIpResolver>,
    /// Live visit streams of this instance.
    pub live: LiveHub,
    /// Visits and URL changes shared with the other instances.
    pub cluster: Arc<Cluster>,
}

impl AppState {
    pub fn short_url(&self, slug: &crate::domain::Slug) -> String {
        format!("{}/{}", self.public_url, slug)
    }
}
