//! Visits: clicks are written by the visit writer (`crate::visits`), off the request path;
//! what changes stored visits afterwards is here.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};

use super::{AppError, ChangeNotice};
use crate::domain::{Invalid, Slug};
use crate::store::{
    ImportMark, NewOrphanVisit, NewVisit, PrunedVisits, RollupCount, Store, StoreError,
};

/// Orphan visits one transaction of [`Visits::delete_orphans`] deletes.
const ORPHANS_PER_DELETE: u32 = 10_000;

#[derive(Clone)]
pub struct Visits {
    store: Arc<dyn Store>,
    /// Told of the links whose visits were deleted (their cap state lives in caches).
    notice: Arc<dyn ChangeNotice>,
}

impl Visits {
    pub fn new(store: Arc<dyn Store>, notice: Arc<dyn ChangeNotice>) -> Self {
        Self { store, notice }
    }

    /// Deletes every visit of the link `slug` with every counter of them (Shlink's
    /// `DELETE /short-urls/{shortCode}/visits`), in one transaction; the link's visit cap
    /// starts again, so the caches forget the link. How many visits were deleted.
    pub async fn delete_for_link(&self, slug: &Slug) -> Result<u64, AppError> {
        let deleted = self
            .store
            .delete_link_visits(slug)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NoSuchLink(slug.to_string()),
                other => other.into(),
            })?;
        self.notice.links_changed(std::slice::from_ref(slug)).await;
        Ok(deleted)
    }

    /// Deletes every orphan visit (Shlink's `DELETE /visits/orphan`): pruning with a cut after
    /// today, so today's go too. How many were deleted.
    pub async fn delete_orphans(&self) -> Result<u64, AppError> {
        let tomorrow = Utc::now().date_naive() + chrono::Days::new(1);
        let mut deleted = 0;
        loop {
            let done = self
                .store
                .prune_orphan_visits(tomorrow, ORPHANS_PER_DELETE)
                .await?;
            deleted += done.visits;
            if done.done {
                return Ok(deleted);
            }
        }
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

    /// Imports orphan visits from another system, moving the source's orphan mark to
    /// `through` in the same transaction; as [`Self::import`], no webhooks. How many were added.
    pub async fn import_orphans(
        &self,
        source: &str,
        visits: &[NewOrphanVisit],
        through: &str,
    ) -> Result<u64, AppError> {
        Ok(self
            .store
            .import_orphan_visits(source, visits, through)
            .await?)
    }

    /// How far `source`'s orphan visits are imported.
    pub async fn import_orphan_mark(&self, source: &str) -> Result<Option<String>, AppError> {
        Ok(self.store.import_orphan_mark(source).await?)
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
