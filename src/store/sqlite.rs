use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{QueryBuilder, Sqlite};

use super::maintenance::{self, count_per_url, AppliedMigration};
use super::rows::{
    into_urls, push_visit_page, ApiKeyRow, RedirectRow, UrlRow, VisitRow, API_KEY_COLUMNS,
    URL_COLUMNS,
};
use super::sqlite_writer::{self, SqliteWriter, WriterSettings};
use super::stats::{self, DailyRow, TopValueRow};
use super::{
    ApiKeyRecord, MigrationStatus, NewApiKey, NewUrl, NewVisit, Page, PageRequest, PrunedVisits,
    Redirect, StatsQuery, Store, StoreError, UrlPatch, UrlRecord, UrlStats, VisitFilter,
    VisitRecord,
};
use crate::config::DatabaseSettings;
use crate::domain::Slug;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The zero-setup backend: one file, created on first run.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The visit writer's thread and connection.
    writer: SqliteWriter,
    /// When the visit writer last started a WAL checkpoint, and whether one runs.
    last_checkpoint: Arc<Mutex<Instant>>,
    checkpointing: Arc<AtomicBool>,
}

/// The WAL stays below this size once SQLite resets it (`journal_size_limit`), and the writer
/// truncates it when it has grown past it (see `sqlite_writer`).
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;
/// SQLite's default page size, which kurz keeps: one WAL frame holds one page.
const PAGE_SIZE: u64 = 4096;
/// Pages SQLite keeps in memory per connection (64 MiB); the writer's random updates of the
/// rollups, counts and the per-link index stay in memory instead of being read again.
const CACHE_PAGES: u64 = 16 * 1024;
/// Reads through a memory map of the database file (up to 1 GiB) instead of a system call
/// per page.
const MMAP_SIZE: u64 = 1024 * 1024 * 1024;

/// The `PRAGMA`s of every connection, the pool's and the visit writer's.
fn connection_pragmas() -> Vec<(&'static str, String)> {
    vec![
        ("journal_mode", "WAL".into()),
        // WAL with synchronous = NORMAL: a commit does not wait for fsync, only checkpoints
        // do. A crash of kurz loses nothing committed; a power cut or an OS crash may lose the
        // last transactions (docs/configuration.md, "SQLite").
        ("synchronous", "NORMAL".into()),
        ("foreign_keys", "ON".into()),
        // SQLite's own checkpoint after a commit (the committing connection copies the WAL
        // back and syncs) only past 64 MiB: the visit writer's checkpoints keep it below that,
        // without making the writer wait.
        (
            "wal_autocheckpoint",
            (JOURNAL_SIZE_LIMIT / PAGE_SIZE).to_string(),
        ),
        ("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string()),
        ("cache_size", CACHE_PAGES.to_string()),
        ("mmap_size", MMAP_SIZE.to_string()),
    ]
}

impl SqliteStore {
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let busy_timeout = Duration::from_secs(settings.acquire_timeout_secs.max(1));
        let pragmas = connection_pragmas();
        let options = pragmas.iter().fold(
            SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .busy_timeout(busy_timeout),
            |options, (name, value)| options.pragma(*name, value.clone()),
        );
        let path = options.get_filename().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                anyhow::anyhow!("cannot create the data directory {}: {e}", parent.display())
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections.get())
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_with(options)
            .await?;
        let writer = SqliteWriter::start(
            &path,
            WriterSettings {
                busy_timeout,
                pragmas,
                journal_size_limit: JOURNAL_SIZE_LIMIT,
            },
        )?;
        Ok(Self {
            pool,
            writer,
            last_checkpoint: Arc::new(Mutex::new(Instant::now())),
            checkpointing: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Checkpoints the WAL on a connection of its own, at most every
    /// [`sqlite_writer::CHECKPOINT_EVERY`] and one at a time, while the visit writer goes on
    /// with its next batch: a checkpoint copies pages into the database file and syncs it,
    /// which the writer should not wait for (SQLite lets a writer append to the WAL while a
    /// `PASSIVE` checkpoint runs).
    fn checkpoint_in_background(&self) {
        {
            let mut last = self
                .last_checkpoint
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.elapsed() < sqlite_writer::CHECKPOINT_EVERY {
                return;
            }
            *last = Instant::now();
        }
        if self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, running) = (self.pool.clone(), self.checkpointing.clone());
        tokio::spawn(async move {
            match pool.acquire().await {
                Ok(mut conn) => sqlite_writer::checkpoint(&mut conn).await,
                Err(error) => tracing::warn!(%error, "no connection for a WAL checkpoint"),
            }
            running.store(false, Ordering::Release);
        });
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

const VISIT_SELECT: &str = "SELECT v.id, v.url_id, u.slug, v.visited_at, v.client_ip, \
     v.user_agent, v.referrer, v.referrer_host, v.browser, v.os, v.device, v.is_bot, \
     u.created_by AS url_created_by FROM url_visits v JOIN urls u ON u.id = v.url_id WHERE 1";

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_status(&self) -> super::PoolStatus {
        super::PoolStatus {
            size: self.pool.size(),
            idle: self.pool.num_idle(),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(slug = %new.slug))]
    async fn create_url(&self, new: NewUrl) -> Result<UrlRecord, StoreError> {
        let sql = format!(
            "INSERT INTO urls (slug, target, target_host, title, crawlable, created_at, updated_at, \
                 created_by) \
             VALUES (?1, ?2, ?6, ?3, ?4, ?5, ?5, ?7) RETURNING {URL_COLUMNS}"
        );
        let row: UrlRow = sqlx::query_as(&sql)
            .bind(new.slug.as_str())
            .bind(new.target.as_str())
            .bind(new.title.as_ref().map(|t| t.as_str()))
            .bind(new.crawlable)
            .bind(new.created_at)
            .bind(new.target.host_key())
            .bind(new.created_by)
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    #[tracing::instrument(skip_all, fields(batch = urls.len()))]
    async fn import_urls(&self, urls: &[NewUrl]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut created = 0;
        for url in urls {
            created += sqlx::query(
                "INSERT INTO urls (slug, target, target_host, title, crawlable, created_at, \
                     updated_at, created_by) \
                 VALUES (?1, ?2, ?6, ?3, ?4, ?5, ?5, ?7) ON CONFLICT (slug) DO NOTHING",
            )
            .bind(url.slug.as_str())
            .bind(url.target.as_str())
            .bind(url.title.as_ref().map(|t| t.as_str()))
            .bind(url.crawlable)
            .bind(url.created_at)
            .bind(url.target.host_key())
            .bind(url.created_by)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn get_url(&self, slug: &Slug) -> Result<UrlRecord, StoreError> {
        let sql = format!("SELECT {URL_COLUMNS} FROM urls WHERE slug = ?1");
        let row: UrlRow = sqlx::query_as(&sql)
            .bind(slug.as_str())
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    #[tracing::instrument(skip_all, fields(slug = %slug))]
    async fn update_url(&self, slug: &Slug, patch: UrlPatch) -> Result<UrlRecord, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE urls SET updated_at = ");
        query.push_bind(Utc::now());
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
        query
            .push(" WHERE slug = ")
            .push_bind(slug.as_str())
            .push(format!(" RETURNING {URL_COLUMNS}"));
        let row: UrlRow = query.build_query_as().fetch_one(&self.pool).await?;
        row.try_into()
    }

    #[tracing::instrument(skip_all, fields(slug = %slug))]
    async fn delete_url(&self, slug: &Slug) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM urls WHERE slug = ?1")
            .bind(slug.as_str())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn search_urls(
        &self,
        prefix: &str,
        limit: u32,
        owner: Option<i64>,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        let mine = if owner.is_some() {
            " AND created_by = ?4"
        } else {
            ""
        };
        let upper = super::prefix_upper_bound(prefix);
        let sql = format!(
            "SELECT {URL_COLUMNS} FROM urls WHERE slug >= ?1 AND slug < ?2{mine} \
             ORDER BY slug LIMIT ?3"
        );
        let mut query = sqlx::query_as(&sql)
            .bind(prefix)
            .bind(&upper)
            .bind(i64::from(limit));
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        let by_slug: Vec<UrlRow> = query.fetch_all(&self.pool).await?;
        let host = prefix.to_ascii_lowercase();
        let host_upper = super::prefix_upper_bound(&host);
        let sql = format!(
            "SELECT {URL_COLUMNS} FROM urls WHERE target_host >= ?1 AND target_host < ?2{mine} \
             ORDER BY target_host, id LIMIT ?3"
        );
        let mut query = sqlx::query_as(&sql)
            .bind(&host)
            .bind(&host_upper)
            .bind(i64::from(limit));
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        let by_host: Vec<UrlRow> = query.fetch_all(&self.pool).await?;
        Ok(super::merge_search(
            into_urls(by_slug)?,
            into_urls(by_host)?,
            limit,
        ))
    }

    async fn list_urls(
        &self,
        page: PageRequest,
        owner: Option<i64>,
    ) -> Result<Page<UrlRecord>, StoreError> {
        let mut query =
            QueryBuilder::<Sqlite>::new(format!("SELECT {URL_COLUMNS} FROM urls WHERE 1"));
        if let Some(owner) = owner {
            query.push(" AND created_by = ").push_bind(owner);
        }
        if let Some(after) = page.after {
            query.push(" AND id < ").push_bind(after.last_id());
        }
        query
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows: Vec<UrlRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(Page::from_overfetch(into_urls(rows)?, page.limit, |u| u.id))
    }

    async fn resolve(&self, slug: &Slug) -> Result<Option<Redirect>, StoreError> {
        let row: Option<RedirectRow> =
            sqlx::query_as("SELECT id, target FROM urls WHERE slug = ?1")
                .bind(slug.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Redirect::from))
    }

    async fn crawlable_slugs(&self, limit: u32) -> Result<Vec<Slug>, StoreError> {
        let slugs: Vec<String> =
            sqlx::query_scalar("SELECT slug FROM urls WHERE crawlable = 1 ORDER BY id LIMIT ?1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        Ok(slugs.into_iter().map(Slug::from_stored).collect())
    }

    #[tracing::instrument(skip_all, fields(batch = visits.len()))]
    async fn record_visits(&self, visits: &[NewVisit]) -> Result<Vec<i64>, StoreError> {
        if visits.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.writer.record(visits).await?;
        self.checkpoint_in_background();
        Ok(ids)
    }

    async fn visits_by_ids(&self, ids: &[i64]) -> Result<Vec<VisitRecord>, StoreError> {
        let ids = &ids[..ids.len().min(super::MAX_VISITS_BY_IDS)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(VISIT_SELECT);
        query.push(" AND v.id IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        query.push(") ORDER BY v.id");
        let rows: Vec<VisitRow> = query.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(VisitRecord::from).collect())
    }

    async fn visit_total(&self, owner: Option<i64>) -> Result<i64, StoreError> {
        let total: i64 = match owner {
            None => {
                sqlx::query_scalar("SELECT COALESCE(SUM(visits), 0) FROM visit_totals")
                    .fetch_one(&self.pool)
                    .await?
            }
            Some(owner) => {
                sqlx::query_scalar(
                    "SELECT COALESCE(SUM(visit_count), 0) FROM urls WHERE created_by = ?",
                )
                .bind(owner)
                .fetch_one(&self.pool)
                .await?
            }
        };
        Ok(total)
    }

    async fn list_visits(
        &self,
        filter: VisitFilter,
        page: PageRequest,
    ) -> Result<Page<VisitRecord>, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new(VISIT_SELECT);
        push_visit_page(&mut query, filter, page);
        let rows: Vec<VisitRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let visits = rows.into_iter().map(VisitRecord::from).collect();
        Ok(Page::from_overfetch(visits, page.limit, |v| v.id))
    }

    async fn url_stats(&self, query: StatsQuery) -> Result<UrlStats, StoreError> {
        let daily: Vec<DailyRow> = sqlx::query_as(&stats::DAILY_SQL.replace('$', "?"))
            .bind(query.url_id)
            .bind(query.from)
            .bind(query.to)
            .fetch_all(&self.pool)
            .await?;
        let top: Vec<TopValueRow> = sqlx::query_as(&stats::TOP_VALUES_SQL.replace('$', "?"))
            .bind(query.url_id)
            .bind(query.from)
            .bind(query.to)
            .bind(i64::from(!query.include_bots))
            .bind(i64::from(query.top))
            .fetch_all(&self.pool)
            .await?;
        Ok(stats::assemble(&query, daily, top))
    }

    async fn migration_status(&self) -> Result<Vec<MigrationStatus>, StoreError> {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master \
             WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&self.pool)
        .await?;
        let applied: Vec<AppliedMigration> = if exists {
            sqlx::query_as(
                "SELECT version, description, installed_on, success, checksum \
                 FROM _sqlx_migrations ORDER BY version",
            )
            .fetch_all(&self.pool)
            .await?
        } else {
            Vec::new()
        };
        Ok(maintenance::migration_status(&MIGRATOR, applied))
    }

    async fn urls_oldest_first(
        &self,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<UrlRecord>, StoreError> {
        let sql = format!("SELECT {URL_COLUMNS} FROM urls WHERE id > ?1 ORDER BY id LIMIT ?2");
        let rows: Vec<UrlRow> = sqlx::query_as(&sql)
            .bind(after_id.unwrap_or(0))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        into_urls(rows)
    }

    #[tracing::instrument(skip(self))]
    async fn prune_visits(
        &self,
        before: NaiveDate,
        limit: u32,
    ) -> Result<PrunedVisits, StoreError> {
        let limit = limit.max(1);
        let cut = before.and_time(chrono::NaiveTime::MIN).and_utc();
        let mut tx = self.pool.begin().await?;
        let url_ids: Vec<i64> = sqlx::query_scalar(
            "DELETE FROM url_visits WHERE id IN \
                 (SELECT id FROM url_visits WHERE visited_at < ?1 LIMIT ?2) \
             RETURNING url_id",
        )
        .bind(cut)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let (ids, counts): (Vec<i64>, Vec<i64>) = count_per_url(&url_ids).into_iter().unzip();
        if !ids.is_empty() {
            for (id, count) in ids.iter().zip(&counts) {
                sqlx::query("UPDATE urls SET visit_count = MAX(visit_count - ?1, 0) WHERE id = ?2")
                    .bind(count)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let done = url_ids.len() < limit as usize;
        let rollup_rows = if done {
            sqlx::query("DELETE FROM url_daily_rollups WHERE day < ?1")
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            0
        };
        tx.commit().await?;
        Ok(PrunedVisits {
            visits: url_ids.len() as u64,
            urls: ids.len() as u64,
            rollup_rows,
            done,
        })
    }

    #[tracing::instrument(skip_all, fields(role = %new.role))]
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        let sql = format!(
            "INSERT INTO api_keys (name, role, prefix, key_hash, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {API_KEY_COLUMNS}"
        );
        let row: ApiKeyRow = sqlx::query_as(&sql)
            .bind(&new.name)
            .bind(new.role.as_str())
            .bind(&new.prefix)
            .bind(&new.key_hash)
            .bind(new.created_at)
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY id");
        let rows: Vec<ApiKeyRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(ApiKeyRecord::try_from).collect()
    }

    #[tracing::instrument(skip(self))]
    async fn revoke_api_key(&self, id: i64) -> Result<ApiKeyRecord, StoreError> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL \
             RETURNING {API_KEY_COLUMNS}"
        );
        let row: ApiKeyRow = sqlx::query_as(&sql)
            .bind(Utc::now())
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    async fn find_active_api_key(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys \
             WHERE key_hash = ?1 AND revoked_at IS NULL"
        );
        let row: Option<ApiKeyRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ApiKeyRecord::try_from).transpose()
    }
}
