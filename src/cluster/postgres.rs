//! `cluster.backend = "postgres"`: `NOTIFY` out, `LISTEN` in, on `cluster.channel`.
//!
//! The cluster keeps its own two connections (`application_name = kurz-cluster`): one
//! `LISTEN`s, one sends. A publisher task coalesces what the writer and the API hand it (all the
//! ids and slugs waiting, in as few notes as fit) so a burst of batches costs a few `NOTIFY`s.
//!
//! A notification sent while the `LISTEN` connection is down is lost, and with it perhaps an
//! eviction; so from the moment the connection is lost the redirect cache is bypassed and
//! emptied, and it is emptied again on every reconnect: no instance serves a target it could
//! have missed a change of. Reconnects back off from 100 ms to 5 s.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::notes::{self, Note};
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

enum Outgoing {
    Visits(Vec<i64>),
    Evict(Slug),
}

pub struct Bus {
    outgoing: mpsc::Sender<Outgoing>,
}

impl Bus {
    pub fn start(
        database_url: &str,
        channel: &str,
        instance: Arc<str>,
        relay: mpsc::Sender<Vec<i64>>,
        cache: Arc<RedirectCache>,
        stop: CancellationToken,
    ) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(database_url)?.application_name(APPLICATION_NAME);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        let (outgoing, waiting) = mpsc::channel(OUTGOING_CAPACITY);
        tokio::spawn(publish(
            pool.clone(),
            channel.to_owned(),
            instance.clone(),
            waiting,
        ));
        // Until the first LISTEN is up, nobody would tell this instance about changes.
        cache.set_bypass(true);
        tokio::spawn(listen(
            pool,
            channel.to_owned(),
            instance,
            relay,
            cache,
            stop,
        ));
        Ok(Self { outgoing })
    }

    pub fn visits_stored(&self, ids: &[i64]) {
        if self
            .outgoing
            .try_send(Outgoing::Visits(ids.to_vec()))
            .is_err()
        {
            metrics::counter!("kurz_cluster_notes_dropped_total").increment(1);
        }
    }

    pub async fn url_changed(&self, slug: &Slug) {
        let _ = self.outgoing.send(Outgoing::Evict(slug.clone())).await;
    }
}

/// Sends what is waiting, coalesced, until every sender is gone.
async fn publish(
    pool: PgPool,
    channel: String,
    instance: Arc<str>,
    mut waiting: mpsc::Receiver<Outgoing>,
) {
    let mut items = Vec::with_capacity(COALESCE);
    while waiting.recv_many(&mut items, COALESCE).await > 0 {
        let mut ids = Vec::new();
        let mut slugs = Vec::new();
        for item in items.drain(..) {
            match item {
                Outgoing::Visits(batch) => ids.extend(batch),
                Outgoing::Evict(slug) => slugs.push(slug.to_string()),
            }
        }
        slugs.sort_unstable();
        slugs.dedup();
        let note = Note {
            i: instance.to_string(),
            v: notes::ranges(ids),
            e: slugs,
        };
        for payload in notes::payloads(note) {
            if let Err(error) = notify(&pool, &channel, &payload).await {
                tracing::warn!(%error, "cluster notification not sent");
                metrics::counter!("kurz_cluster_notes_dropped_total").increment(1);
            }
        }
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

/// Listens until `stop`, reconnecting with backoff; see the module documentation for what a
/// lost connection does to the cache.
async fn listen(
    pool: PgPool,
    channel: String,
    instance: Arc<str>,
    relay: mpsc::Sender<Vec<i64>>,
    cache: Arc<RedirectCache>,
    stop: CancellationToken,
) {
    let mut connected_before = false;
    let mut backoff = MIN_BACKOFF;
    loop {
        match connect(&pool, &channel).await {
            Ok(mut listener) => {
                if connected_before {
                    cache.clear();
                    tracing::info!("cluster LISTEN reconnected; redirect cache dropped");
                    metrics::counter!("kurz_cluster_reconnects_total").increment(1);
                }
                cache.set_bypass(false);
                connected_before = true;
                backoff = MIN_BACKOFF;
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
                cache.set_bypass(true);
                cache.clear();
            }
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "cluster LISTEN cannot connect")
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
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
