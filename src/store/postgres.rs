use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder};

use super::maintenance::{self, count_per_url, AppliedMigration};
use super::postgres_visits;
use super::rollup::Rollups;
use super::rows::{
    into_urls, push_visit_page, ApiKeyRow, RedirectRow, UrlRow, VisitRow, API_KEY_COLUMNS,
    URL_COLUMNS,
};
use super::stats::{self, DailyRow, TopValueRow};
use super::{
    ApiKeyRecord, MigrationStatus, NewApiKey, NewUrl, NewVisit, Page, PageRequest, PrunedVisits,
    Redirect, StatsQuery, Store, StoreError, UrlPatch, UrlRecord, UrlStats, VisitFilter,
    VisitRecord,
};
use crate::config::DatabaseSettings;
use crate::domain::Slug;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The production backend.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Opens a pool that connects on first use, so a server can start (and say it is not
    /// ready) while PostgreSQL is still down.
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("kurz");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.get())
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether this API key created at most [`OWNER_LINKS_FOR_MERGE`] links (an index-only
    /// scan that stops there).
    async fn owner_links_are_few(&self, owner: i64) -> Result<bool, StoreError> {
        let links: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM urls WHERE created_by = $1 LIMIT $2) AS l",
        )
        .bind(owner)
        .bind(OWNER_LINKS_FOR_MERGE + 1)
        .fetch_one(&self.pool)
        .await?;
        Ok(links <= OWNER_LINKS_FOR_MERGE)
    }
}

/// The columns of a visit record, for queries that join `url_visits v` with `urls u`.
macro_rules! visit_columns {
    () => {
        "SELECT v.id, v.url_id, u.slug, v.visited_at, \
         host(v.client_ip) AS client_ip, v.user_agent, v.referrer, v.referrer_host, \
         v.browser, v.os, v.device, v.is_bot, u.created_by AS url_created_by"
    };
}
const VISIT_COLUMNS: &str = visit_columns!();
const VISIT_SELECT: &str = concat!(
    visit_columns!(),
    " FROM url_visits v JOIN urls u ON u.id = v.url_id WHERE TRUE"
);

/// Up to this many links of one API key, an editor's visit list takes each link's newest
/// visits from the `(url_id, id)` index and merges them; beyond it, the links' visits are
/// dense enough that walking all visits newest first finds a page quickly.
const OWNER_LINKS_FOR_MERGE: i64 = 1_000;

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_status(&self) -> super::PoolStatus {
        super::PoolStatus {
            size: self.pool.size(),
            idle: self.pool.num_idle(),
            max: self.pool.options().get_max_connections(),
        }
    }

    fn max_concurrent_writes(&self) -> usize {
        usize::MAX
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
             VALUES ($1, $2, $6, $3, $4, $5, $5, $7) RETURNING {URL_COLUMNS}"
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
        if urls.is_empty() {
            return Ok(0);
        }
        let slugs: Vec<&str> = urls.iter().map(|u| u.slug.as_str()).collect();
        let targets: Vec<&str> = urls.iter().map(|u| u.target.as_str()).collect();
        let hosts: Vec<String> = urls.iter().map(|u| u.target.host_key()).collect();
        let titles: Vec<Option<&str>> = urls
            .iter()
            .map(|u| u.title.as_ref().map(|t| t.as_str()))
            .collect();
        let crawlable: Vec<bool> = urls.iter().map(|u| u.crawlable).collect();
        let times: Vec<DateTime<Utc>> = urls.iter().map(|u| u.created_at).collect();
        let owners: Vec<Option<i64>> = urls.iter().map(|u| u.created_by).collect();
        let created = sqlx::query(
            "INSERT INTO urls (slug, target, target_host, title, crawlable, created_at, updated_at, \
                 created_by) \
             SELECT t.slug, t.target, t.host, t.title, t.crawlable, t.created_at, t.created_at, \
                 t.created_by \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[], \
                         $6::text[], $7::bigint[]) \
                 WITH ORDINALITY AS t(slug, target, title, crawlable, created_at, host, \
                                      created_by, position) \
             ORDER BY t.position \
             ON CONFLICT (slug) DO NOTHING",
        )
        .bind(&slugs)
        .bind(&targets)
        .bind(&titles)
        .bind(&crawlable)
        .bind(&times)
        .bind(&hosts)
        .bind(&owners)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(created)
    }

    async fn get_url(&self, slug: &Slug) -> Result<UrlRecord, StoreError> {
        let sql = format!("SELECT {URL_COLUMNS} FROM urls WHERE slug = $1");
        let row: UrlRow = sqlx::query_as(&sql)
            .bind(slug.as_str())
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    #[tracing::instrument(skip_all, fields(slug = %slug))]
    async fn update_url(&self, slug: &Slug, patch: UrlPatch) -> Result<UrlRecord, StoreError> {
        let mut query = QueryBuilder::<Postgres>::new("UPDATE urls SET updated_at = ");
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
        let done = sqlx::query("DELETE FROM urls WHERE slug = $1")
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
            " AND created_by = $4"
        } else {
            ""
        };
        let upper = super::prefix_upper_bound(prefix);
        let sql = format!(
            "SELECT {URL_COLUMNS} FROM urls \
             WHERE slug COLLATE \"C\" >= $1 AND slug COLLATE \"C\" < $2{mine} \
             ORDER BY slug COLLATE \"C\" LIMIT $3"
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
            "SELECT {URL_COLUMNS} FROM urls \
             WHERE target_host COLLATE \"C\" >= $1 AND target_host COLLATE \"C\" < $2{mine} \
             ORDER BY target_host COLLATE \"C\", id LIMIT $3"
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
            QueryBuilder::<Postgres>::new(format!("SELECT {URL_COLUMNS} FROM urls WHERE TRUE"));
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
            sqlx::query_as("SELECT id, target FROM urls WHERE slug = $1")
                .bind(slug.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Redirect::from))
    }

    async fn crawlable_slugs(&self, limit: u32) -> Result<Vec<Slug>, StoreError> {
        let slugs: Vec<String> =
            sqlx::query_scalar("SELECT slug FROM urls WHERE crawlable ORDER BY id LIMIT $1")
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
        let mut tx = self.pool.begin().await?;
        // Fast path: every URL still exists, and the foreign key is the only check. A URL
        // deleted since its click fails it; then the batch is written again without its
        // visits, which count nowhere.
        let all: Vec<&NewVisit> = visits.iter().collect();
        let (stored, visit_ids) = match postgres_visits::copy_visits(&mut tx, &all).await {
            Ok(ids) => (all, ids),
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                tx.rollback().await?;
                tx = self.pool.begin().await?;
                let existing = postgres_visits::existing_urls(&mut tx, visits).await?;
                let kept: Vec<&NewVisit> = visits
                    .iter()
                    .filter(|v| existing.contains(&v.url_id))
                    .collect();
                let ids = postgres_visits::copy_visits(&mut tx, &kept).await?;
                (kept, ids)
            }
            Err(other) => return Err(other.into()),
        };
        let rollups = Rollups::of(stored.iter().copied());

        let (ids, counts): (Vec<i64>, Vec<i64>) = rollups.per_url.into_iter().unzip();
        sqlx::query(
            "UPDATE urls SET visit_count = urls.visit_count + d.n \
             FROM UNNEST($1::bigint[], $2::bigint[]) AS d(id, n) WHERE urls.id = d.id",
        )
        .bind(&ids)
        .bind(&counts)
        .execute(&mut *tx)
        .await?;

        let mut rows = RollupColumns::default();
        for ((url_id, day, browser, os, device, referrer_host), tally) in rollups.rows {
            rows.url_ids.push(url_id);
            rows.days.push(day);
            rows.browsers.push(browser);
            rows.oses.push(os);
            rows.devices.push(device);
            rows.referrer_hosts.push(referrer_host);
            rows.visits.push(tally.visits);
            rows.bot_visits.push(tally.bot_visits);
        }
        sqlx::query(
            "INSERT INTO url_daily_rollups \
                 (url_id, day, browser, os, device, referrer_host, visits, bot_visits) \
             SELECT * FROM UNNEST($1::bigint[], $2::date[], $3::text[], $4::text[], $5::text[], \
                                  $6::text[], $7::bigint[], $8::bigint[]) \
             ON CONFLICT (url_id, day, browser, os, device, referrer_host) DO UPDATE SET \
                 visits = url_daily_rollups.visits + EXCLUDED.visits, \
                 bot_visits = url_daily_rollups.bot_visits + EXCLUDED.bot_visits",
        )
        .bind(&rows.url_ids)
        .bind(&rows.days)
        .bind(&rows.browsers)
        .bind(&rows.oses)
        .bind(&rows.devices)
        .bind(&rows.referrer_hosts)
        .bind(&rows.visits)
        .bind(&rows.bot_visits)
        .execute(&mut *tx)
        .await?;
        // The total, once per batch, on this connection's shard (see the visit_totals
        // migration); deletions are counted by their trigger.
        sqlx::query(
            "INSERT INTO visit_totals AS t (shard, visits) VALUES (pg_backend_pid() % 16, $1) \
             ON CONFLICT (shard) DO UPDATE SET visits = t.visits + EXCLUDED.visits",
        )
        .bind(visit_ids.len() as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(visit_ids)
    }

    async fn visits_by_ids(&self, ids: &[i64]) -> Result<Vec<VisitRecord>, StoreError> {
        let ids = &ids[..ids.len().min(super::MAX_VISITS_BY_IDS)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<VisitRow> =
            sqlx::query_as(&format!("{VISIT_SELECT} AND v.id = ANY($1) ORDER BY v.id"))
                .bind(ids)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(VisitRecord::from).collect())
    }

    async fn visit_total(&self, owner: Option<i64>) -> Result<i64, StoreError> {
        let total: i64 =
            match owner {
                None => {
                    sqlx::query_scalar("SELECT COALESCE(SUM(visits), 0)::BIGINT FROM visit_totals")
                        .fetch_one(&self.pool)
                        .await?
                }
                Some(owner) => sqlx::query_scalar(
                    "SELECT COALESCE(SUM(visit_count), 0)::BIGINT FROM urls WHERE created_by = $1",
                )
                .bind(owner)
                .fetch_one(&self.pool)
                .await?,
            };
        Ok(total)
    }

    async fn list_visits(
        &self,
        filter: VisitFilter,
        page: PageRequest,
    ) -> Result<Page<VisitRecord>, StoreError> {
        let merge_owner = match filter.owner {
            Some(owner) if filter.url_id.is_none() && self.owner_links_are_few(owner).await? => {
                Some(owner)
            }
            _ => None,
        };
        let rows: Vec<VisitRow> = match merge_owner {
            Some(owner) => {
                // Each of the editor's links gives at most a page of its newest visits
                // (an index range scan); the page is the newest of those. Neither a walk over
                // every visit nor a sort of all the links' visits.
                let mut query = QueryBuilder::<Postgres>::new(VISIT_COLUMNS);
                query.push(
                    " FROM urls u CROSS JOIN LATERAL (SELECT v.* FROM url_visits v \
                     WHERE v.url_id = u.id",
                );
                let inner = VisitFilter {
                    owner: None,
                    ..filter
                };
                push_visit_page(&mut query, inner, page);
                query.push(") v WHERE u.created_by = ").push_bind(owner);
                query
                    .push(" ORDER BY v.id DESC LIMIT ")
                    .push_bind(i64::from(page.limit) + 1);
                // The planner cannot know how many visits each link has, guesses few, and
                // would read all of them through a bitmap; the index read backwards stops at
                // a page.
                let mut tx = self.pool.begin().await?;
                sqlx::query("SET LOCAL enable_bitmapscan = off")
                    .execute(&mut *tx)
                    .await?;
                let rows = query.build_query_as().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                rows
            }
            None => {
                let mut query = QueryBuilder::<Postgres>::new(VISIT_SELECT);
                push_visit_page(&mut query, filter, page);
                query.build_query_as().fetch_all(&self.pool).await?
            }
        };
        let visits = rows.into_iter().map(VisitRecord::from).collect();
        Ok(Page::from_overfetch(visits, page.limit, |v| v.id))
    }

    async fn url_stats(&self, query: StatsQuery) -> Result<UrlStats, StoreError> {
        let daily: Vec<DailyRow> = sqlx::query_as(stats::DAILY_SQL)
            .bind(query.url_id)
            .bind(query.from)
            .bind(query.to)
            .fetch_all(&self.pool)
            .await?;
        let top: Vec<TopValueRow> = sqlx::query_as(stats::TOP_VALUES_SQL)
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
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
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
        let sql = format!("SELECT {URL_COLUMNS} FROM urls WHERE id > $1 ORDER BY id LIMIT $2");
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
                 (SELECT id FROM url_visits WHERE visited_at < $1 LIMIT $2) \
             RETURNING url_id",
        )
        .bind(cut)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let (ids, counts): (Vec<i64>, Vec<i64>) = count_per_url(&url_ids).into_iter().unzip();
        if !ids.is_empty() {
            sqlx::query(
                "UPDATE urls SET visit_count = GREATEST(urls.visit_count - d.n, 0) \
                 FROM UNNEST($1::bigint[], $2::bigint[]) AS d(id, n) WHERE urls.id = d.id",
            )
            .bind(&ids)
            .bind(&counts)
            .execute(&mut *tx)
            .await?;
        }
        let done = url_ids.len() < limit as usize;
        let rollup_rows = if done {
            sqlx::query("DELETE FROM url_daily_rollups WHERE day < $1")
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
             VALUES ($1, $2, $3, $4, $5) RETURNING {API_KEY_COLUMNS}"
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
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
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
             WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        let row: Option<ApiKeyRow> = sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ApiKeyRecord::try_from).transpose()
    }
}

/// The rollup rows of a batch, column by column, for one `UNNEST` upsert.
#[derive(Default)]
struct RollupColumns {
    url_ids: Vec<i64>,
    days: Vec<NaiveDate>,
    browsers: Vec<String>,
    oses: Vec<String>,
    devices: Vec<String>,
    referrer_hosts: Vec<String>,
    visits: Vec<i64>,
    bot_visits: Vec<i64>,
}
