//! Follows the link change log (`link_changes`): every link created, changed or deleted, by
//! any process, is a row written in the transaction of the change. Each server reads the rows
//! after the last one it saw — every `cluster.poll_interval_ms`, and at once when woken (the
//! PostgreSQL listener wakes it after a reconnect) — and evicts their slugs from its redirect
//! cache, except the rows it wrote itself (their `origin` is its store's): it evicted those
//! when it made the change. On SQLite a `PRAGMA data_version` answers first whether anything was committed at
//! all, so an idle database costs no read.
//!
//! Ids come from a sequence, and on PostgreSQL transactions commit in any order: a row with a
//! lower id may appear after a higher one was read. The [`ChangeCursor`] remembers the ids it
//! skipped for a while and reads from the oldest of them again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::cache::RedirectCache;
use crate::store::Store;

/// Rows read per query.
const READ_BATCH: u32 = 1000;
/// How long an id skipped by the sequence may still appear (a transaction committing late).
const GAP_WAIT: Duration = Duration::from_secs(30);
/// Most skipped ids remembered; a larger jump is a sequence cache or a bulk rollback.
const MAX_GAPS: i64 = 10_000;
/// Change log rows older than this are pruned by the servers.
pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// How often a server prunes the change log.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Where a server is in the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeCursor {
    last: i64,
    /// Ids below `last` not seen yet, and when they were first missed.
    gaps: BTreeMap<i64, Instant>,
}

impl ChangeCursor {
    pub fn at(last: i64) -> Self {
        Self {
            last,
            gaps: BTreeMap::new(),
        }
    }

    /// Read the rows with ids above this.
    pub fn after(&self) -> i64 {
        self.gaps.keys().next().map_or(self.last, |first| first - 1)
    }

    /// Whether the row `id` is news; remembers the ids it jumps over.
    pub fn accept(&mut self, id: i64, now: Instant) -> bool {
        if id > self.last {
            let skipped = (self.last + 1).max(id - MAX_GAPS)..id;
            self.gaps.extend(skipped.map(|gap| (gap, now)));
            self.last = id;
            true
        } else {
            self.gaps.remove(&id).is_some()
        }
    }

    /// Forgets the skipped ids missed before `cutoff`: rolled back, not late.
    pub fn forget_gaps_before(&mut self, cutoff: Instant) {
        self.gaps.retain(|_, missed| *missed >= cutoff);
    }
}

/// Follows the log until `stop`. The cache is bypassed until the follower knows where the log
/// ends (it cannot hear of changes before that).
pub async fn follow(
    store: Arc<dyn Store>,
    cache: Arc<RedirectCache>,
    wake: Arc<Notify>,
    poll: Duration,
    stop: CancellationToken,
) {
    cache.set_bypass(true);
    let start = (|| store.last_link_change())
        .retry(ExponentialBuilder::default().with_max_delay(Duration::from_secs(1)).without_max_times())
        .notify(|error, wait| tracing::warn!(%error, retry_in_ms = wait.as_millis() as u64, "link change log unreadable"));
    let mut cursor = tokio::select! {
        () = stop.cancelled() => return,
        last = start => ChangeCursor::at(last.unwrap_or_default()),
    };
    cache.set_bypass(false);
    let mut last_prune = Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
        if let Err(error) = catch_up(&*store, &cache, &mut cursor).await {
            tracing::warn!(%error, "link change log not read");
            metrics::counter!("kurz_cluster_change_log_errors_total").increment(1);
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = Instant::now();
            match store.prune_link_changes(Utc::now() - RETENTION).await {
                Ok(pruned) => tracing::debug!(pruned, "link change log pruned"),
                Err(error) => tracing::warn!(%error, "link change log not pruned"),
            }
        }
    }
}

/// Evicts the slugs of every change after the cursor.
async fn catch_up(
    store: &dyn Store,
    cache: &RedirectCache,
    cursor: &mut ChangeCursor,
) -> Result<(), crate::store::StoreError> {
    if !store.may_have_changed().await? {
        return Ok(());
    }
    let now = Instant::now();
    loop {
        let changes = store.link_changes_after(cursor.after(), READ_BATCH).await?;
        for change in &changes {
            // This process evicted its own changes when it made them.
            if cursor.accept(change.id, now) && change.origin != store.origin() {
                cache.invalidate(&change.slug);
                metrics::counter!("kurz_cluster_link_changes_total").increment(1);
            }
        }
        if changes.len() < READ_BATCH as usize {
            break;
        }
    }
    if let Some(cutoff) = now.checked_sub(GAP_WAIT) {
        cursor.forget_gaps_before(cutoff);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_late_commit_below_the_last_id_is_still_news() {
        let now = Instant::now();
        let mut cursor = ChangeCursor::at(10);
        assert!(cursor.accept(13, now));
        // 11 and 12 were skipped: read again from 11.
        assert_eq!(cursor.after(), 10);
        assert!(cursor.accept(12, now));
        assert!(!cursor.accept(12, now), "seen once");
        assert!(!cursor.accept(13, now), "seen once");
        assert_eq!(cursor.after(), 10);
        cursor.forget_gaps_before(now + Duration::from_secs(1));
        assert_eq!(cursor.after(), 13);
        assert!(!cursor.accept(11, now), "given up on");
    }

    proptest! {
        /// Whatever order rows appear in, each id is news exactly once while its gap is
        /// remembered, and the cursor never reads past an id it has not seen.
        #[test]
        fn every_row_is_news_once(mut ids in proptest::collection::vec(1i64..200, 1..60)) {
            ids.sort_unstable();
            ids.dedup();
            let mut shuffled = ids.clone();
            shuffled.reverse();
            shuffled.rotate_left(ids.len() / 3);
            let now = Instant::now();
            let mut cursor = ChangeCursor::at(0);
            let mut news = Vec::new();
            for id in &shuffled {
                prop_assert!(cursor.after() < *id || !ids.contains(id));
                if cursor.accept(*id, now) {
                    news.push(*id);
                }
            }
            news.sort_unstable();
            prop_assert_eq!(news, ids);
        }
    }
}
