//! The redirect cache: slug → what a redirect answer needs, ready to send. In memory, bounded
//! and expiring. Unknown slugs are remembered too, for a shorter time, so bots probing random
//! paths do not reach the database. Every write to a URL (create, PATCH, DELETE) evicts its
//! slug, on every instance (see `crate::cluster`); while an instance cannot hear the others,
//! its cache is bypassed.
//!
//! A hit costs a hash look-up by `&str`, a clock read for the expiry and the clone of a
//! [`CachedRedirect`] (one reference count): the `Location` header value is built once, when
//! the slug is read from the database, never per click. The map is `quick_cache`'s (sharded, with
//! a scan-resistant eviction that keeps slugs asked often): a hit reads one shard under a read
//! lock and marks the entry, where moka queued every read for its LRU bookkeeping.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};
use quick_cache::sync::Cache;

use crate::config::CacheSettings;
use crate::domain::{Rules, Slug, Validity};
use crate::store::{Redirect, Store, StoreError};

/// Hits and misses since start, for metrics.
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

/// A redirect as the redirect lane sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRedirect {
    pub url_id: i64,
    /// The target, as the `Location` header's value.
    pub location: HeaderValue,
    pub status: StatusCode,
    /// What a click must pass before it is answered; `None` (most links) costs nothing.
    pub gate: Option<Arc<Gate>>,
    /// Rules and query forwarding; `None` (most links) costs nothing.
    pub routing: Option<Arc<Routing>>,
    /// The link has a password: answered with a form (`crate::http::protected`), not
    /// `location`. The hash stays in the database, read only when a password is posted.
    pub protected: bool,
}

/// Where a link with redirect rules or query forwarding sends a click.
#[derive(Debug, PartialEq, Eq)]
pub struct Routing {
    pub rules: Option<Rules>,
    /// Each rule's target as a `Location` value, in the rules' order.
    pub locations: Vec<HeaderValue>,
    pub forward_query: bool,
}

impl Routing {
    /// `None` for a link without rules that does not forward queries; `Err` when a stored
    /// target is not a header value.
    fn of(redirect: &Redirect) -> Result<Option<Arc<Self>>, ()> {
        if redirect.rules.is_none() && !redirect.forward_query {
            return Ok(None);
        }
        let locations = redirect
            .rules
            .iter()
            .flat_map(Rules::iter)
            .map(|rule| HeaderValue::from_str(rule.target.as_str()).map_err(|_| ()))
            .collect::<Result<_, ()>>()?;
        Ok(Some(Arc::new(Self {
            rules: redirect.rules.clone(),
            locations,
            forward_query: redirect.forward_query,
        })))
    }
}

/// A link's validity window and visit cap, as the redirect lane checks them.
#[derive(Debug)]
pub struct Gate {
    pub validity: Validity,
    /// The link has a visit cap: a click by a person takes a unit in the database first.
    pub capped: bool,
    /// The cap was found reached. Shared by the clones of one cache entry, forgotten with it:
    /// a change to the link evicts the entry, and the next one starts from the database again.
    exhausted: AtomicBool,
}

impl Gate {
    /// `None` for a link that answers always and without a cap.
    fn of(redirect: &Redirect) -> Option<Arc<Self>> {
        let validity = Validity {
            since: redirect.valid_since,
            until: redirect.valid_until,
        };
        let capped = redirect.max_visits.is_some();
        (capped || validity != Validity::default()).then(|| {
            Arc::new(Self {
                validity,
                capped,
                exhausted: AtomicBool::new(false),
            })
        })
    }

    pub fn is_exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }

    /// Remembers that the cap is reached, so later clicks answer without asking the database.
    pub fn mark_exhausted(&self) {
        self.exhausted.store(true, Ordering::Relaxed);
    }
}

impl PartialEq for Gate {
    fn eq(&self, other: &Self) -> bool {
        self.validity == other.validity && self.capped == other.capped
    }
}

impl Eq for Gate {}

impl CachedRedirect {
    /// `None` when the stored target is not a valid header value (targets are checked on the
    /// way in, so this means the database was changed behind kurz's back).
    /// `status` answers links without a status of their own (`redirect.status`).
    pub fn new(redirect: &Redirect, status: StatusCode) -> Option<Self> {
        let status = match redirect.status {
            Some(own) => StatusCode::from_u16(own.get()).ok()?,
            None => status,
        };
        Some(Self {
            url_id: redirect.url_id,
            location: HeaderValue::from_str(&redirect.target).ok()?,
            status,
            gate: Gate::of(redirect),
            routing: Routing::of(redirect).ok()?,
            protected: redirect.protected,
        })
    }
}

/// What a look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(CachedRedirect),
    NotFound,
    /// The stored target cannot be sent as a header (see [`CachedRedirect::new`]).
    Unusable,
}

/// A cached answer and when it stops being used.
#[derive(Clone)]
struct Entry {
    redirect: Option<CachedRedirect>,
    expires: Instant,
}

pub struct RedirectCache {
    entries: Cache<Slug, Entry>,
    ttl: Duration,
    negative_ttl: Duration,
    status: StatusCode,
    counters: CacheCounters,
    /// Read every redirect from the database: set while evictions from other instances could
    /// be missed.
    bypass: AtomicBool,
}

impl RedirectCache {
    /// `status` is the redirect status links answer with (`redirect.status`).
    pub fn new(settings: &CacheSettings, status: StatusCode) -> Self {
        Self {
            entries: Cache::new(usize::try_from(settings.capacity).unwrap_or(usize::MAX)),
            ttl: Duration::from_secs(settings.ttl_secs),
            negative_ttl: Duration::from_secs(settings.negative_ttl_secs),
            status,
            counters: CacheCounters::default(),
            bypass: AtomicBool::new(false),
        }
    }

    /// The redirect for a slug as typed in a path, from memory when possible. A slug that
    /// could never have been stored is not found without asking the database. Store errors
    /// are not cached.
    pub async fn resolve(&self, store: &dyn Store, slug: &str) -> Result<Lookup, StoreError> {
        let bypass = self.bypass.load(Ordering::Relaxed);
        if !bypass {
            if let Some(entry) = self.entries.get(slug) {
                if entry.expires > Instant::now() {
                    self.counters.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(entry.redirect.map_or(Lookup::NotFound, Lookup::Found));
                }
            }
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let Some(slug) = Slug::for_lookup(slug) else {
            return Ok(Lookup::NotFound);
        };
        let found = match store.resolve(&slug).await? {
            None => None,
            Some(redirect) => match CachedRedirect::new(&redirect, self.status) {
                Some(cached) => Some(cached),
                None => return Ok(Lookup::Unusable),
            },
        };
        if !bypass {
            // Found slugs live `ttl`; unknown ones `negative_ttl`.
            let ttl = if found.is_some() {
                self.ttl
            } else {
                self.negative_ttl
            };
            let entry = Entry {
                redirect: found.clone(),
                expires: Instant::now() + ttl,
            };
            self.entries.insert(slug, entry);
        }
        Ok(found.map_or(Lookup::NotFound, Lookup::Found))
    }

    /// Forgets a slug; the next redirect reads it from the database.
    pub fn invalidate(&self, slug: &str) {
        self.entries.remove(slug);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// Reads every redirect from the database while `bypass` is set, caching nothing.
    pub fn set_bypass(&self, bypass: bool) {
        self.bypass.store(bypass, Ordering::Relaxed);
    }

    /// Whether redirects are read from the database, bypassing the cache (see `set_bypass`).
    pub fn is_bypassed(&self) -> bool {
        self.bypass.load(Ordering::Relaxed)
    }

    pub fn counters(&self) -> &CacheCounters {
        &self.counters
    }

    pub fn entry_count(&self) -> u64 {
        self.entries.len() as u64
    }
}
