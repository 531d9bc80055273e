//! The in-process fan-out of visits to live subscribers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::{Encoding, Outgoing};
use crate::config::LiveSettings;
use crate::store::VisitRecord;

/// A stored visit on its way to subscribers: its URL (what [`LiveScope`] filters on) and the
/// message, serialised once.
#[derive(Debug)]
pub struct LiveVisit {
    pub url_id: i64,
    /// The API key that created the URL, for editors' streams.
    pub owner: Option<i64>,
    pub message: Outgoing,
}

/// Which visits a stream shows. Every stream's filtering goes through [`LiveScope::admits`]:
/// an access rule (e.g. "only URLs this API key created") is one more variant or field here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveScope {
    /// Every URL's visits.
    All,
    /// The visits of the URL with this id.
    Url(i64),
    /// The visits of every URL this API key created (an editor's view of all visits).
    OwnedBy(i64),
}

impl LiveScope {
    pub fn admits(&self, visit: &LiveVisit) -> bool {
        match self {
            Self::All => true,
            Self::Url(id) => visit.url_id == *id,
            Self::OwnedBy(key) => visit.owner == Some(*key),
        }
    }
}

/// `live.max_subscribers` streams are open already.
#[derive(Debug)]
pub struct SubscriptionsFull;

/// Most visits buffered for one link's streams (`live.channel_capacity` if smaller): each
/// watched link has a channel of its own, allocated whole, so this bounds their memory.
const LINK_CHANNEL_CAPACITY: usize = 256;

type Channel = broadcast::Sender<Arc<LiveVisit>>;

/// The hub; cheap to clone. Streams of all visits share one channel; each watched link has
/// its own, so a link's stream is woken by that link's visits only, and the `lagged` notices
/// it gets count only visits it would have shown.
#[derive(Clone)]
pub struct LiveHub {
    everything: Channel,
    links: Arc<Mutex<HashMap<i64, Channel>>>,
    link_capacity: usize,
    slots: Arc<Semaphore>,
    max_subscribers: u32,
    closing: CancellationToken,
    encoding: Encoding,
    pub heartbeat: Duration,
    pub send_timeout: Duration,
}

impl LiveHub {
    pub fn new(settings: &LiveSettings, encoding: Encoding) -> Self {
        let capacity = settings.channel_capacity.max(1);
        let (everything, _) = broadcast::channel(capacity);
        let max_subscribers =
            u32::try_from(settings.max_subscribers.get()).unwrap_or(u32::MAX >> 3);
        Self {
            everything,
            links: Arc::default(),
            link_capacity: capacity.min(LINK_CHANNEL_CAPACITY),
            slots: Arc::new(Semaphore::new(max_subscribers as usize)),
            max_subscribers,
            closing: CancellationToken::new(),
            encoding,
            heartbeat: Duration::from_secs(settings.heartbeat_secs.get()),
            send_timeout: Duration::from_secs(settings.send_timeout_secs.get()),
        }
    }

    /// Whether anyone is watching; without subscribers nothing is fetched or serialised.
    pub fn has_subscribers(&self) -> bool {
        self.subscribers() > 0
    }

    /// Open streams.
    pub fn subscribers(&self) -> usize {
        (self.max_subscribers as usize).saturating_sub(self.slots.available_permits())
    }

    /// Hands visits to their subscribers. Never waits: a channel overwrites what its slowest
    /// subscriber has not read yet, and that subscriber is told how much it missed. A visit
    /// nobody watches is not even serialised.
    pub fn publish(&self, visits: Vec<VisitRecord>) {
        if !self.has_subscribers() {
            return;
        }
        let to_everything = self.everything.receiver_count() > 0;
        let links = lock(&self.links);
        for record in visits {
            let link = links
                .get(&record.url_id)
                .filter(|channel| channel.receiver_count() > 0);
            if !to_everything && link.is_none() {
                continue;
            }
            let (url_id, owner) = (record.url_id, record.url_created_by);
            let message = (self.encoding.visit)(record);
            let visit = Arc::new(LiveVisit {
                url_id,
                owner,
                message,
            });
            // An error only means every subscriber left meanwhile.
            if let Some(link) = link {
                let _ = link.send(visit.clone());
            }
            if to_everything {
                let _ = self.everything.send(visit);
            }
        }
    }

    /// A new stream's subscription, or [`SubscriptionsFull`]. Subscribe before reading the
    /// totals of the first message, so no visit falls between the two.
    pub fn subscribe(&self, scope: LiveScope) -> Result<Subscription, SubscriptionsFull> {
        if self.closing.is_cancelled() {
            return Err(SubscriptionsFull);
        }
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| SubscriptionsFull)?;
        let receiver = match scope {
            LiveScope::Url(id) => lock(&self.links)
                .entry(id)
                .or_insert_with(|| broadcast::channel(self.link_capacity).0)
                .subscribe(),
            LiveScope::All | LiveScope::OwnedBy(_) => self.everything.subscribe(),
        };
        Ok(Subscription {
            receiver,
            scope,
            links: self.links.clone(),
            closing: self.closing.clone(),
            lagged: self.encoding.lagged,
            _permit: permit,
        })
    }

    /// Ends every stream (a close frame for WebSockets, the end of the body for SSE) and
    /// refuses new ones. Called when shutdown begins.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// Waits, at most `grace`, until every stream has ended after [`LiveHub::close`].
    pub async fn closed(&self, grace: Duration) {
        let all = self.slots.acquire_many(self.max_subscribers);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                open = self.subscribers(),
                "live streams still open after the shutdown grace period"
            );
        }
    }
}

/// One stream's end of the hub. Holds one of the `live.max_subscribers` slots until dropped.
pub struct Subscription {
    receiver: broadcast::Receiver<Arc<LiveVisit>>,
    scope: LiveScope,
    links: Arc<Mutex<HashMap<i64, Channel>>>,
    closing: CancellationToken,
    lagged: fn(u64) -> Outgoing,
    _permit: OwnedSemaphorePermit,
}

impl Subscription {
    /// A message that is ready now, without waiting: what a WebSocket adds to the frames it
    /// sends in one write. `None` when nothing is waiting (or the stream is ending).
    pub fn ready(&mut self) -> Option<Outgoing> {
        loop {
            match self.receiver.try_recv() {
                Ok(visit) if self.scope.admits(&visit) => return Some(visit.message.clone()),
                Ok(_) => continue,
                Err(TryRecvError::Lagged(missed)) => return Some(self.lagged(missed)),
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// The next message for this stream: a visit in its scope, or a notice of missed visits.
    /// `None` once the server shuts down. Cancel-safe.
    pub async fn next(&mut self) -> Option<Outgoing> {
        loop {
            tokio::select! {
                biased;
                () = self.closing.cancelled() => return None,
                received = self.receiver.recv() => match received {
                    Ok(visit) if self.scope.admits(&visit) => return Some(visit.message.clone()),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => return Some(self.lagged(missed)),
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }
}

impl Subscription {
    /// The notice to a stream that fell `missed` visits behind, counted in the metrics.
    fn lagged(&self, missed: u64) -> Outgoing {
        metrics::counter!("kurz_live_lagged_total").increment(1);
        (self.lagged)(missed)
    }
}

impl Drop for Subscription {
    /// The last stream of a link takes the link's channel with it, so the map holds only
    /// watched links.
    fn drop(&mut self) {
        if let LiveScope::Url(id) = self.scope {
            let mut links = lock(&self.links);
            // This subscription's receiver is still alive here: 1 means no one else.
            if links.get(&id).is_some_and(|c| c.receiver_count() <= 1) {
                links.remove(&id);
            }
        }
    }
}

/// The map of link channels; a panic elsewhere while it was held leaves it usable.
fn lock(links: &Mutex<HashMap<i64, Channel>>) -> std::sync::MutexGuard<'_, HashMap<i64, Channel>> {
    links
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
