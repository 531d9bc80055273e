//! The deliverer: woken by this process's commits that queued deliveries and by a poll (other
//! instances' events, retries come due), it claims due deliveries and sends them, one endpoint
//! at a time per endpoint and at most `webhooks.concurrency` at once, so a slow or dead
//! endpoint only ever holds its own deliveries. At most `webhooks.claim_batch` deliveries are
//! held in memory. Nothing here runs on the redirect lane or in the visit writer.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::client::{Answer, Request, WebhookClient};
use super::envelope;
use crate::config::WebhookSettings;
use crate::store::{ClaimedDelivery, DeliveryOutcome, NewAttempt, Store};

/// How often finished deliveries past `webhooks.retention_hours` are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// Deliveries one pruning statement deletes.
const PRUNE_BATCH: u32 = 10_000;

/// The wait before attempt `attempts + 1`, after `attempts` failed ones: the base doubled per
/// failure, at most `max`, less a random tenth so that many retries do not move in step.
pub fn backoff(attempts: u32, base: Duration, max: Duration) -> Duration {
    let doubled = base.saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)));
    let wait = doubled.min(max);
    let jitter = wait.mul_f64(rand::random::<f64>() * 0.1);
    wait - jitter
}

/// What the worker shares with its delivery tasks.
struct Shared {
    store: Arc<dyn Store>,
    client: WebhookClient,
    settings: WebhookSettings,
    public_url: Arc<str>,
    wake: Arc<Notify>,
    /// Endpoints with a delivery task running, and the deliveries those tasks hold.
    busy: Mutex<(HashSet<i64>, usize)>,
    /// Set when the application stops: nothing more is claimed or started.
    stopping: tokio::sync::watch::Receiver<bool>,
}

/// The running deliverer. [`Deliverer::stop`] lets the attempts in flight finish (and be
/// recorded); dropped, it stops at once, their leases left to expire.
pub struct Deliverer {
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
    /// How long [`Deliverer::stop`] waits for the attempts in flight.
    grace: Duration,
}

impl Drop for Deliverer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Deliverer {
    pub fn spawn(
        store: Arc<dyn Store>,
        client: WebhookClient,
        settings: WebhookSettings,
        public_url: Arc<str>,
    ) -> Self {
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let grace = Duration::from_millis(settings.timeout_ms.get()) + Duration::from_secs(1);
        let shared = Arc::new(Shared {
            stopping,
            wake: store.webhook_wakeup(),
            store,
            client,
            settings,
            public_url,
            busy: Mutex::new((HashSet::new(), 0)),
        });
        Self {
            task: tokio::spawn(run(shared)),
            stop,
            grace,
        }
    }

    /// Stops claiming, lets the attempts in flight finish (at most their timeout), gives back
    /// the deliveries claimed but not started, and returns.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let task = &mut self.task;
        if tokio::time::timeout(self.grace, task).await.is_err() {
            tracing::warn!("webhook attempts still in flight at shutdown were dropped");
        }
    }
}

async fn run(shared: Arc<Shared>) {
    let poll = Duration::from_millis(shared.settings.poll_interval_ms.get());
    let mut tasks = JoinSet::new();
    let mut last_prune: Option<Instant> = None;
    let mut stopping = shared.stopping.clone();
    loop {
        if *stopping.borrow() {
            while tasks.join_next().await.is_some() {}
            return;
        }
        claim_and_send(&shared, &mut tasks).await;
        if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            prune(&shared).await;
            last_prune = Some(Instant::now());
        }
        // Finished tasks are reaped here; a task ending also wakes the loop (room to claim).
        while tasks.try_join_next().is_some() {}
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
            _ = stopping.changed() => {}
        }
    }
}

/// Claims what there is room for and starts a task per endpoint, until nothing is due.
async fn claim_and_send(shared: &Arc<Shared>, tasks: &mut JoinSet<()>) {
    loop {
        let (busy, limit) = {
            let guard = shared.busy.lock().unwrap_or_else(|e| e.into_inner());
            let (endpoints, held) = &*guard;
            if endpoints.len() >= shared.settings.concurrency.get() {
                return;
            }
            let limit = shared
                .settings
                .claim_batch
                .get()
                .saturating_sub(*held as u32);
            (endpoints.iter().copied().collect::<Vec<_>>(), limit)
        };
        if limit == 0 {
            return;
        }
        let lease = shared.settings.lease();
        let claimed = match shared.store.claim_deliveries(limit, lease, &busy).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot claim webhook deliveries");
                return;
            }
        };
        let count = claimed.len();
        let mut by_endpoint: BTreeMap<i64, Vec<ClaimedDelivery>> = BTreeMap::new();
        for delivery in claimed {
            by_endpoint
                .entry(delivery.endpoint_id)
                .or_default()
                .push(delivery);
        }
        for (endpoint, deliveries) in by_endpoint {
            {
                let mut guard = shared.busy.lock().unwrap_or_else(|e| e.into_inner());
                guard.0.insert(endpoint);
                guard.1 += deliveries.len();
            }
            let shared = shared.clone();
            tasks.spawn(async move {
                let held = deliveries.len();
                send_in_turn(&shared, deliveries).await;
                {
                    let mut guard = shared.busy.lock().unwrap_or_else(|e| e.into_inner());
                    guard.0.remove(&endpoint);
                    guard.1 = guard.1.saturating_sub(held);
                }
                shared.wake.notify_one();
            });
        }
        if count < limit as usize {
            return;
        }
    }
}

/// One endpoint's deliveries, oldest first. After a failure the rest wait for the same retry
/// time (not counted as attempts): a dead endpoint costs one timeout per round, not one per
/// delivery.
async fn send_in_turn(shared: &Shared, deliveries: Vec<ClaimedDelivery>) {
    // Past half the lease the rest are given back rather than sent late, when another
    // instance may have claimed them again.
    let give_back_after = Instant::now() + shared.settings.lease() / 2;
    let mut deliveries = deliveries.into_iter();
    while let Some(delivery) = deliveries.next() {
        let (retry_at, mut rest) = if *shared.stopping.borrow() || Instant::now() > give_back_after
        {
            // Shutting down, or held too long: this one and the rest are given back, due at
            // once for whoever claims next.
            (Some(Utc::now()), vec![delivery.id])
        } else {
            (attempt(shared, &delivery).await, Vec::new())
        };
        if let Some(retry_at) = retry_at {
            rest.extend(deliveries.map(|d| d.id));
            if !rest.is_empty() {
                if let Err(error) = shared.store.release_deliveries(&rest, retry_at).await {
                    tracing::warn!(%error, "cannot release webhook deliveries");
                }
            }
            return;
        }
    }
}

/// Sends one delivery and records how it went; the time of its retry when it failed and will
/// be tried again.
#[tracing::instrument(skip_all, fields(delivery = delivery.id, event = %delivery.event))]
async fn attempt(shared: &Shared, delivery: &ClaimedDelivery) -> Option<chrono::DateTime<Utc>> {
    let attempted_at = Utc::now();
    let started = Instant::now();
    let answer = match envelope::render(delivery, &shared.public_url, shared.store.as_ref()).await {
        Ok(body) => {
            shared
                .client
                .send(Request {
                    url: &delivery.url,
                    secret: delivery.secret.as_str(),
                    event: &delivery.event,
                    delivery_id: delivery.id,
                    body,
                })
                .await
        }
        Err(error) => Answer::NoAnswer(format!("cannot render the event: {error}")),
    };
    let duration = started.elapsed();
    let (status_code, error) = match answer {
        Answer::Status(status) if (200..300).contains(&status) => (Some(status), None),
        Answer::Status(status) => (Some(status), Some(format!("answered {status}"))),
        Answer::NoAnswer(why) => (None, Some(why)),
    };
    let attempts = u32::try_from(delivery.attempts).unwrap_or(0) + 1;
    let settings = &shared.settings;
    let outcome = if error.is_none() {
        metrics::counter!("kurz_webhook_deliveries_total", "outcome" => "delivered").increment(1);
        DeliveryOutcome::Delivered
    } else if attempts >= settings.max_attempts.get() {
        metrics::counter!("kurz_webhook_deliveries_total", "outcome" => "failed").increment(1);
        tracing::warn!(
            attempts,
            error = error.as_deref(),
            "webhook delivery failed for good"
        );
        DeliveryOutcome::Failed
    } else {
        metrics::counter!("kurz_webhook_deliveries_total", "outcome" => "retried").increment(1);
        let wait = backoff(
            attempts,
            Duration::from_millis(settings.backoff_base_ms.get()),
            Duration::from_millis(settings.backoff_max_ms.get()),
        );
        tracing::info!(
            attempts,
            error = error.as_deref(),
            ?wait,
            "webhook delivery will be retried"
        );
        DeliveryOutcome::Retry(
            Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
        )
    };
    let record = NewAttempt {
        attempted_at,
        status_code,
        duration,
        error,
    };
    if let Err(error) = shared
        .store
        .record_attempt(delivery, &record, outcome)
        .await
    {
        // The lease runs out and the delivery is tried again: at least once.
        tracing::warn!(%error, "cannot record a webhook attempt");
    }
    match outcome {
        DeliveryOutcome::Retry(at) => Some(at),
        DeliveryOutcome::Failed => Some(Utc::now()),
        DeliveryOutcome::Delivered => None,
    }
}

async fn prune(shared: &Shared) {
    let hours = shared.settings.retention_hours.get();
    let kept = i64::try_from(hours)
        .ok()
        .and_then(chrono::Duration::try_hours)
        .unwrap_or(chrono::Duration::MAX);
    let Some(before) = Utc::now().checked_sub_signed(kept) else {
        return;
    };
    loop {
        match shared
            .store
            .prune_webhook_deliveries(before, PRUNE_BATCH)
            .await
        {
            Ok(pruned) if pruned < u64::from(PRUNE_BATCH) => return,
            Ok(_) => {}
            Err(error) => return tracing::warn!(%error, "cannot prune webhook deliveries"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let (base, max) = (Duration::from_secs(5), Duration::from_secs(60));
        for (attempts, full) in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (30, 60)] {
            let wait = backoff(attempts, base, max);
            let full = Duration::from_secs(full);
            assert!(
                wait <= full && wait >= full.mul_f64(0.9),
                "{attempts}: {wait:?}"
            );
        }
    }
}
