//! Visits: clicks are written by the visit writer (`crate::visits`), off the request path;
//! what changes stored visits afterwards is here.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};

use super::AppError;
use crate::domain::Invalid;
use crate::store::{ImportMark, NewVisit, PrunedVisits, RollupCount, Store};

#[derive(Clone)]
pub struct Visits {
    store: Arc<dyn Store>,
}

impl Visits {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Imports visits from another system (`kurz import --from ...`) with the tallies live
    /// clicks get, moving `marks` of `source` in the same transaction; no webhook delivery
    /// and no live stream for history. How many visits were added.
    pub async fn import(
        &self,
        source: &str,
        visits: &[NewVisit],
        marks: &[ImportMark],
    ) -> Result<u64, AppError> {
        Ok(self.store.import_visits(source, visits, marks).await?)
    }

    /// How many import batches are worth writing at once: one per core on PostgreSQL (each
    /// its own backend), one on SQLite (one writer).
    pub fn import_writers(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.store.max_concurrent_writes().min(cores).max(1)
    }

    /// Imports clicks known only as counts (rollups without visit rows), as [`Self::import`].
    pub async fn import_counts(
        &self,
        source: &str,
        counts: &[RollupCount],
        marks: &[ImportMark],
    ) -> Result<u64, AppError> {
        Ok(self.store.import_rollups(source, counts, marks).await?)
    }

    /// A cut may be today at the latest: today's visits are still being written, and a cut
    /// in the future would race the visit writer.
    pub fn check_cut(before: NaiveDate) -> Result<(), Invalid> {
        let today = Utc::now().date_naive();
        if before > today {
            return Err(Invalid::new(
                "before",
                format!("{before} is in the future: the latest cut is today ({today})"),
            ));
        }
        Ok(())
    }

    /// Deletes every visit made before `before` (00:00 UTC), `batch` at a time, each batch
    /// its own transaction that keeps the counts and rollups right; `progress` hears of each.
    pub async fn prune(
        &self,
        before: NaiveDate,
        batch: u32,
        progress: impl FnMut(&PrunedVisits),
    ) -> Result<PrunedVisits, AppError> {
        self.prune_each(Pruned::Visits, before, batch, progress)
            .await
    }

    /// Deletes every orphan visit made before `before` as [`Self::prune`] does visits.
    pub async fn prune_orphans(
        &self,
        before: NaiveDate,
        batch: u32,
        progress: impl FnMut(&PrunedVisits),
    ) -> Result<PrunedVisits, AppError> {
        self.prune_each(Pruned::Orphans, before, batch, progress)
            .await
    }

    async fn prune_each(
        &self,
        which: Pruned,
        before: NaiveDate,
        batch: u32,
        mut progress: impl FnMut(&PrunedVisits),
    ) -> Result<PrunedVisits, AppError> {
        Self::check_cut(before)?;
        let mut total = PrunedVisits::default();
        loop {
            let done = match which {
                Pruned::Visits => self.store.prune_visits(before, batch).await?,
                Pruned::Orphans => self.store.prune_orphan_visits(before, batch).await?,
            };
            total.visits += done.visits;
            total.urls += done.urls;
            total.rollup_rows += done.rollup_rows;
            total.done = done.done;
            progress(&done);
            if done.done {
                return Ok(total);
            }
        }
    }
}

/// What [`Visits::prune_each`] deletes.
#[derive(Clone, Copy)]
enum Pruned {
    Visits,
    Orphans,
}
