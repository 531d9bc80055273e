use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{OrphanEvent, VisitEvent};

/// A dropped visit is logged for the first drop and then once per this many.
const DROP_LOG_EVERY: u64 = 1_000;

/// Counters of the pipeline, readable at any time (metrics are built on them), and whether
/// the writer's last write failed.
#[derive(Debug, Default)]
pub struct VisitCounters {
    pub enqueued: AtomicU64,
    pub dropped: AtomicU64,
    pub stored: AtomicU64,
    pub batches: AtomicU64,
    pub failed_writes: AtomicU64,
    /// Orphan visits (clicks that reached no link) taken into the queue, left out of a full
    /// queue (they never wait), and stored.
    pub orphans_enqueued: AtomicU64,
    pub orphans_dropped: AtomicU64,
    pub orphans_stored: AtomicU64,
    /// Set by the writer when a write fails, cleared when one succeeds.
    pub writer_failing: AtomicBool,
}

impl VisitCounters {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// How long a click waits for room in a full queue.
#[derive(Debug, Clone, Copy)]
pub struct EnqueueTimeouts {
    /// While the writer is storing visits: the queue is full because clicks come faster than
    /// the database takes them, and the click waits (backpressure) rather than be lost.
    pub storing: Duration,
    /// While the writer's writes fail (the database is down): the visit is dropped soon, so
    /// redirects keep being answered quickly from the cache.
    pub failing: Duration,
}

/// What the queue carries: a link's click, or a click that reached no link.
#[derive(Debug, Clone)]
pub enum Captured {
    Link(VisitEvent),
    Orphan(OrphanEvent),
}

/// The redirect handler's end of the pipeline: a bounded channel. When it is full a click waits
/// for room, up to [`EnqueueTimeouts::storing`] while the writer stores and
/// [`EnqueueTimeouts::failing`] while its writes fail; only past that is a visit dropped, and
/// every drop is counted and logged. Orphan visits never wait: a full queue leaves them out
/// (counted), so that probes of unknown paths cannot hold up anything.
#[derive(Clone)]
pub struct VisitQueue {
    sender: mpsc::Sender<Captured>,
    timeouts: EnqueueTimeouts,
    counters: Arc<VisitCounters>,
}

impl VisitQueue {
    /// The queue and the receiving end the writer drains.
    pub fn new(
        capacity: usize,
        timeouts: EnqueueTimeouts,
    ) -> (Self, mpsc::Receiver<Captured>, Arc<VisitCounters>) {
        let (sender, receiver) = mpsc::channel(capacity);
        let counters = Arc::new(VisitCounters::default());
        let queue = Self {
            sender,
            timeouts,
            counters: counters.clone(),
        };
        (queue, receiver, counters)
    }

    pub async fn record(&self, event: VisitEvent) {
        let outcome = match self.sender.try_send(Captured::Link(event)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(event)) => {
                let wait = if self.counters.writer_failing.load(Ordering::Relaxed) {
                    self.timeouts.failing
                } else {
                    self.timeouts.storing
                };
                self.sender
                    .send_timeout(event, wait)
                    .await
                    .map_err(|_| "queue full")
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err("queue closed"),
        };
        match outcome {
            Ok(()) => {
                self.counters.enqueued.fetch_add(1, Ordering::Relaxed);
            }
            Err(reason) => {
                let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Every drop is counted; the log says so for the first and then every
                // thousandth, so an overload does not also flood the logs.
                if dropped == 1 || dropped % DROP_LOG_EVERY == 0 {
                    tracing::warn!(reason, dropped_total = dropped, "visits dropped");
                }
            }
        }
    }

    /// Takes an orphan visit if the queue has room at once; otherwise leaves it out.
    pub fn record_orphan(&self, event: OrphanEvent) {
        let counter = match self.sender.try_send(Captured::Orphan(event)) {
            Ok(()) => &self.counters.orphans_enqueued,
            Err(_) => &self.counters.orphans_dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Visits waiting to be written.
    pub fn depth(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    pub fn counters(&self) -> &VisitCounters {
        &self.counters
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use chrono::Utc;

    use super::*;

    fn event() -> VisitEvent {
        VisitEvent {
            url_id: 1,
            at: Utc::now(),
            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            cap_taken: false,
            rule: None,
            user_agent: None,
            referrer: None,
        }
    }

    fn queue() -> (VisitQueue, mpsc::Receiver<Captured>, Arc<VisitCounters>) {
        VisitQueue::new(
            1,
            EnqueueTimeouts {
                storing: Duration::from_secs(5),
                failing: Duration::from_millis(20),
            },
        )
    }

    /// A full queue while the writer stores: the click waits for room and is kept.
    #[tokio::test]
    async fn a_full_queue_makes_clicks_wait_while_the_writer_stores() {
        let (queue, mut receiver, counters) = queue();
        queue.record(event()).await;
        let drain = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut taken = 0;
            while receiver.recv().await.is_some() {
                taken += 1;
            }
            taken
        });
        let started = std::time::Instant::now();
        queue.record(event()).await;
        assert!(started.elapsed() >= Duration::from_millis(50), "it waited");
        assert_eq!(VisitCounters::get(&counters.enqueued), 2);
        assert_eq!(VisitCounters::get(&counters.dropped), 0);
        drop(queue);
        assert_eq!(drain.await.unwrap(), 2);
    }

    /// A full queue while the writer's writes fail: the visit is dropped (and counted) soon.
    #[tokio::test]
    async fn a_full_queue_drops_soon_while_the_writer_fails() {
        let (queue, _receiver, counters) = queue();
        counters.writer_failing.store(true, Ordering::Relaxed);
        queue.record(event()).await;
        let started = std::time::Instant::now();
        queue.record(event()).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "it did not wait long"
        );
        assert_eq!(VisitCounters::get(&counters.enqueued), 1);
        assert_eq!(VisitCounters::get(&counters.dropped), 1);
    }

    /// An orphan visit never waits for room: a full queue leaves it out, counted.
    #[tokio::test]
    async fn orphans_never_wait_for_room() {
        let (queue, mut receiver, counters) = queue();
        let orphan = || OrphanEvent {
            kind: crate::domain::OrphanKind::InvalidSlug,
            path: "/nope".into(),
            at: Utc::now(),
            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            user_agent: None,
            referrer: None,
        };
        queue.record_orphan(orphan());
        let started = std::time::Instant::now();
        queue.record_orphan(orphan());
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(VisitCounters::get(&counters.orphans_enqueued), 1);
        assert_eq!(VisitCounters::get(&counters.orphans_dropped), 1);
        assert!(matches!(receiver.recv().await, Some(Captured::Orphan(_))));
    }
}
