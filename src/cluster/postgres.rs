//! `cluster.backend = "postgres"`: `NOTIFY` out, `LISTEN` in, on `cluster.channel`.
//!
//! The cluster keeps its own two connections (`application_name = kurz-cluster`): one
//! `LISTEN`s, one sends. A publisher task coalesces the visit ids the writer hands it (all
//! that wait, in as few notes as fit) so a burst of batches costs a few `NOTIFY`s; link
//! evictions are sent at once by the [`Notifier`], which management commands use too.
//!
//! A notification sent while the `LISTEN` connection is down is lost, and with it perhaps an
//! eviction; the change log has it, and the listener wakes the change log follower as soon as
//! it is back, so the server catches up on exactly what it missed (see `super::follower`).
//! Reconnects back off from 100 ms to 5 s.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::notes::{self, Note};
use crate::app::ChangeNotice;
use crate::cache::RedirectCache;
use crate::domain::Slug;

/// The application name of the cluster's connections, as `pg_stat_activity` shows them.
pub const APPLICATION_NAME: &str = "kurz-cluster";
/// What waits for the publisher; visits past this are dropped, evictions wait.
const OUTGOING_CAPACITY: usize = 4096;
/// Most waiting items one round of the publisher coalesces.
const COALESCE: usize = 1024;
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Sends notes on the channel: link evictions at once, as the caller waits.
pub struct Notifier {
    pool: PgPool,
    channel: String,
    instance: Arc<str>,
}

impl Notifier {
    /// A pool of its own that connects on first use.
    pub fn connect(database_url: &str, channel: &str, instance: Arc<str>) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(database_url)?.application_name(APPLICATION_NAME);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            channel: channel.to_owned(),
            instance,
        })
    }

    /// Tells the other instances to evict these slugs. A note that cannot be sent is logged:
    /// the change log brings the eviction a moment later.
    pub async fn evict(&self, slugs: &[Slug]) {
        let mut slugs: Vec<String> = slugs.iter().map(Slug::to_string).collect();
        slugs.sort_unstable();
        slugs.dedup();
        self.send(Note {
            i: self.instance.to_string(),
            v: Vec::new(),
            e: slugs,
        })
        .await;
    }

    async fn send(&self, note: Note) {
        for payload in notes::payloads(note) {
            if let Err(error) = notify(&self.pool, &self.channel, &payload).await {
                tracing::warn!(%error, "cluster notification not sent");
                metrics::counter!("kurz_cluster_notes_dropped_total").increment(1);
            }
        }
    }
}

#[async_trait]
impl ChangeNotice for Notifier {
    async fn links_changed(&self, slugs: &[Slug]) {
        self.evict(slugs).await;
    }
}

pub struct Bus {
    visits: mpsc::Sender<Vec<i64>>,
    pub notifier: Arc<Notifier>,
}

impl Bus {
    pub fn start(
        database_url: &str,
        channel: &str,
        instance: Arc<str>,
        relay: mpsc::Sender<Vec<i64>>,
        cache: Arc<RedirectCache>,
        wake: Arc<Notify>,
        stop: CancellationToken,
    ) -> anyhow::Result<Self> {
        let notifier = Arc::new(Notifier::connect(database_url, channel, instance.clone())?);
        let (visits, waiting) = mpsc::channel(OUTGOING_CAPACITY);
        tokio::spawn(publish(notifier.clone(), waiting));
        tokio::spawn(listen(
            notifier.pool.clone(),
            channel.to_owned(),
            instance,
            relay,
            cache,
            wake,
            stop,
        ));
        Ok(Self { visits, notifier })
    }

    pub fn visits_stored(&self, ids: &[i64]) {
        if self.visits.try_send(ids.to_vec()).is_err() {
            metrics::counter!("kurz_cluster_notes_dropped_total").increment(1);
        }
    }
}

/// Sends the stored visits' ids that wait, coalesced, until every sender is gone.
async fn publish(notifier: Arc<Notifier>, mut waiting: mpsc::Receiver<Vec<i64>>) {
    let mut batches = Vec::with_capacity(COALESCE);
    while waiting.recv_many(&mut batches, COALESCE).await > 0 {
        let ids: Vec<i64> = batches.drain(..).flatten().collect();
        notifier
            .send(Note {
                i: notifier.instance.to_string(),
                v: notes::ranges(ids),
                e: Vec::new(),
            })
            .await;
    }
}

async fn notify(pool: &PgPool, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(pool)
        .await?;
    Ok(())
}

/// Listens until `stop`, reconnecting with backoff; after a reconnect the change log
/// follower is woken to catch up on what was missed meanwhile.
async fn listen(
    pool: PgPool,
    channel: String,
    instance: Arc<str>,
    relay: mpsc::Sender<Vec<i64>>,
    cache: Arc<RedirectCache>,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(MIN_BACKOFF)
        .with_max_delay(MAX_BACKOFF)
        .without_max_times();
    let mut connected_before = false;
    loop {
        let connecting = (|| connect(&pool, &channel))
            .retry(backoff)
            .notify(|error, wait| {
                tracing::warn!(%error, retry_in_ms = wait.as_millis() as u64, "cluster LISTEN cannot connect");
            });
        let mut listener = tokio::select! {
            () = stop.cancelled() => return,
            listener = connecting => match listener {
                Ok(listener) => listener,
                Err(_) => continue,
            },
        };
        if connected_before {
            wake.notify_one();
            tracing::info!("cluster LISTEN reconnected; catching up from the link change log");
            metrics::counter!("kurz_cluster_reconnects_total").increment(1);
        }
        connected_before = true;
        loop {
            let received = tokio::select! {
                () = stop.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => {
                    receive(notification.payload(), &instance, &relay, &cache);
                }
                Ok(None) => {
                    tracing::warn!("cluster LISTEN connection lost");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "cluster LISTEN connection failed");
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

fn receive(payload: &str, instance: &str, relay: &mpsc::Sender<Vec<i64>>, cache: &RedirectCache) {
    let note: Note = match serde_json::from_str(payload) {
        Ok(note) => note,
        Err(error) => {
            tracing::warn!(%error, "cluster notification not understood");
            return;
        }
    };
    if note.i == instance {
        return;
    }
    for slug in &note.e {
        cache.invalidate(slug);
    }
    let ids = note.visit_ids();
    if !ids.is_empty() && relay.try_send(ids).is_err() {
        metrics::counter!("kurz_live_relay_dropped_total").increment(1);
    }
}
