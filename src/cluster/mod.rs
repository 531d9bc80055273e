//! What kurz processes on one database must tell each other, with no broker besides the
//! database: which visits were stored (for live streams) and which links changed (for the
//! redirect caches).
//!
//! Link changes reach every server from any process, on both backends, through the change log
//! the store writes with each change ([`follower`]). With `cluster.backend = "postgres"`
//! instances also `NOTIFY` each other on `cluster.channel` and `LISTEN` (see [`postgres`]),
//! which carries stored visits and makes evictions immediate; management commands on
//! PostgreSQL notify too ([`announcer`]).
//!
//! Local first, always: the writer's own instance hands the ids it stored straight to its
//! relay, and a change evicts the slug from its own cache at once; notifications carry the
//! sender's instance id and an instance ignores its own. Either way a visit reaches the hub
//! through the relay, which reads the visits by id (only while someone watches), so a live
//! visit is exactly the object the visit lists return.

pub mod follower;
mod notes;
pub mod postgres;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::app::ChangeNotice;
use crate::cache::RedirectCache;
use crate::config::{ClusterBackend, Settings};
use crate::domain::Slug;
use crate::live::LiveHub;
use crate::store::{Store, MAX_VISITS_BY_IDS};

/// Batches of visit ids waiting for the relay; past this, ids are dropped (only live viewers
/// would notice) rather than slow the writer.
const RELAY_CAPACITY: usize = 1024;

pub struct Cluster {
    instance: Arc<str>,
    relay: mpsc::Sender<Vec<i64>>,
    cache: Arc<RedirectCache>,
    bus: Option<postgres::Bus>,
    stop: CancellationToken,
}

impl Cluster {
    /// Starts the relay, the change log follower and, for `postgres`, the publisher and the
    /// listener.
    pub fn start(
        settings: &Settings,
        store: Arc<dyn Store>,
        hub: LiveHub,
        cache: Arc<RedirectCache>,
    ) -> anyhow::Result<Arc<Self>> {
        let mut cluster = Self::local(store.clone(), hub, cache);
        let wake = Arc::new(Notify::new());
        // Bypassed from now, not from when the follower's task first runs: no redirect may be
        // cached before the follower knows where the change log ends.
        cluster.cache.set_bypass(true);
        tokio::spawn(follower::follow(
            store,
            cluster.cache.clone(),
            wake.clone(),
            Duration::from_millis(settings.cluster.poll_interval_ms),
            cluster.stop.clone(),
        ));
        if settings.cluster.backend == ClusterBackend::Postgres {
            cluster.bus = Some(postgres::Bus::start(
                &settings.database.effective_url(),
                &settings.cluster.channel,
                cluster.instance.clone(),
                cluster.relay.clone(),
                cluster.cache.clone(),
                wake,
                cluster.stop.clone(),
            )?);
        }
        tracing::info!(backend = ?settings.cluster.backend, instance = %cluster.instance, "cluster started");
        Ok(Arc::new(cluster))
    }

    /// This process only, whatever `cluster.backend` says, following no change log
    /// (`kurz dev seed`'s visit writer).
    pub fn memory(store: Arc<dyn Store>, hub: LiveHub, cache: Arc<RedirectCache>) -> Arc<Self> {
        Arc::new(Self::local(store, hub, cache))
    }

    fn local(store: Arc<dyn Store>, hub: LiveHub, cache: Arc<RedirectCache>) -> Self {
        let (relay, incoming) = mpsc::channel(RELAY_CAPACITY);
        tokio::spawn(relay_visits(incoming, store, hub));
        Self {
            instance: nanoid::nanoid!(12).into(),
            relay,
            cache,
            bus: None,
            stop: CancellationToken::new(),
        }
    }

    /// This process's id in notifications.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The visit writer stored these visits. Never waits.
    pub fn visits_stored(&self, ids: Vec<i64>) {
        if ids.is_empty() {
            return;
        }
        if let Some(bus) = &self.bus {
            bus.visits_stored(&ids);
        }
        if self.relay.try_send(ids).is_err() {
            metrics::counter!("kurz_live_relay_dropped_total").increment(1);
        }
    }

    /// Stops listening; called once the server has stopped.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// Links were changed: evicts them here at once, and tells the other instances.
#[async_trait]
impl ChangeNotice for Cluster {
    async fn links_changed(&self, slugs: &[Slug]) {
        for slug in slugs {
            self.cache.invalidate(slug.as_str());
        }
        if let Some(bus) = &self.bus {
            bus.notifier.evict(slugs).await;
        }
    }
}

/// How a management command announces its link changes: on PostgreSQL a `NOTIFY` on
/// `cluster.channel` (servers with `cluster.backend = "postgres"` evict at once); on SQLite
/// nothing beyond the change log, which the servers read every `cluster.poll_interval_ms`.
pub fn announcer(settings: &Settings) -> anyhow::Result<Arc<dyn ChangeNotice>> {
    let url = settings.database.effective_url();
    if url.starts_with("sqlite:") {
        return Ok(Arc::new(ChangeLogOnly));
    }
    let instance: Arc<str> = format!("command-{}", nanoid::nanoid!(8)).into();
    Ok(Arc::new(postgres::Notifier::connect(
        &url,
        &settings.cluster.channel,
        instance,
    )?))
}

/// Leaves the announcing to the change log.
struct ChangeLogOnly;

#[async_trait]
impl ChangeNotice for ChangeLogOnly {
    async fn links_changed(&self, _slugs: &[Slug]) {}
}

/// Reads stored visits by id and hands them to the hub, only while someone is watching, off
/// the writer's path.
async fn relay_visits(mut incoming: mpsc::Receiver<Vec<i64>>, store: Arc<dyn Store>, hub: LiveHub) {
    while let Some(ids) = incoming.recv().await {
        if !hub.has_subscribers() {
            continue;
        }
        for chunk in ids.chunks(MAX_VISITS_BY_IDS) {
            match store.visits_by_ids(chunk).await {
                Ok(visits) => hub.publish(visits),
                Err(error) => {
                    tracing::warn!(%error, visits = chunk.len(), "live visits not relayed");
                }
            }
        }
    }
}
