use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Enricher, VisitCounters, VisitEvent};
use crate::cluster::Cluster;
use crate::config::{EnrichmentSettings, VisitSettings};
use crate::store::{NewVisit, Store};

/// Attempts at writing one batch once shutdown has begun; before that a batch is retried until
/// the database takes it, since the queue in front holds the redirects' visits meanwhile.
const ATTEMPTS_WHILE_STOPPING: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The background task that drains the queue, enriches visits (user agent, bot flag,
/// anonymised IP) and writes them in batches: a batch is written
/// when it holds `batch_size` visits or its first visit is `flush_interval` old. The ids of the
/// visits stored go to the [`Cluster`] (live streams), which never makes the writer wait.
pub struct VisitWriter {
    handle: JoinHandle<()>,
    stop: CancellationToken,
}

impl VisitWriter {
    pub fn spawn(
        store: Arc<dyn Store>,
        receiver: mpsc::Receiver<VisitEvent>,
        counters: Arc<VisitCounters>,
        settings: &VisitSettings,
        enrichment: &EnrichmentSettings,
        cluster: Arc<Cluster>,
    ) -> Self {
        let stop = CancellationToken::new();
        let parallelism = settings
            .write_parallelism
            .min(store.max_concurrent_writes())
            .max(1);
        let worker = Worker {
            parallelism,
            store,
            enricher: Enricher::new(enrichment),
            counters,
            cluster,
            batch_size: settings.batch_size,
            flush_interval: Duration::from_millis(settings.flush_interval_ms),
            stop: stop.clone(),
        };
        let handle = tokio::spawn(worker.run(receiver));
        Self { handle, stop }
    }

    /// Stops taking new visits, writes every visit already queued, and returns once done.
    /// Call it after the HTTP server has finished its in-flight requests.
    pub async fn drain(self) {
        self.stop.cancel();
        if let Err(error) = self.handle.await {
            tracing::error!(%error, "visit writer ended abnormally");
        }
    }
}

struct Worker {
    parallelism: usize,
    store: Arc<dyn Store>,
    enricher: Enricher,
    counters: Arc<VisitCounters>,
    cluster: Arc<Cluster>,
    batch_size: usize,
    flush_interval: Duration,
    stop: CancellationToken,
}

impl Worker {
    async fn run(self, mut receiver: mpsc::Receiver<VisitEvent>) {
        let mut events = Vec::with_capacity(self.batch_size);
        loop {
            tokio::select! {
                received = receiver.recv_many(&mut events, self.batch_size) => {
                    if received == 0 {
                        break;
                    }
                }
                () = self.stop.cancelled() => {
                    receiver.close();
                    while receiver.recv_many(&mut events, self.batch_size).await > 0 {
                        if events.len() >= self.batch_size {
                            self.write(std::mem::take(&mut events)).await;
                        }
                    }
                    break;
                }
            }
            let deadline = Instant::now() + self.flush_interval;
            while events.len() < self.batch_size && !self.stop.is_cancelled() {
                let room = self.batch_size - events.len();
                match tokio::time::timeout_at(deadline, receiver.recv_many(&mut events, room)).await
                {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            self.write(std::mem::take(&mut events)).await;
        }
        self.write(events).await;
        tracing::info!(
            stored = VisitCounters::get(&self.counters.stored),
            dropped = VisitCounters::get(&self.counters.dropped),
            "visit writer drained"
        );
    }

    /// Enriches a batch, splits it by URL into `parallelism` parts and writes them at once.
    /// Each part is its own transaction with its own retries, so a part is never written twice.
    async fn write(&self, events: Vec<VisitEvent>) {
        if events.is_empty() {
            return;
        }
        let mut parts: Vec<Vec<NewVisit>> = vec![Vec::new(); self.parallelism];
        for event in events {
            let visit = self.enricher.enrich(event);
            let part = visit.url_id.rem_euclid(self.parallelism as i64) as usize;
            parts[part].push(visit);
        }
        let size: usize = parts.iter().map(Vec::len).sum();
        let started = std::time::Instant::now();
        let writes = parts
            .into_iter()
            .filter(|part| !part.is_empty())
            .map(|part| self.write_part(part));
        futures_util::future::join_all(writes).await;
        metrics::histogram!("kurz_visit_batch_size").record(size as f64);
        metrics::histogram!("kurz_visit_flush_seconds").record(started.elapsed().as_secs_f64());
    }

    async fn write_part(&self, visits: Vec<NewVisit>) {
        let mut backoff = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.store.record_visits(&visits).await {
                Ok(ids) => {
                    let stored = ids.len();
                    self.counters
                        .stored
                        .fetch_add(stored as u64, Ordering::Relaxed);
                    self.counters.batches.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(batch = visits.len(), stored, "visits written");
                    self.cluster.visits_stored(ids);
                    return;
                }
                Err(error) => {
                    self.counters.failed_writes.fetch_add(1, Ordering::Relaxed);
                    if self.stop.is_cancelled() && attempt >= ATTEMPTS_WHILE_STOPPING {
                        self.counters
                            .dropped
                            .fetch_add(visits.len() as u64, Ordering::Relaxed);
                        tracing::error!(%error, lost = visits.len(), "giving up on a visit batch at shutdown");
                        return;
                    }
                    tracing::warn!(%error, attempt, retry_in_ms = backoff.as_millis() as u64, "visit batch not written, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}
