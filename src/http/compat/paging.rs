//! Numbered pages over keyset lists, without `COUNT(*)` on every request and without an
//! `OFFSET` that grows with the page number (design docs/design/compat.md §2.3).
//!
//! A page that starts before `offset_rows` is read with a small `OFFSET`. A later page starts
//! right after a key of the list's **page index**: the key of every `itemsPerPage`-th row and
//! the exact number of rows, built by one pass in the database and cached per query, page size
//! and epoch (the counters the list depends on), so that every later page is one keyset read,
//! as fast at page 100 000 as at page 1. Concurrent requests for the same list share one build
//! (Shlink's web component asks for four pages at once). Totals come from counters where one
//! applies, else from the index.

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::future::Cache;

use crate::store::{PageIndex, PageStart, StoreError};

/// A list that can be read by page number.
#[async_trait]
pub trait NumberedList: Sync {
    /// What the list shows (filters and order): part of its page index's cache key.
    type Query: Hash + Eq + Clone + Send + Sync + 'static;
    /// Where a row sits in the list's order.
    type Key: Send + Sync + 'static;
    /// What the index was built against; a new value rebuilds it.
    type Epoch: Hash + Eq + Clone + Send + Sync + 'static;
    type Item: Send;

    fn query(&self) -> &Self::Query;

    /// The exact number of rows, when a counter holds it for this query.
    async fn counted(&self) -> Result<Option<u64>, StoreError>;

    async fn epoch(&self) -> Result<Self::Epoch, StoreError>;

    /// Up to `limit` rows from `start`.
    async fn read(
        &self,
        start: PageStart<&Self::Key>,
        limit: u32,
    ) -> Result<Vec<Self::Item>, StoreError>;

    /// The page index for pages of `every` rows.
    async fn index(&self, every: u32) -> Result<PageIndex<Self::Key>, StoreError>;
}

/// A page of a numbered list: its rows and the list's total.
#[derive(Debug)]
pub struct NumberedPage<T> {
    pub items: Vec<T>,
    pub total: u64,
}

type IndexKey<L> = (<L as NumberedList>::Query, u32, <L as NumberedList>::Epoch);

/// The cached page indexes of one kind of list.
pub struct PageIndexes<L: NumberedList> {
    cache: Cache<IndexKey<L>, Arc<PageIndex<L::Key>>>,
    offset_rows: u64,
}

impl<L: NumberedList> PageIndexes<L> {
    /// Indexes holding at most `max_keys` boundary keys together, each used at most `ttl`;
    /// pages before row `offset_rows` read with `OFFSET` instead.
    pub fn new(max_keys: u64, ttl: Duration, offset_rows: u32) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_keys)
            .weigher(|_, index: &Arc<PageIndex<L::Key>>| {
                u32::try_from(index.boundaries.len())
                    .unwrap_or(u32::MAX)
                    .saturating_add(1)
            })
            .time_to_live(ttl)
            .build();
        Self {
            cache,
            offset_rows: u64::from(offset_rows),
        }
    }

    /// Page `page` (from 1) of `per_page` rows of `list`.
    pub async fn page(
        &self,
        list: &L,
        page: u64,
        per_page: u32,
    ) -> Result<NumberedPage<L::Item>, StoreError> {
        let first_row = (page - 1).saturating_mul(u64::from(per_page));
        let counted = list.counted().await?;
        if first_row < self.offset_rows {
            if let Some(total) = counted {
                let items = if first_row < total {
                    list.read(PageStart::Offset(first_row), per_page).await?
                } else {
                    Vec::new()
                };
                return Ok(NumberedPage { items, total });
            }
        }
        let epoch = list.epoch().await?;
        let key = (list.query().clone(), per_page, epoch);
        let index = self
            .cache
            .try_get_with(key, async { list.index(per_page).await.map(Arc::new) })
            .await
            .map_err(shared_error)?;
        let total = counted.unwrap_or(index.total);
        let start = if first_row < self.offset_rows {
            Some(PageStart::Offset(first_row))
        } else {
            index.start_of(page)
        };
        let items = match start {
            Some(start) if first_row < total => list.read(start, per_page).await?,
            _ => Vec::new(),
        };
        Ok(NumberedPage { items, total })
    }

    /// How many indexes are cached (for tests and metrics).
    pub async fn cached(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }
}

/// A build's error as every request that waited on the build sees it.
fn shared_error(error: Arc<StoreError>) -> StoreError {
    match Arc::try_unwrap(error) {
        Ok(error) => error,
        Err(shared) => match &*shared {
            StoreError::NotFound => StoreError::NotFound,
            StoreError::Conflict(unique) => StoreError::Conflict(*unique),
            other => StoreError::Other(anyhow::anyhow!("{other}")),
        },
    }
}
