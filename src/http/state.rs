use std::sync::Arc;

use crate::app::{Links, Visits, Webhooks};
use crate::cache::RedirectCache;
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::domain::{SlugPolicy, TargetPolicy};
use crate::http::rate_limit::RateLimits;
use crate::live::LiveHub;
use crate::readiness::Readiness;
use crate::store::Store;
use crate::visits::{BotTokens, ClientIpResolver, VisitQueue};

/// What every handler can reach. Cloned for every request (axum's `State`), so it is one
/// reference count around [`Shared`]; its fields are reached through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub settings: Arc<Settings>,
    /// Every change to a link goes through here.
    pub links: Links,
    /// Webhook endpoints (admins only).
    pub webhooks: Webhooks,
    pub store: Arc<dyn Store>,
    pub slugs: Arc<SlugPolicy>,
    /// What a short link may point to; every target from a request is parsed through it.
    pub targets: Arc<TargetPolicy>,
    /// The base of every short link, without a trailing slash.
    pub public_url: Arc<str>,
    pub visits: VisitQueue,
    /// Changes to stored visits (deleting a link's, or the orphans).
    pub stored_visits: Visits,
    pub redirects: Arc<RedirectCache>,
    /// Whether the database has been reached and migrated.
    pub readiness: Arc<Readiness>,
    pub rate_limits: Arc<RateLimits>,
    pub client_ip: Arc<ClientIpResolver>,
    /// The quick bot check of the redirect lane (capped links only).
    pub bots: BotTokens,
    /// Live visit streams of this instance.
    pub live: LiveHub,
    /// The OpenAPI document of the routes (`crate::http::router::document`).
    pub openapi: &'static utoipa::openapi::OpenApi,
    /// Visits and URL changes shared with the other instances.
    pub cluster: Arc<Cluster>,
    /// The geolocation database (rule conditions on `country`), shared with the visit writer.
    pub geo: crate::geo::Geo,
    /// The page indexes of the compat APIs' numbered lists.
    pub compat_pages: crate::http::compat::CompatPages,
}
