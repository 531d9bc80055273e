use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Captured, Enricher, VisitCounters};
use crate::cluster::Cluster;
use crate::config::{EnrichmentSettings, VisitSettings};
use crate::geo::Geo;
use crate::store::{NewOrphanVisit, NewVisit, Store, StoreError};

/// Attempts at writing one batch once shutdown has begun; before that a batch is retried until
/// the database takes it, since the queue in front holds the redirects' visits meanwhile.
const ATTEMPTS_WHILE_STOPPING: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// `FIRST_BACKOFF`, doubled after each failed write up to `MAX_BACKOFF`, without end (shutdown
/// ends the retries, not the schedule).
fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(FIRST_BACKOFF)
        .with_max_delay(MAX_BACKOFF)
        .without_max_times()
}

/// The background tasks that drain the queue and store visits in batches. A batch is taken
/// when it holds `batch_size` visits or its first visit is `flush_interval` old.
///
/// Two tasks, so that preparing a batch and storing the one before overlap: the collector
/// receives and enriches (user agent, bot flag, anonymised IP) the next batch while the storer
/// writes the last one; one batch waits between them at most. The ids of the visits stored go
/// to the [`Cluster`] (live streams), which never makes the writer wait.
pub struct VisitWriter {
    collector: JoinHandle<()>,
    storer: JoinHandle<()>,
    stop: CancellationToken,
}

impl VisitWriter {
    pub fn spawn(
        store: Arc<dyn Store>,
        receiver: mpsc::Receiver<Captured>,
        counters: Arc<VisitCounters>,
        settings: &VisitSettings,
        enrichment: &EnrichmentSettings,
        cluster: Arc<Cluster>,
        geo: Geo,
    ) -> Self {
        let stop = CancellationToken::new();
        let parallelism = Self::parallelism(settings, store.as_ref());
        let (batches, ready) = mpsc::channel(1);
        let collector = Collector {
            enricher: Enricher::new(enrichment).locating(geo),
            batch_size: settings.batch_size.get(),
            flush_interval: Duration::from_millis(settings.flush_interval_ms),
            stop: stop.clone(),
            batches,
        };
        let storer = Storer {
            parallelism,
            store,
            counters,
            cluster,
            stop: stop.clone(),
        };
        Self {
            collector: tokio::spawn(collector.run(receiver)),
            storer: tokio::spawn(storer.run(ready)),
            stop,
        }
    }

    /// How many parts a batch is split into and written at once: `visits.write_parallelism`,
    /// as far as the store can write at once.
    pub fn parallelism(settings: &VisitSettings, store: &dyn Store) -> usize {
        settings
            .write_parallelism
            .min(store.max_concurrent_writes())
            .max(1)
    }

    /// Stops taking new visits, writes every visit already queued, and returns once done.
    /// Call it after the HTTP server has finished its in-flight requests.
    pub async fn drain(self) {
        self.stop.cancel();
        for (task, handle) in [("collector", self.collector), ("storer", self.storer)] {
            if let Err(error) = handle.await {
                tracing::error!(%error, task, "visit writer ended abnormally");
            }
        }
    }
}

/// One batch, enriched: links' visits and orphan visits, taken from the queue together.
#[derive(Default)]
struct Batch {
    visits: Vec<NewVisit>,
    orphans: Vec<NewOrphanVisit>,
}

/// Receives events into batches and enriches them.
struct Collector {
    enricher: Enricher,
    batch_size: usize,
    flush_interval: Duration,
    stop: CancellationToken,
    batches: mpsc::Sender<Batch>,
}

impl Collector {
    async fn run(self, mut receiver: mpsc::Receiver<Captured>) {
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
                            self.hand_over(std::mem::take(&mut events)).await;
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
            self.hand_over(std::mem::take(&mut events)).await;
        }
        self.hand_over(events).await;
        // Dropping `batches` lets the storer finish.
    }

    async fn hand_over(&self, events: Vec<Captured>) {
        if events.is_empty() {
            return;
        }
        let mut batch = Batch {
            visits: Vec::with_capacity(events.len()),
            orphans: Vec::new(),
        };
        for (n, event) in events.into_iter().enumerate() {
            match event {
                Captured::Link(event) => batch.visits.push(self.enricher.enrich(event)),
                Captured::Orphan(event) => batch.orphans.push(self.enricher.enrich_orphan(event)),
            }
            // A batch of thousands of visits, each looked up in the geolocation file, is
            // milliseconds of CPU: the redirects waiting on this worker thread go first every
            // ENRICH_SLICE visits instead of after the whole batch (their p99 doubled).
            if n % ENRICH_SLICE == ENRICH_SLICE - 1 {
                tokio::task::yield_now().await;
            }
        }
        if self.batches.send(batch).await.is_err() {
            tracing::error!("the visit storer is gone; a batch is lost");
        }
    }
}

/// Visits enriched between two yields to the runtime (see `Collector::hand_over`): about
/// 0.2 ms of work with a geolocation file.
const ENRICH_SLICE: usize = 128;

/// Writes enriched batches.
struct Storer {
    parallelism: usize,
    store: Arc<dyn Store>,
    counters: Arc<VisitCounters>,
    cluster: Arc<Cluster>,
    stop: CancellationToken,
}

impl Storer {
    async fn run(self, mut ready: mpsc::Receiver<Batch>) {
        while let Some(batch) = ready.recv().await {
            let orphans = self.write_orphans(batch.orphans);
            let visits = async {
                if !batch.visits.is_empty() {
                    self.write(batch.visits).await;
                }
            };
            tokio::join!(visits, orphans);
        }
        tracing::info!(
            stored = VisitCounters::get(&self.counters.stored),
            dropped = VisitCounters::get(&self.counters.dropped),
            "visit writer drained"
        );
    }

    /// Splits a batch by URL into `parallelism` parts and writes them at once. Each part is
    /// its own transaction with its own retries, so a part is never written twice.
    async fn write(&self, visits: Vec<NewVisit>) {
        let size = visits.len();
        let mut parts: Vec<Vec<NewVisit>> = vec![Vec::new(); self.parallelism];
        if self.parallelism == 1 {
            parts[0] = visits;
        } else {
            for visit in visits {
                let part = visit.url_id.rem_euclid(self.parallelism as i64) as usize;
                parts[part].push(visit);
            }
        }
        let started = std::time::Instant::now();
        let writes = parts
            .into_iter()
            .filter(|part| !part.is_empty())
            .map(|part| self.write_part(part));
        futures_util::future::join_all(writes).await;
        metrics::histogram!("kurz_visit_batch_size").record(size as f64);
        metrics::histogram!("kurz_visit_flush_seconds").record(started.elapsed().as_secs_f64());
    }

    /// Writes one part, retrying as [`Storer::persist`] does.
    async fn write_part(&self, visits: Vec<NewVisit>) {
        let store = &self.store;
        match self.persist(|| store.record_visits(&visits)).await {
            Ok(ids) => {
                let stored = ids.len();
                self.counters
                    .stored
                    .fetch_add(stored as u64, Ordering::Relaxed);
                self.counters.batches.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(batch = visits.len(), stored, "visits written");
                self.cluster.visits_stored(ids);
            }
            Err(error) => {
                self.counters
                    .dropped
                    .fetch_add(visits.len() as u64, Ordering::Relaxed);
                tracing::error!(%error, lost = visits.len(), "giving up on a visit batch at shutdown");
            }
        }
    }

    /// Writes a batch's orphan visits, one transaction, retrying as [`Storer::persist`] does.
    async fn write_orphans(&self, orphans: Vec<NewOrphanVisit>) {
        if orphans.is_empty() {
            return;
        }
        let store = &self.store;
        match self.persist(|| store.record_orphan_visits(&orphans)).await {
            Ok(ids) => {
                self.counters
                    .orphans_stored
                    .fetch_add(ids.len() as u64, Ordering::Relaxed);
                tracing::debug!(stored = ids.len(), "orphan visits written");
            }
            Err(error) => {
                tracing::error!(%error, lost = orphans.len(), "giving up on orphan visits at shutdown");
            }
        }
    }

    /// Runs one write, retrying after `FIRST_BACKOFF`, then twice the last wait (at most
    /// `MAX_BACKOFF`): until the database takes it, or for `ATTEMPTS_WHILE_STOPPING` attempts
    /// in all once shutdown has begun. Each attempt is its own transaction, so nothing is
    /// written twice.
    async fn persist<F, Fut>(&self, write: F) -> Result<Vec<i64>, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<i64>, StoreError>>,
    {
        let attempts = AtomicU32::new(0);
        let (counters, attempts_ref, write) = (&self.counters, &attempts, &write);
        let written = (|| async move {
            attempts_ref.fetch_add(1, Ordering::Relaxed);
            let written = write().await;
            if written.is_err() {
                counters.failed_writes.fetch_add(1, Ordering::Relaxed);
                counters.writer_failing.store(true, Ordering::Relaxed);
            }
            written
        })
        .retry(backoff())
        .when(|_| {
            !(self.stop.is_cancelled()
                && attempts.load(Ordering::Relaxed) >= ATTEMPTS_WHILE_STOPPING)
        })
        .notify(|error, delay| {
            let attempt = attempts.load(Ordering::Relaxed);
            tracing::warn!(%error, attempt, retry_in_ms = delay.as_millis() as u64, "visit batch not written, retrying");
        })
        .await;
        if written.is_ok() {
            self.counters.writer_failing.store(false, Ordering::Relaxed);
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use backon::BackoffBuilder;

    use super::*;

    #[test]
    fn retries_wait_a_tenth_of_a_second_doubling_up_to_five() {
        let millis: Vec<u128> = backoff().build().take(8).map(|d| d.as_millis()).collect();
        assert_eq!(millis, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }
}
