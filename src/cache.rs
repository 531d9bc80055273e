//! The redirect cache: slug → target, in memory, bounded and expiring. Unknown slugs are
//! remembered too, for a shorter time, so bots probing random paths do not reach the database.
//! Every write to a URL (create, PATCH, DELETE) evicts its slug, on every instance (see
//! `crate::cluster`); while an instance cannot hear the others, its cache is bypassed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::Expiry;

use crate::config::CacheSettings;
use crate::domain::Slug;
use crate::store::{Redirect, Store, StoreError};

/// Hits and misses since start, for metrics.
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

pub struct RedirectCache {
    entries: Cache<Slug, Option<Redirect>>,
    counters: CacheCounters,
    /// Read every redirect from the database: set while evictions from other instances could
    /// be missed.
    bypass: AtomicBool,
}

/// Found slugs live `ttl`; unknown ones `negative_ttl`.
struct SlugExpiry {
    ttl: Duration,
    negative_ttl: Duration,
}

impl Expiry<Slug, Option<Redirect>> for SlugExpiry {
    fn expire_after_create(
        &self,
        _slug: &Slug,
        value: &Option<Redirect>,
        _now: Instant,
    ) -> Option<Duration> {
        Some(if value.is_some() {
            self.ttl
        } else {
            self.negative_ttl
        })
    }
}

impl RedirectCache {
    pub fn new(settings: &CacheSettings) -> Self {
        let entries = Cache::builder()
            .max_capacity(settings.capacity)
            .expire_after(SlugExpiry {
                ttl: Duration::from_secs(settings.ttl_secs),
                negative_ttl: Duration::from_secs(settings.negative_ttl_secs),
            })
            .build();
        Self {
            entries,
            counters: CacheCounters::default(),
            bypass: AtomicBool::new(false),
        }
    }

    /// The redirect for a slug, from memory when possible. Store errors are not cached.
    pub async fn resolve(
        &self,
        store: &dyn Store,
        slug: &Slug,
    ) -> Result<Option<Redirect>, StoreError> {
        if self.bypass.load(Ordering::Relaxed) {
            self.counters.misses.fetch_add(1, Ordering::Relaxed);
            return store.resolve(slug).await;
        }
        if let Some(entry) = self.entries.get(slug).await {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(entry);
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let found = store.resolve(slug).await?;
        self.entries.insert(slug.clone(), found.clone()).await;
        Ok(found)
    }

    /// Forgets a slug; the next redirect reads it from the database.
    pub async fn invalidate(&self, slug: &Slug) {
        self.entries.invalidate(slug).await;
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    /// Reads every redirect from the database while `bypass` is set, caching nothing.
    pub fn set_bypass(&self, bypass: bool) {
        self.bypass.store(bypass, Ordering::Relaxed);
    }

    pub fn counters(&self) -> &CacheCounters {
        &self.counters
    }

    pub fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }
}
