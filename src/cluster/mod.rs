//! What several kurz instances on one database must tell each other, with no broker besides
//! the database: which visits were stored (for live streams) and which slugs changed (for the
//! redirect caches).
//!
//! `cluster.backend = "memory"` keeps it all in this process. With `"postgres"` every instance
//! also `NOTIFY`s the others on `cluster.channel` and `LISTEN`s to them (see [`postgres`]).
//!
//! Local first, always: the writer's own instance hands the ids it stored straight to its
//! [`Relay`], and a PATCH or DELETE evicts the slug from its own cache at once; notifications
//! carry the sender's instance id and an instance ignores its own. Either way a visit reaches
//! the hub through the relay, which reads the visits by id (only while someone watches), so a
//! live visit is exactly the object the visit lists return.

mod notes;
pub mod postgres;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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
    /// Starts the relay and, for `postgres`, the publisher and the listener.
    pub fn start(
        settings: &Settings,
        store: Arc<dyn Store>,
        hub: LiveHub,
        cache: Arc<RedirectCache>,
    ) -> anyhow::Result<Arc<Self>> {
        let mut cluster = Self::local(store, hub, cache);
        if settings.cluster.backend == ClusterBackend::Postgres {
            cluster.bus = Some(postgres::Bus::start(
                &settings.database.effective_url(),
                &settings.cluster.channel,
                cluster.instance.clone(),
                cluster.relay.clone(),
                cluster.cache.clone(),
                cluster.stop.clone(),
            )?);
        }
        tracing::info!(backend = ?settings.cluster.backend, instance = %cluster.instance, "cluster started");
        Ok(Arc::new(cluster))
    }

    /// This process only, whatever `cluster.backend` says (management commands).
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

    /// A URL was changed or deleted: evicts its slug here and on every other instance.
    pub async fn url_changed(&self, slug: &Slug) {
        self.cache.invalidate(slug.as_str());
        if let Some(bus) = &self.bus {
            bus.url_changed(slug).await;
        }
    }

    /// Stops listening; called once the server has stopped.
    pub fn stop(&self) {
        self.stop.cancel();
    }
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
