//! Everything kurz stores goes through the [`Store`] trait. Its one implementation,
//! [`SqlStore`] (`sql.rs`), is the only code that knows SQL: statements both databases share
//! are written there once, and `postgres.rs` / `sqlite.rs` hold what differs. One conformance
//! suite (`tests/store`) runs against both.

// Before `sql`, which uses its macros.
#[macro_use]
mod pool;
#[macro_use]
mod webhooks;
mod error;
mod maintenance;
mod models;
mod numbered;
mod postgres;
mod postgres_visits;
mod rollup;
mod rows;
mod sql;
mod sqlite;
mod sqlite_reader;
mod sqlite_writer;
mod stats;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

pub use error::StoreError;
pub use error::Unique;
pub use maintenance::{MigrationState, MigrationStatus, PrunedVisits};
pub use models::{
    ApiKeyRecord, CapTake, CityCount, DayCount, GlobalDay, GlobalStats, ImportMark, LinkChange,
    NewApiKey, NewOrphanVisit, NewUrl, NewVisit, OrphanFilter, OrphanVisitRecord, Page,
    PageRequest, Redirect, RollupCount, RuleCount, StatsOf, StatsQuery, TagFilter, TagPage,
    TagQuery, TagRecord, UrlFilter, UrlPatch, UrlRank, UrlRecord, UrlStats, ValueCount,
    VisitFilter, VisitRecord, VisitTotals,
};
pub use numbered::{
    LinkKey, LinkOrder, LinkOrderField, LinkQuery, ListEpoch, PageIndex, PageStart, SortValue,
};
pub use sql::SqlStore;
pub use webhooks::{
    AttemptRecord, ClaimedDelivery, DeliveryOutcome, LinkSnapshot, NewAttempt, NewWebhook,
    VisitBatchRef, WebhookPatch, WebhookRecord, VISITS_PER_DELIVERY,
};

use crate::config::DatabaseSettings;
use crate::domain::{Slug, TagName, TargetUrl, Title};

/// The most ids one [`Store::visits_by_ids`] call reads.
pub const MAX_VISITS_BY_IDS: usize = 1000;

/// How busy the connection pool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// This process's name in the link change log, written with each change it makes: its
    /// own cache has evicted those slugs already, so its change log follower skips them.
    fn origin(&self) -> &str;

    /// `postgres` or `sqlite`, for logs and the readiness answer.
    fn backend(&self) -> &'static str;

    /// The connection pool's size, idle connections and maximum, for metrics.
    fn pool_status(&self) -> PoolStatus;

    /// How many visit batches may usefully be written at once. SQLite has one writer.
    fn max_concurrent_writes(&self) -> usize {
        1
    }

    /// Applies pending migrations from `migrations/{backend}`.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new URL and its change log row; [`StoreError::Conflict`] when the slug is
    /// taken.
    async fn create_url(&self, new: NewUrl) -> Result<UrlRecord, StoreError>;

    /// Stores many URLs in one transaction, skipping slugs that exist already (so re-running
    /// an import changes nothing), with a change log row for each created. Returns the slugs
    /// created.
    async fn import_urls(&self, urls: &[NewUrl]) -> Result<Vec<Slug>, StoreError>;

    /// [`Store::import_urls`] for an import from another system: in the same transaction,
    /// an import mark (`source`, the link's key there, its id) for each link created, so that
    /// a re-run finds it. `source_ids` are the batch's keys in its order. The ids and slugs
    /// created.
    async fn import_marked_urls(
        &self,
        source: &str,
        urls: &[NewUrl],
        source_ids: &[String],
    ) -> Result<Vec<(i64, Slug)>, StoreError>;

    /// Every link a source's imports created, by its key there.
    async fn import_marks(&self, source: &str) -> Result<Vec<ImportMark>, StoreError>;

    /// Writes imported visits in one transaction with exactly the tallies
    /// [`Store::record_visits`] adds for them (counts, tags, rollups, totals), and moves the
    /// given marks of `source` in it. History is not news: no webhook delivery is queued and
    /// nothing reaches the live stream. How many visits were added.
    async fn import_visits(
        &self,
        source: &str,
        visits: &[NewVisit],
        marks: &[ImportMark],
    ) -> Result<u64, StoreError>;

    /// Adds clicks known only as counts to the same tallies, without visit rows, and moves
    /// the marks, in one transaction, as [`Store::import_visits`]. How many clicks were added.
    async fn import_rollups(
        &self,
        source: &str,
        counts: &[RollupCount],
        marks: &[ImportMark],
    ) -> Result<u64, StoreError>;

    /// Writes imported orphan visits in one transaction with their rollups, as
    /// [`Store::record_orphan_visits`] does but without webhook deliveries, and moves the
    /// source's orphan mark to `through` in it. How many were added.
    async fn import_orphan_visits(
        &self,
        source: &str,
        visits: &[NewOrphanVisit],
        through: &str,
    ) -> Result<u64, StoreError>;

    /// How far a source's orphan visits are imported (`None`: not yet).
    async fn import_orphan_mark(&self, source: &str) -> Result<Option<String>, StoreError>;

    async fn get_url(&self, slug: &Slug) -> Result<UrlRecord, StoreError>;

    /// Changes a URL and writes its change log row, in one transaction.
    async fn update_url(&self, slug: &Slug, patch: UrlPatch) -> Result<UrlRecord, StoreError>;

    /// Gives a link that has no title this one, with its change log row, in one transaction;
    /// `None` (nothing changed) when the link has a title by now or is gone. A fetched title
    /// so never replaces one set in the meantime.
    async fn fill_title(&self, slug: &Slug, title: &Title)
        -> Result<Option<UrlRecord>, StoreError>;

    /// Deletes a URL and, by cascade, its visits, and writes its change log row.
    async fn delete_url(&self, slug: &Slug) -> Result<(), StoreError>;

    /// Up to `limit` URLs whose slug starts with `prefix` (as typed), then URLs whose target
    /// host starts with it (lower-cased); each an index range scan, whatever the table size.
    /// With an `owner`, only URLs created by that API key.
    async fn search_urls(
        &self,
        prefix: &str,
        limit: u32,
        owner: Option<i64>,
    ) -> Result<Vec<UrlRecord>, StoreError>;

    /// URLs newest first; with an `owner`, only those created by that API key (a range scan of
    /// `urls_created_by_id_idx`); with `active_at`, only those that answer at that time.
    async fn list_urls(
        &self,
        page: PageRequest,
        filter: UrlFilter,
    ) -> Result<Page<UrlRecord>, StoreError>;

    /// URLs carrying any (or all) of the filter's tags, newest first, keyset-paginated like
    /// [`Store::list_urls`]: each page an index range scan over `url_tags (tag_id, url_id)`
    /// (the rarest tag's for `all`, at most a page per tag merged for `any`).
    async fn list_tagged_urls(
        &self,
        filter: &TagFilter,
        page: PageRequest,
        urls: UrlFilter,
    ) -> Result<Page<UrlRecord>, StoreError>;

    /// Tags in name order, with their counters; with an `owner`, only the tags of the links
    /// that API key created, counted over those links.
    async fn list_tags(&self, query: &TagQuery, owner: Option<i64>) -> Result<TagPage, StoreError>;

    /// One tag with its counters (over an `owner`'s links, `NotFound` when none carries it).
    async fn get_tag(&self, name: &TagName, owner: Option<i64>) -> Result<TagRecord, StoreError>;

    /// Whether a link that `owner` did not create carries the tag.
    async fn tag_used_by_others(&self, tag_id: i64, owner: i64) -> Result<bool, StoreError>;

    /// Renames a tag on every link; [`StoreError::Conflict`] when the new name is taken.
    async fn rename_tag(&self, name: &TagName, to: &TagName) -> Result<TagRecord, StoreError>;

    /// Deletes a tag, taking it from every link; how many links carried it.
    async fn delete_tag(&self, name: &TagName) -> Result<i64, StoreError>;

    /// The redirect hot path: what a redirect needs, `None` for an unknown slug.
    async fn resolve(&self, slug: &Slug) -> Result<Option<Redirect>, StoreError>;

    /// Takes one unit of a capped link's visit cap for a click by a person: one conditional
    /// increment of its `human_visits` (`< max_visits`), atomic in the database, so that N
    /// concurrent clicks on a link with N units left are all answered and the next one is not,
    /// whichever instance serves them.
    async fn take_visit(&self, url_id: i64) -> Result<CapTake, StoreError>;

    /// Up to `limit` slugs marked crawlable, for robots.txt.
    async fn crawlable_slugs(&self, limit: u32) -> Result<Vec<Slug>, StoreError>;

    /// Writes a batch of visits in one transaction, and bumps each URL's `visit_count` once,
    /// each statistics rollup row once and `visit_totals` once for the whole batch. Visits of
    /// URLs deleted meanwhile are skipped.
    /// Returns the ids of the visits stored, in the batch's order (the live stream announces
    /// them).
    async fn record_visits(&self, visits: &[NewVisit]) -> Result<Vec<i64>, StoreError>;

    /// Writes a batch of orphan visits (clicks that reached no link) in one transaction, with
    /// each `orphan_daily_rollups` row of the batch once. Returns their ids, ascending.
    async fn record_orphan_visits(&self, visits: &[NewOrphanVisit])
        -> Result<Vec<i64>, StoreError>;

    /// Orphan visits newest first, keyset-paginated.
    async fn list_orphan_visits(
        &self,
        filter: OrphanFilter,
        page: PageRequest,
    ) -> Result<Page<OrphanVisitRecord>, StoreError>;

    /// Link visits and orphan visits over the days `from..=to` (UTC), from the per-day totals
    /// the writer keeps (`daily_visit_totals`, `orphan_daily_rollups`): rows per day, never
    /// per visit or per link.
    async fn global_stats(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        include_bots: bool,
    ) -> Result<GlobalStats, StoreError>;

    /// How many orphan visits are stored, from their rollups.
    async fn orphan_visit_total(&self) -> Result<i64, StoreError>;

    /// Deletes up to `limit` orphan visits made before `before` (00:00 UTC), in one
    /// transaction; when fewer were left, their rollup rows before that day too, and `done`.
    /// A cut after today deletes every one, and the orphans written meanwhile are counted
    /// right (kept with their rollups, or deleted with them).
    async fn prune_orphan_visits(
        &self,
        before: NaiveDate,
        limit: u32,
    ) -> Result<PrunedVisits, StoreError>;

    /// The visits with these ids that still exist, oldest first, with their URL's slug: what
    /// the live stream pushes. At most [`MAX_VISITS_BY_IDS`] ids are read; callers split longer
    /// lists.
    async fn visits_by_ids(&self, ids: &[i64]) -> Result<Vec<VisitRecord>, StoreError>;

    /// How many visits are stored: in all (`owner` None), from the `visit_totals` rows that
    /// [`Store::record_visits`] adds each batch to and a delete trigger on `url_visits` lowers,
    /// never a count over the visits; or of the URLs one API key
    /// created, the sum of their `visit_count` through the `(created_by, id)` index.
    async fn visit_total(&self, owner: Option<i64>) -> Result<i64, StoreError>;

    /// How many visits are stored, from counters only: over every link (`visit_totals`, the
    /// bots from `daily_visit_totals`) and the orphans (`orphan_daily_rollups`); or, with an
    /// `owner`, over the links that API key created (their `visit_count` and `bot_visits`,
    /// through the `(created_by, id)` index), without orphans, which are no one's.
    async fn visit_totals(&self, owner: Option<i64>) -> Result<VisitTotals, StoreError>;

    /// How many links exist (`owner` None), or how many one API key created: counters that
    /// triggers keep (`entity_totals`, `api_keys.links`), never a count over the links.
    async fn link_total(&self, owner: Option<i64>) -> Result<i64, StoreError>;

    /// How many tags exist, from `entity_totals`.
    async fn tag_total(&self) -> Result<i64, StoreError>;

    /// Up to `limit` links whose target is exactly `target`, oldest first; with an `owner`,
    /// only those that API key created. An index look-up on the whole target.
    async fn find_urls_by_target(
        &self,
        target: &TargetUrl,
        owner: Option<i64>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError>;

    /// Visits newest first.
    async fn list_visits(
        &self,
        filter: VisitFilter,
        page: PageRequest,
    ) -> Result<Page<VisitRecord>, StoreError>;

    /// The statistics of a URL, or of a tag's links, over a range of days, from the rollups.
    async fn url_stats(&self, query: StatsQuery) -> Result<UrlStats, StoreError>;

    /// Every migration this binary carries or the database has applied, by version, with its
    /// state. Reads `_sqlx_migrations` without applying anything; on a database never migrated
    /// every migration is pending.
    async fn migration_status(&self) -> Result<Vec<MigrationStatus>, StoreError>;

    /// URLs with an id above `after_id` (all with `None`), oldest first, at most `limit`: the
    /// order an export is written in, so that importing it creates the URLs in their original
    /// order. Keyset paging: every call costs the same at any depth.
    async fn urls_oldest_first(
        &self,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError>;

    /// Up to `limit` links of a numbered list from `start`: after an offset (kept small by the
    /// caller), or right after a key of the list's page index, which is a range scan of one page
    /// when an index holds the order ([`LinkOrderField::indexed`]).
    async fn list_links(
        &self,
        query: &LinkQuery,
        start: PageStart<&LinkKey>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError>;

    /// The page index of a numbered list of links with `every` links a page: one pass over the
    /// keys of the matching links (the database numbers them and sends only every `every`-th
    /// key), and their exact number.
    async fn link_page_index(
        &self,
        query: &LinkQuery,
        every: u32,
    ) -> Result<PageIndex<LinkKey>, StoreError>;

    /// The page index of a visit list (newest first) with `every` visits a page: the id of every
    /// `every`-th matching visit and their number, in one pass the database numbers.
    async fn visit_page_index(
        &self,
        filter: VisitFilter,
        every: u32,
    ) -> Result<PageIndex<i64>, StoreError>;

    /// The same for an orphan visit list.
    async fn orphan_page_index(
        &self,
        filter: OrphanFilter,
        every: u32,
    ) -> Result<PageIndex<i64>, StoreError>;

    /// Where the links stand, for page indexes built against an earlier state: counters and the
    /// newest change, one statement.
    async fn list_epoch(&self) -> Result<ListEpoch, StoreError>;

    /// Up to `limit` links in `rank` order after skipping `offset`; with an `owner`, only those
    /// that API key created. Ordered by a counter no index holds (the visit writer bumps it on
    /// every batch): each call reads every link (of the owner), as YOURLS's own `stats` does.
    async fn ranked_urls(
        &self,
        rank: UrlRank,
        offset: u32,
        limit: u32,
        owner: Option<i64>,
    ) -> Result<Vec<UrlRecord>, StoreError>;

    /// Deletes, in one transaction, up to `limit` of the visits made before `before` (00:00
    /// UTC of that day) and lowers the `visit_count` of their URLs by as many. When fewer than
    /// `limit` such visits were left, the same transaction also deletes the statistics rollup
    /// rows of the days before `before` (they count exactly the visits deleted, the cut being a
    /// day boundary) and reports `done`. Call it until `done`.
    async fn prune_visits(&self, before: NaiveDate, limit: u32)
        -> Result<PrunedVisits, StoreError>;

    /// Deletes every visit of the link `slug` in one transaction, with everything that counts
    /// them: the statistics rollups, the link's counters (`visit_count`, `human_visits`, so its
    /// visit cap starts again, `bot_visits`), its tags' counters, `visit_totals` and
    /// `daily_visit_totals`; writes its change log row. How many visits were deleted;
    /// `NotFound` when there is no such link.
    async fn delete_link_visits(&self, slug: &Slug) -> Result<u64, StoreError>;

    /// Stores a new API key (its hash only).
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKeyRecord, StoreError>;

    /// Every API key, revoked ones included, oldest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Marks a key revoked from now on; [`StoreError::NotFound`] when no key has this id or it
    /// is revoked already.
    async fn revoke_api_key(&self, id: i64) -> Result<ApiKeyRecord, StoreError>;

    /// The key that is not revoked and has this hash, if any: every authenticated request's
    /// one look-up (a unique index).
    async fn find_active_api_key(&self, key_hash: &str)
        -> Result<Option<ApiKeyRecord>, StoreError>;

    /// The link change log (`link_changes`) after the row `after`, oldest first, at most
    /// `limit`: every link created, changed or deleted by any process, written in the
    /// transaction of the change. Running servers evict these slugs from their caches.
    async fn link_changes_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LinkChange>, StoreError>;

    /// The id of the newest change log row, 0 when there is none.
    async fn last_link_change(&self) -> Result<i64, StoreError>;

    /// Deletes the change log rows written before `before`; how many.
    async fn prune_link_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Whether the database may have been written since the last call: SQLite answers from
    /// `PRAGMA data_version` on a connection of its own (no table read); PostgreSQL always
    /// says yes.
    async fn may_have_changed(&self) -> Result<bool, StoreError>;

    /// Notified when this process commits a change that queued webhook deliveries, so the
    /// deliverer starts at once instead of at its next poll.
    fn webhook_wakeup(&self) -> Arc<tokio::sync::Notify>;

    /// Registers a webhook endpoint with its subscriptions.
    async fn create_webhook(&self, new: NewWebhook) -> Result<WebhookRecord, StoreError>;

    /// Every endpoint, oldest first.
    async fn list_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError>;

    async fn get_webhook(&self, id: i64) -> Result<WebhookRecord, StoreError>;

    /// Changes an endpoint; `events` replaces its subscriptions. Deliveries queued already
    /// stay queued.
    async fn update_webhook(
        &self,
        id: i64,
        patch: WebhookPatch,
    ) -> Result<WebhookRecord, StoreError>;

    /// Deletes an endpoint with its queued deliveries and their attempts.
    async fn delete_webhook(&self, id: i64) -> Result<(), StoreError>;

    /// Leases up to `limit` due deliveries, oldest first, for `lease`: until it ends no other
    /// caller (another instance included) gets them; if the caller never records an attempt
    /// (it crashed), they are due again afterwards. Endpoints in `busy_endpoints` are left
    /// out. On PostgreSQL rows another instance is claiming are skipped (`SKIP LOCKED`).
    async fn claim_deliveries(
        &self,
        limit: u32,
        lease: std::time::Duration,
        busy_endpoints: &[i64],
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Stores an attempt at a claimed delivery and what becomes of it, in one transaction.
    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &NewAttempt,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError>;

    /// Gives back claimed deliveries not attempted, due at `at` (not counted as attempts).
    async fn release_deliveries(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError>;

    /// An endpoint's attempts, newest first, keyset-paginated.
    async fn list_webhook_attempts(
        &self,
        endpoint_id: i64,
        page: PageRequest,
    ) -> Result<Page<AttemptRecord>, StoreError>;

    /// Deletes up to `limit` deliveries (and their attempts) finished before `before`; how
    /// many. Call it until it answers less than `limit`.
    async fn prune_webhook_deliveries(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;
}

/// Opens the database named by the settings (a `sqlite:` or `postgres://` URL) and, when
/// configured, applies pending migrations.
pub async fn connect(settings: &DatabaseSettings) -> Result<Arc<dyn Store>, StoreError> {
    let store = open(settings).await?;
    if settings.run_migrations {
        store.migrate().await?;
    }
    Ok(store)
}

/// Opens the database without touching the schema. A PostgreSQL pool connects on first use,
/// so this succeeds while the server is down; the server then waits for it (see `startup`).
pub async fn open(settings: &DatabaseSettings) -> Result<Arc<dyn Store>, StoreError> {
    let store = SqlStore::open(&settings.effective_url(), settings).await?;
    Ok(Arc::new(store))
}

/// The exclusive upper bound of a prefix range: every string that starts with `prefix` sorts
/// (bytewise) at or after `prefix` and before `prefix` followed by the largest code point.
pub(crate) fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

/// Slug matches first, then host matches, without repeats, at most `limit`.
pub(crate) fn merge_search(
    by_slug: Vec<UrlRecord>,
    by_host: Vec<UrlRecord>,
    limit: u32,
) -> Vec<UrlRecord> {
    let mut seen = std::collections::HashSet::new();
    by_slug
        .into_iter()
        .chain(by_host)
        .filter(|url| seen.insert(url.id))
        .take(limit as usize)
        .collect()
}
