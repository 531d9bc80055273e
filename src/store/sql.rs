//! The one [`Store`]: every statement the two databases share is written here once, and run
//! on whichever pool the store opened (sqlx binds `$N` on SQLite too). The backend files hold
//! only what really differs: connection set-up, `COPY` and `UNNEST` on PostgreSQL, the visit
//! writer thread on SQLite, the PostgreSQL editor merge. [`Dialect`] names the few fragments
//! of SQL that are spelled differently.
//!
//! This file holds the trait's implementation, the links' statements and what every part
//! shares (the pool macros, [`Dialect`]); the other concerns are beside it in `sql/`: visits
//! (`visits.rs`), tags (`tags.rs`), orphan visits (`orphans.rs`) and API keys (`keys.rs`),
//! each as methods of [`SqlStore`] that the trait's implementation calls.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use tokio::sync::Notify;

use super::maintenance::{self, AppliedMigration};
use super::postgres::{self, Pg};
use super::rows::{into_urls, push_url_filter, RedirectRow, UrlRow, REDIRECT_COLUMNS, URL_COLUMNS};
use super::sqlite::{self, Lite};
use super::webhooks::{
    enqueue_postgres, enqueue_sqlite, AttemptRecord, ClaimedDelivery, DeliveryOutcome, NewAttempt,
    NewWebhook, WebhookPatch, WebhookRecord,
};
use super::{
    ApiKeyRecord, CapTake, GlobalStats, ImportMark, LinkChange, LinkKey, LinkQuery, ListEpoch,
    MigrationStatus, NewApiKey, NewOrphanVisit, NewUrl, NewVisit, OrphanFilter, OrphanVisitRecord,
    Page, PageIndex, PageRequest, PageStart, PoolStatus, PrunedVisits, Redirect, RollupCount,
    StatsQuery, Store, StoreError, TagFilter, TagPage, TagQuery, TagRecord, UrlFilter, UrlPatch,
    UrlRank, UrlRecord, UrlStats, VisitFilter, VisitRecord, VisitTotals,
};
use crate::config::DatabaseSettings;
use crate::domain::{
    MaxVisits, PasswordHash, RedirectStatus, Rules, Slug, TagName, TargetUrl, Title, WebhookEvent,
};

/// Writes the change log row of `$slug` in the transaction `$tx`, as this store's origin.
macro_rules! log_change {
    ($store:expr, $tx:expr, $slug:expr) => {
        sqlx::query(LOG_CHANGE)
            .bind($slug)
            .bind(Utc::now())
            .bind(&$store.origin)
            .execute(&mut *$tx)
            .await?
    };
}

/// Like `on_pool!`, with `$enqueue` bound to the backend's webhook enqueue function.
macro_rules! on_pool_queueing {
    ($store:expr, $pool:ident, $enqueue:ident => $body:expr) => {
        match &$store.db {
            Db::Postgres(pg) => {
                let $pool = &pg.pool;
                use enqueue_postgres as $enqueue;
                $body
            }
            Db::Sqlite(lite) => {
                let $pool = &lite.pool;
                use enqueue_sqlite as $enqueue;
                $body
            }
        }
    };
}

#[macro_use]
mod tags;
mod keys;
mod numbered;
mod orphans;
mod totals;
mod visits;

pub(super) enum Db {
    Postgres(Pg),
    Sqlite(Box<Lite>),
}

/// The SQL the two databases spell differently.
struct Dialect {
    /// Bytewise text order, for prefix ranges that an index serves.
    bytewise: &'static str,
    /// A visit's client address as text.
    client_ip: &'static str,
    /// The larger of two values.
    greatest: &'static str,
    /// `LIKE` that ignores case (SQLite's does, for ASCII).
    contains: &'static str,
}

const POSTGRES: Dialect = Dialect {
    bytewise: " COLLATE \"C\"",
    client_ip: "host(v.client_ip)",
    greatest: "GREATEST",
    contains: "ILIKE",
};

const SQLITE: Dialect = Dialect {
    bytewise: "",
    client_ip: "v.client_ip",
    greatest: "MAX",
    contains: "LIKE",
};

/// A redirect status as its column holds it.
pub(super) fn stored_status(status: RedirectStatus) -> i16 {
    // 301..=308 fit.
    status.get() as i16
}

/// URLs whose visit count one statement of [`Store::prune_visits`] lowers.
const COUNTS_PER_STATEMENT: usize = 1000;

/// Moves an import mark (`$1` how far, `$2` source, `$3` source id), in the transaction of
/// the visits it covers; both writers run it (rusqlite reads `$N` too).
pub(super) const MOVE_IMPORT_MARK: &str =
    "UPDATE import_marks SET visits_through = $1 WHERE source = $2 AND source_id = $3";

/// Records a link change in the change log, in the transaction of the change.
pub(super) const LOG_CHANGE: &str =
    "INSERT INTO link_changes (slug, changed_at, origin) VALUES ($1, $2, $3)";

/// The production database (PostgreSQL) or the zero-setup one (an SQLite file).
pub struct SqlStore {
    db: Db,
    /// This process's name in the change log.
    origin: String,
    /// Woken when this process queues webhook deliveries (see [`Store::webhook_wakeup`]).
    outbox: Arc<Notify>,
}

impl SqlStore {
    /// Opens the database named by `url`, a `sqlite:` or `postgres://` URL.
    pub async fn open(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let outbox = Arc::new(Notify::new());
        let db = if url.starts_with("sqlite:") {
            Db::Sqlite(Box::new(
                Lite::connect(url, settings, outbox.clone()).await?,
            ))
        } else {
            Db::Postgres(Pg::connect(url, settings)?)
        };
        Ok(Self {
            db,
            origin: nanoid::nanoid!(12),
            outbox,
        })
    }

    pub(super) fn db(&self) -> &Db {
        &self.db
    }

    /// Wakes the webhook deliverer after a commit that queued deliveries.
    fn queued(&self, deliveries: u64) {
        if deliveries > 0 {
            self.outbox.notify_one();
        }
    }

    fn dialect(&self) -> &'static Dialect {
        match self.db {
            Db::Postgres(_) => &POSTGRES,
            Db::Sqlite(_) => &SQLITE,
        }
    }

    /// The columns of a visit record, from `url_visits v` joined with `urls u`.
    fn visit_columns(&self) -> String {
        format!(
            "SELECT v.id, v.url_id, u.slug, v.visited_at, {} AS client_ip, v.user_agent, \
             v.referrer, v.referrer_host, v.browser, v.os, v.device, v.is_bot, v.rule, \
             v.country, v.region, v.city, v.latitude, v.longitude, v.timezone, \
             u.created_by AS url_created_by",
            self.dialect().client_ip
        )
    }

    fn visit_select(&self) -> String {
        format!(
            "{} FROM url_visits v JOIN urls u ON u.id = v.url_id WHERE TRUE",
            self.visit_columns()
        )
    }
}

#[async_trait]
impl Store for SqlStore {
    fn origin(&self) -> &str {
        &self.origin
    }

    fn backend(&self) -> &'static str {
        match self.db {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
        }
    }

    fn pool_status(&self) -> PoolStatus {
        on_pool!(self, pool => PoolStatus {
            size: pool.size(),
            idle: pool.num_idle(),
            max: pool.options().get_max_connections(),
        })
    }

    fn max_concurrent_writes(&self) -> usize {
        match self.db {
            Db::Postgres(_) => usize::MAX,
            Db::Sqlite(_) => 1,
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Postgres(pg) => postgres::MIGRATOR.run(&pg.pool).await?,
            Db::Sqlite(lite) => sqlite::MIGRATOR.run(&lite.pool).await?,
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(slug = %new.slug))]
    async fn create_url(&self, new: NewUrl) -> Result<UrlRecord, StoreError> {
        let sql = format!(
            "INSERT INTO urls (slug, target, target_host, title, crawlable, created_at, updated_at, \
                 created_by, redirect_status, valid_since, valid_until, max_visits, human_visits, \
                 rules, forward_query, password_hash) \
             VALUES ($1, $2, $6, $3, $4, $5, $5, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             RETURNING {URL_COLUMNS}"
        );
        let (row, queued) = on_pool_queueing!(self, pool, enqueue => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let row: UrlRow = sqlx::query_as(&sql)
                .bind(new.slug.as_str())
                .bind(new.target.as_str())
                .bind(new.title.as_ref().map(|t| t.as_str()))
                .bind(new.crawlable)
                .bind(new.created_at)
                .bind(new.target.host_key())
                .bind(new.created_by)
                .bind(new.redirect_status.map(stored_status))
                .bind(new.valid_since)
                .bind(new.valid_until)
                .bind(new.max_visits.map(MaxVisits::get))
                .bind(new.human_visits)
                .bind(new.rules.as_ref().map(Rules::to_stored))
                .bind(new.forward_query)
                .bind(new.password_hash.as_ref().map(PasswordHash::as_str))
                .fetch_one(&mut *tx)
                .await?;
            let record = UrlRecord::try_from(row)?;
            set_url_tags!(self, tx, record.id, (0, 0), &new.tags);
            log_change!(self, tx, new.slug.as_str());
            let queued = announce_link!(tx, WebhookEvent::LinkCreated, record.clone(), enqueue);
            tx.commit().await?;
            (record, queued)
        });
        self.queued(queued);
        self.with_tags_of(row).await
    }

    #[tracing::instrument(skip_all, fields(batch = urls.len()))]
    async fn import_urls(&self, urls: &[NewUrl]) -> Result<Vec<Slug>, StoreError> {
        let created = self.import_links(urls, None).await?;
        Ok(created.into_iter().map(|(_, slug)| slug).collect())
    }

    async fn import_marked_urls(
        &self,
        source: &str,
        urls: &[NewUrl],
        source_ids: &[String],
    ) -> Result<Vec<(i64, Slug)>, StoreError> {
        self.import_links(urls, Some((source, source_ids))).await
    }

    async fn import_marks(&self, source: &str) -> Result<Vec<ImportMark>, StoreError> {
        self.read_import_marks(source).await
    }

    async fn import_visits(
        &self,
        source: &str,
        visits: &[NewVisit],
        marks: &[ImportMark],
    ) -> Result<u64, StoreError> {
        self.import_history(source, visits, &[], marks).await
    }

    async fn import_rollups(
        &self,
        source: &str,
        counts: &[RollupCount],
        marks: &[ImportMark],
    ) -> Result<u64, StoreError> {
        self.import_history(source, &[], counts, marks).await
    }

    async fn import_orphan_visits(
        &self,
        source: &str,
        visits: &[NewOrphanVisit],
        through: &str,
    ) -> Result<u64, StoreError> {
        let ids = self
            .write_orphan_visits(visits, Some((source, through)))
            .await?;
        Ok(ids.len() as u64)
    }

    async fn import_orphan_mark(&self, source: &str) -> Result<Option<String>, StoreError> {
        self.read_import_orphan_mark(source).await
    }

    async fn get_url(&self, slug: &Slug) -> Result<UrlRecord, StoreError> {
        let sql = format!("SELECT {URL_COLUMNS} FROM urls WHERE slug = $1");
        let row: UrlRow = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(slug.as_str()).fetch_one(pool).await?
        });
        self.with_tags_of(row.try_into()?).await
    }

    #[tracing::instrument(skip_all, fields(slug = %slug))]
    async fn fill_title(
        &self,
        slug: &Slug,
        title: &Title,
    ) -> Result<Option<UrlRecord>, StoreError> {
        let sql = format!(
            "UPDATE urls SET title = $1, updated_at = $2 WHERE slug = $3 AND title IS NULL \
             RETURNING {URL_COLUMNS}"
        );
        let (row, queued) = on_pool_queueing!(self, pool, enqueue => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let row: Option<UrlRow> = sqlx::query_as(&sql)
                .bind(title.as_str())
                .bind(Utc::now())
                .bind(slug.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let row = row.map(UrlRecord::try_from).transpose()?;
            let mut queued = 0;
            if let Some(record) = &row {
                log_change!(self, tx, slug.as_str());
                queued = announce_link!(tx, WebhookEvent::LinkUpdated, record.clone(), enqueue);
            }
            tx.commit().await?;
            (row, queued)
        });
        self.queued(queued);
        match row {
            Some(row) => Ok(Some(self.with_tags_of(row).await?)),
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(slug = %slug))]
    async fn update_url(&self, slug: &Slug, patch: UrlPatch) -> Result<UrlRecord, StoreError> {
        let now = Utc::now();
        let (row, queued) = on_pool_queueing!(self, pool, enqueue => {
            let mut query = QueryBuilder::new("UPDATE urls SET updated_at = ");
            query.push_bind(now);
            if let Some(target) = &patch.target {
                query.push(", target = ").push_bind(target.as_str());
                query.push(", target_host = ").push_bind(target.host_key());
            }
            if let Some(title) = &patch.title {
                query
                    .push(", title = ")
                    .push_bind(title.as_ref().map(|t| t.as_str()));
            }
            if let Some(crawlable) = patch.crawlable {
                query.push(", crawlable = ").push_bind(crawlable);
            }
            if let Some(status) = patch.redirect_status {
                query
                    .push(", redirect_status = ")
                    .push_bind(status.map(stored_status));
            }
            if let Some(since) = patch.valid_since {
                query.push(", valid_since = ").push_bind(since);
            }
            if let Some(until) = patch.valid_until {
                query.push(", valid_until = ").push_bind(until);
            }
            if let Some(cap) = patch.max_visits {
                query.push(", max_visits = ").push_bind(cap.map(MaxVisits::get));
            }
            if let Some(rules) = &patch.rules {
                query
                    .push(", rules = ")
                    .push_bind(rules.as_ref().map(Rules::to_stored));
            }
            if let Some(forward) = patch.forward_query {
                query.push(", forward_query = ").push_bind(forward);
            }
            if let Some(hash) = &patch.password_hash {
                query
                    .push(", password_hash = ")
                    .push_bind(hash.as_ref().map(PasswordHash::as_str));
            }
            query
                .push(" WHERE slug = ")
                .push_bind(slug.as_str())
                .push(format!(" RETURNING {URL_COLUMNS}"));
            let mut tx = crate::store::pool::begin(pool).await?;
            // The UPDATE comes first: it holds the link's row (and on SQLite the write lock),
            // so the visit count the tags' counters move by is the current one.
            let row: UrlRow = query.build_query_as().fetch_one(&mut *tx).await?;
            let record = UrlRecord::try_from(row)?;
            if let Some(names) = &patch.tags {
                set_url_tags!(self, tx, record.id, (record.visit_count, record.bot_visits), names);
            }
            log_change!(self, tx, slug.as_str());
            let queued = announce_link!(tx, WebhookEvent::LinkUpdated, record.clone(), enqueue);
            tx.commit().await?;
            (record, queued)
        });
        self.queued(queued);
        self.with_tags_of(row).await
    }

    #[tracing::instrument(skip_all, fields(slug = %slug))]
    async fn delete_url(&self, slug: &Slug) -> Result<(), StoreError> {
        // The row held first, and in the mode the final DELETE needs: the visit count its tags
        // lose is the last one, and nothing else is waited for while holding less. (PostgreSQL:
        // a weaker lock first, as the no-op UPDATE took, let a visit batch that had checked
        // its foreign key on the row wait for it while the DELETE waited for the batch: a
        // deadlock, seen as a 500 on DELETE under clicks. SQLite: a write takes the database.)
        let sql = match self.db {
            Db::Postgres(_) => format!("SELECT {URL_COLUMNS} FROM urls WHERE slug = $1 FOR UPDATE"),
            Db::Sqlite(_) => format!(
                "UPDATE urls SET updated_at = updated_at WHERE slug = $1 RETURNING {URL_COLUMNS}"
            ),
        };
        let queued = on_pool_queueing!(self, pool, enqueue => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let found: Option<UrlRow> = sqlx::query_as(&sql)
                .bind(slug.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(record) = found.map(UrlRecord::try_from).transpose()? else {
                return Err(StoreError::NotFound);
            };
            let (id, visits) = (record.id, (record.visit_count, record.bot_visits));
            // The link as it was, tags included, before they go.
            let queued = announce_link!(tx, WebhookEvent::LinkDeleted, record, enqueue);
            set_url_tags!(self, tx, id, visits, &[]);
            sqlx::query("DELETE FROM urls WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            log_change!(self, tx, slug.as_str());
            tx.commit().await?;
            queued
        });
        self.queued(queued);
        Ok(())
    }

    async fn search_urls(
        &self,
        prefix: &str,
        limit: u32,
        owner: Option<i64>,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        let bytewise = self.dialect().bytewise;
        let mine = if owner.is_some() {
            " AND created_by = $4"
        } else {
            ""
        };
        let by_slug_sql = format!(
            "SELECT {URL_COLUMNS} FROM urls \
             WHERE slug{bytewise} >= $1 AND slug{bytewise} < $2{mine} \
             ORDER BY slug{bytewise} LIMIT $3"
        );
        let by_host_sql = format!(
            "SELECT {URL_COLUMNS} FROM urls \
             WHERE target_host{bytewise} >= $1 AND target_host{bytewise} < $2{mine} \
             ORDER BY target_host{bytewise}, id LIMIT $3"
        );
        let host = prefix.to_ascii_lowercase();
        let mut found = Vec::with_capacity(2);
        for (sql, prefix) in [(&by_slug_sql, prefix), (&by_host_sql, host.as_str())] {
            let upper = super::prefix_upper_bound(prefix);
            let rows: Vec<UrlRow> = on_pool!(self, pool => {
                let mut query = sqlx::query_as(sql)
                    .bind(prefix)
                    .bind(&upper)
                    .bind(i64::from(limit));
                if let Some(owner) = owner {
                    query = query.bind(owner);
                }
                query.fetch_all(pool).await?
            });
            found.push(into_urls(rows)?);
        }
        let by_host = found.pop().unwrap_or_default();
        let by_slug = found.pop().unwrap_or_default();
        self.with_tags(super::merge_search(by_slug, by_host, limit))
            .await
    }

    async fn list_urls(
        &self,
        page: PageRequest,
        filter: UrlFilter,
    ) -> Result<Page<UrlRecord>, StoreError> {
        let rows: Vec<UrlRow> = on_pool!(self, pool => {
            let mut query = QueryBuilder::new(format!("SELECT {URL_COLUMNS} FROM urls WHERE TRUE"));
            push_url_filter(&mut query, filter);
            if let Some(after) = page.after {
                query.push(" AND id < ").push_bind(after.last_id());
            }
            query
                .push(" ORDER BY id DESC LIMIT ")
                .push_bind(i64::from(page.limit) + 1);
            query.build_query_as().fetch_all(pool).await?
        });
        let urls = self.with_tags(into_urls(rows)?).await?;
        Ok(Page::from_overfetch(urls, page.limit, |u| u.id))
    }

    async fn list_tagged_urls(
        &self,
        filter: &TagFilter,
        page: PageRequest,
        urls: UrlFilter,
    ) -> Result<Page<UrlRecord>, StoreError> {
        self.tagged_urls(filter, page, urls).await
    }

    async fn list_tags(&self, query: &TagQuery, owner: Option<i64>) -> Result<TagPage, StoreError> {
        self.tag_page(query, owner).await
    }

    async fn get_tag(&self, name: &TagName, owner: Option<i64>) -> Result<TagRecord, StoreError> {
        self.tag(name, owner).await
    }

    async fn tag_used_by_others(&self, tag_id: i64, owner: i64) -> Result<bool, StoreError> {
        self.tag_has_others(tag_id, owner).await
    }

    #[tracing::instrument(skip(self))]
    async fn rename_tag(&self, name: &TagName, to: &TagName) -> Result<TagRecord, StoreError> {
        self.rename(name, to).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete_tag(&self, name: &TagName) -> Result<i64, StoreError> {
        self.remove_tag(name).await
    }

    async fn resolve(&self, slug: &Slug) -> Result<Option<Redirect>, StoreError> {
        let sql = format!("SELECT {REDIRECT_COLUMNS} FROM urls WHERE slug = $1");
        let row: Option<RedirectRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(slug.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(Redirect::try_from).transpose()
    }

    async fn take_visit(&self, url_id: i64) -> Result<CapTake, StoreError> {
        on_pool!(self, pool => {
            let taken = sqlx::query(
                "UPDATE urls SET human_visits = human_visits + 1 \
                 WHERE id = $1 AND human_visits < max_visits",
            )
            .bind(url_id)
            .execute(pool)
            .await?
            .rows_affected();
            if taken == 1 {
                return Ok(CapTake::Taken);
            }
            // The rare path: the link is exhausted, lost its cap, or is gone.
            let cap: Option<Option<i64>> =
                sqlx::query_scalar("SELECT max_visits FROM urls WHERE id = $1")
                    .bind(url_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(match cap {
                None => CapTake::Gone,
                Some(None) => CapTake::Uncapped,
                Some(Some(_)) => CapTake::Exhausted,
            })
        })
    }

    async fn crawlable_slugs(&self, limit: u32) -> Result<Vec<Slug>, StoreError> {
        let slugs: Vec<String> = on_pool!(self, pool => {
            sqlx::query_scalar(
                // A link with a password is never crawlable (`crate::app::Links` refuses it);
                // robots.txt does not rely on that alone.
                "SELECT slug FROM urls WHERE crawlable AND password_hash IS NULL \
                 ORDER BY id LIMIT $1",
            )
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(slugs.into_iter().map(Slug::from_stored).collect())
    }

    #[tracing::instrument(skip_all, fields(batch = visits.len()))]
    async fn record_visits(&self, visits: &[NewVisit]) -> Result<Vec<i64>, StoreError> {
        if visits.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            Db::Postgres(pg) => postgres::record_visits(&pg.pool, visits, &self.outbox).await,
            Db::Sqlite(lite) => lite.record_visits(visits).await,
        }
    }

    async fn visits_by_ids(&self, ids: &[i64]) -> Result<Vec<VisitRecord>, StoreError> {
        self.read_visits_by_ids(ids).await
    }

    async fn visit_total(&self, owner: Option<i64>) -> Result<i64, StoreError> {
        self.stored_visit_total(owner).await
    }

    #[tracing::instrument(skip(self))]
    async fn visit_totals(&self, owner: Option<i64>) -> Result<VisitTotals, StoreError> {
        self.count_visits(owner).await
    }

    async fn link_total(&self, owner: Option<i64>) -> Result<i64, StoreError> {
        self.count_links(owner).await
    }

    async fn tag_total(&self) -> Result<i64, StoreError> {
        self.count_tags().await
    }

    async fn find_urls_by_target(
        &self,
        target: &TargetUrl,
        owner: Option<i64>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        let mine = if owner.is_some() {
            " AND created_by = $3"
        } else {
            ""
        };
        let sql =
            format!("SELECT {URL_COLUMNS} FROM urls WHERE target = $1{mine} ORDER BY id LIMIT $2");
        let rows: Vec<UrlRow> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(target.as_str()).bind(i64::from(limit));
            if let Some(owner) = owner {
                query = query.bind(owner);
            }
            query.fetch_all(pool).await?
        });
        self.with_tags(into_urls(rows)?).await
    }

    async fn record_orphan_visits(
        &self,
        visits: &[NewOrphanVisit],
    ) -> Result<Vec<i64>, StoreError> {
        self.write_orphan_visits(visits, None).await
    }

    async fn list_orphan_visits(
        &self,
        filter: OrphanFilter,
        page: PageRequest,
    ) -> Result<Page<OrphanVisitRecord>, StoreError> {
        self.orphan_page(filter, page).await
    }

    async fn global_stats(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        include_bots: bool,
    ) -> Result<GlobalStats, StoreError> {
        self.read_global_stats(from, to, include_bots).await
    }

    async fn orphan_visit_total(&self) -> Result<i64, StoreError> {
        self.orphan_total().await
    }

    async fn prune_orphan_visits(
        &self,
        before: NaiveDate,
        limit: u32,
    ) -> Result<PrunedVisits, StoreError> {
        self.prune_orphans(before, limit).await
    }

    async fn list_visits(
        &self,
        filter: VisitFilter,
        page: PageRequest,
    ) -> Result<Page<VisitRecord>, StoreError> {
        self.visit_page(filter, page).await
    }

    async fn url_stats(&self, query: StatsQuery) -> Result<UrlStats, StoreError> {
        self.stats_of(query).await
    }

    async fn migration_status(&self) -> Result<Vec<MigrationStatus>, StoreError> {
        let (exists_sql, migrator) = match self.db {
            Db::Postgres(_) => (postgres::MIGRATIONS_TABLE_EXISTS, &postgres::MIGRATOR),
            Db::Sqlite(_) => (sqlite::MIGRATIONS_TABLE_EXISTS, &sqlite::MIGRATOR),
        };
        let applied: Vec<AppliedMigration> = on_pool!(self, pool => {
            let exists: bool = sqlx::query_scalar(exists_sql).fetch_one(pool).await?;
            if exists {
                sqlx::query_as(
                    "SELECT version, description, installed_on, success, checksum \
                     FROM _sqlx_migrations ORDER BY version",
                )
                .fetch_all(pool)
                .await?
            } else {
                Vec::new()
            }
        });
        Ok(maintenance::migration_status(migrator, applied))
    }

    async fn urls_oldest_first(
        &self,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        let sql = format!("SELECT {URL_COLUMNS} FROM urls WHERE id > $1 ORDER BY id LIMIT $2");
        let rows: Vec<UrlRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(after_id.unwrap_or(0))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        self.with_tags(into_urls(rows)?).await
    }

    async fn list_links(
        &self,
        query: &LinkQuery,
        start: PageStart<&LinkKey>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        self.link_list_page(query, start, limit).await
    }

    async fn link_page_index(
        &self,
        query: &LinkQuery,
        every: u32,
    ) -> Result<PageIndex<LinkKey>, StoreError> {
        self.link_list_index(query, every).await
    }

    async fn visit_page_index(
        &self,
        filter: VisitFilter,
        every: u32,
    ) -> Result<PageIndex<i64>, StoreError> {
        self.visit_list_index(filter, every).await
    }

    async fn orphan_page_index(
        &self,
        filter: OrphanFilter,
        every: u32,
    ) -> Result<PageIndex<i64>, StoreError> {
        self.orphan_list_index(filter, every).await
    }

    async fn list_epoch(&self) -> Result<ListEpoch, StoreError> {
        self.link_list_epoch().await
    }

    async fn ranked_urls(
        &self,
        rank: UrlRank,
        offset: u32,
        limit: u32,
        owner: Option<i64>,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        let order = match rank {
            UrlRank::MostVisited => "visit_count DESC, id DESC",
            UrlRank::LeastVisited => "visit_count, id",
            UrlRank::Newest => "id DESC",
            UrlRank::Random => "RANDOM()",
        };
        let mine = if owner.is_some() {
            " WHERE created_by = $3"
        } else {
            ""
        };
        let sql =
            format!("SELECT {URL_COLUMNS} FROM urls{mine} ORDER BY {order} LIMIT $1 OFFSET $2");
        let rows: Vec<UrlRow> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(i64::from(limit)).bind(i64::from(offset));
            if let Some(owner) = owner {
                query = query.bind(owner);
            }
            query.fetch_all(pool).await?
        });
        self.with_tags(into_urls(rows)?).await
    }

    #[tracing::instrument(skip(self))]
    async fn prune_visits(
        &self,
        before: NaiveDate,
        limit: u32,
    ) -> Result<PrunedVisits, StoreError> {
        self.prune_old_visits(before, limit).await
    }

    #[tracing::instrument(skip(self), fields(slug = %slug))]
    async fn delete_link_visits(&self, slug: &Slug) -> Result<u64, StoreError> {
        self.delete_visits_of(slug).await
    }

    #[tracing::instrument(skip_all, fields(role = %new.role))]
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        self.insert_api_key(new).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.api_keys().await
    }

    #[tracing::instrument(skip(self))]
    async fn revoke_api_key(&self, id: i64) -> Result<ApiKeyRecord, StoreError> {
        self.revoke_key(id).await
    }

    async fn find_active_api_key(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.active_api_key(key_hash).await
    }

    async fn link_changes_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LinkChange>, StoreError> {
        let changes = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, slug, origin FROM link_changes WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(changes)
    }

    async fn last_link_change(&self) -> Result<i64, StoreError> {
        let last: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(id) FROM link_changes").fetch_one(pool).await?
        });
        Ok(last.unwrap_or(0))
    }

    async fn prune_link_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let pruned = on_pool!(self, pool => {
            sqlx::query("DELETE FROM link_changes WHERE changed_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(pruned)
    }

    async fn may_have_changed(&self) -> Result<bool, StoreError> {
        match &self.db {
            Db::Postgres(_) => Ok(true),
            Db::Sqlite(lite) => lite.data_version_changed().await,
        }
    }

    fn webhook_wakeup(&self) -> Arc<Notify> {
        self.outbox.clone()
    }

    #[tracing::instrument(skip_all)]
    async fn create_webhook(&self, new: NewWebhook) -> Result<WebhookRecord, StoreError> {
        self.insert_webhook(new).await
    }

    async fn list_webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        self.webhooks(None).await
    }

    async fn get_webhook(&self, id: i64) -> Result<WebhookRecord, StoreError> {
        self.webhooks(Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(skip(self, patch))]
    async fn update_webhook(
        &self,
        id: i64,
        patch: WebhookPatch,
    ) -> Result<WebhookRecord, StoreError> {
        self.change_webhook(id, patch).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete_webhook(&self, id: i64) -> Result<(), StoreError> {
        self.remove_webhook(id).await
    }

    async fn claim_deliveries(
        &self,
        limit: u32,
        lease: std::time::Duration,
        busy_endpoints: &[i64],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        self.claim(limit, lease, busy_endpoints).await
    }

    async fn record_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &NewAttempt,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        self.finish(delivery, attempt, outcome).await
    }

    async fn release_deliveries(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        self.release(ids, at).await
    }

    async fn list_webhook_attempts(
        &self,
        endpoint_id: i64,
        page: PageRequest,
    ) -> Result<Page<AttemptRecord>, StoreError> {
        self.attempts(endpoint_id, page).await
    }

    async fn prune_webhook_deliveries(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.prune_deliveries(before, limit).await
    }
}

// After the macros it uses (`tag_imported!`).
mod imports;
