//! Link visits in the store, beyond the writers' batches (`postgres.rs`, `sqlite_writer.rs`):
//! reads by id, the stored total, the keyset-paginated list, a link's or a tag's statistics
//! from the rollups, pruning with the counters it lowers, and deleting one link's visits. The
//! same SQL on both databases but where noted.

use chrono::{NaiveDate, Utc};
use sqlx::QueryBuilder;

use super::{tags, Db, SqlStore, COUNTS_PER_STATEMENT, LOG_CHANGE};
use crate::domain::Slug;
use crate::store::maintenance::count_per_url;
use crate::store::postgres;
use crate::store::rows::{push_visit_page, VisitRow};
use crate::store::stats::{self, DailyRow, PlaceRow, RuleRow, TopValueRow};
use crate::store::{
    Page, PageRequest, PrunedVisits, StatsOf, StatsQuery, StoreError, UrlStats, VisitFilter,
    VisitRecord, MAX_VISITS_BY_IDS,
};

impl SqlStore {
    pub(super) async fn read_visits_by_ids(
        &self,
        ids: &[i64],
    ) -> Result<Vec<VisitRecord>, StoreError> {
        let ids = &ids[..ids.len().min(MAX_VISITS_BY_IDS)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<VisitRow> = match &self.db {
            Db::Postgres(pg) => {
                let select = self.visit_select();
                let mut query = QueryBuilder::new(&select);
                query.push(" AND v.id = ANY(");
                query.push_bind(ids);
                query.push(") ORDER BY v.id");
                query.build_query_as().fetch_all(&pg.pool).await?
            }
            // sqlx hands SQLite rows over one by one: a bulk read goes through the reader.
            Db::Sqlite(lite) => lite.reader.visits_by_ids(ids).await?,
        };
        Ok(rows.into_iter().map(VisitRecord::from).collect())
    }

    pub(super) async fn stored_visit_total(&self, owner: Option<i64>) -> Result<i64, StoreError> {
        let total: i64 = on_pool!(self, pool => match owner {
            None => {
                sqlx::query_scalar("SELECT CAST(COALESCE(SUM(visits), 0) AS BIGINT) FROM visit_totals")
                    .fetch_one(pool)
                    .await?
            }
            Some(owner) => {
                sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(visit_count), 0) AS BIGINT) FROM urls \
                     WHERE created_by = $1",
                )
                .bind(owner)
                .fetch_one(pool)
                .await?
            }
        });
        Ok(total)
    }

    pub(super) async fn visit_page(
        &self,
        filter: VisitFilter,
        page: PageRequest,
    ) -> Result<Page<VisitRecord>, StoreError> {
        let merged = match &self.db {
            Db::Postgres(pg) => {
                postgres::list_owner_visits(&pg.pool, &self.visit_columns(), filter, page).await?
            }
            Db::Sqlite(_) => None,
        };
        let rows: Vec<VisitRow> = match merged {
            Some(rows) => rows,
            None => {
                let select = self.visit_select();
                on_pool!(self, pool => {
                    let mut query = QueryBuilder::new(&select);
                    push_visit_page(&mut query, filter, page);
                    query.build_query_as().fetch_all(pool).await?
                })
            }
        };
        let visits = rows.into_iter().map(VisitRecord::from).collect();
        Ok(Page::from_overfetch(visits, page.limit, |v| v.id))
    }

    pub(super) async fn stats_of(&self, query: StatsQuery) -> Result<UrlStats, StoreError> {
        let (daily_sql, top_sql) = (stats::daily_sql(query.of), stats::top_values_sql(query.of));
        let (id, owner) = stats::subject(query.of);
        let places_sql = stats::places_sql(query.of);
        let (daily, top, rules, places): (
            Vec<DailyRow>,
            Vec<TopValueRow>,
            Vec<RuleRow>,
            Vec<PlaceRow>,
        ) = on_pool!(self, pool => {
            let mut daily = sqlx::query_as(&daily_sql).bind(id).bind(query.from).bind(query.to);
            let mut top = sqlx::query_as(&top_sql)
                .bind(id)
                .bind(query.from)
                .bind(query.to)
                .bind(i64::from(!query.include_bots))
                .bind(i64::from(query.top));
            let mut places = sqlx::query_as(&places_sql)
                .bind(id)
                .bind(query.from)
                .bind(query.to)
                .bind(i64::from(!query.include_bots))
                .bind(i64::from(query.top));
            if let Some(owner) = owner {
                daily = daily.bind(owner);
                top = top.bind(owner);
                places = places.bind(owner);
            }
            let daily: Vec<DailyRow> = daily.fetch_all(pool).await?;
            let top: Vec<TopValueRow> = top.fetch_all(pool).await?;
            // A rule is one link's: a tag's statistics have no rule breakdown.
            let rules: Vec<RuleRow> = match query.of {
                StatsOf::Url(url_id) => {
                    sqlx::query_as(stats::RULES_SQL)
                        .bind(url_id)
                        .bind(query.from)
                        .bind(query.to)
                        .bind(i64::from(!query.include_bots))
                        .fetch_all(pool)
                        .await?
                }
                StatsOf::Tag { .. } => Vec::new(),
            };
            let places: Vec<PlaceRow> = places.fetch_all(pool).await?;
            (daily, top, rules, places)
        });
        Ok(stats::assemble(&query, daily, top, rules, places))
    }

    pub(super) async fn prune_old_visits(
        &self,
        before: NaiveDate,
        limit: u32,
    ) -> Result<PrunedVisits, StoreError> {
        let limit = limit.max(1);
        let cut = before.and_time(chrono::NaiveTime::MIN).and_utc();
        // `(VALUES ...)` names its columns `column1`, `column2` on both databases.
        let lower_counts = format!(
            "UPDATE urls SET visit_count = {greatest}(urls.visit_count - d.column2, 0), \
             bot_visits = {greatest}(urls.bot_visits - d.column3, 0) FROM (",
            greatest = self.dialect().greatest
        );
        on_pool!(self, pool => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let deleted: Vec<(i64, bool)> = sqlx::query_as(
                "DELETE FROM url_visits WHERE id IN \
                     (SELECT id FROM url_visits WHERE visited_at < $1 LIMIT $2) \
                 RETURNING url_id, is_bot",
            )
            .bind(cut)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            let counts: Vec<(i64, (i64, i64))> = count_per_url(&deleted).into_iter().collect();
            for chunk in counts.chunks(COUNTS_PER_STATEMENT) {
                let mut query = QueryBuilder::new(&lower_counts);
                query.push_values(chunk, |mut row, (id, (visits, bots))| {
                    row.push_bind(*id).push_bind(*visits).push_bind(*bots);
                });
                query.push(") AS d WHERE urls.id = d.column1");
                query.build().execute(&mut *tx).await?;
                // Their tags' visit counters drop by as many.
                let mut tagged = QueryBuilder::new("SELECT url_id, tag_id FROM url_tags WHERE url_id IN (");
                let mut list = tagged.separated(", ");
                for (id, _) in chunk {
                    list.push_bind(*id);
                }
                tagged.push(")");
                let pairs: Vec<(i64, i64)> = tagged.build_query_as().fetch_all(&mut *tx).await?;
                let lost: std::collections::HashMap<i64, (i64, i64)> = chunk.iter().copied().collect();
                let mut deltas = tags::TagDeltas::new();
                for (url_id, tag_id) in pairs {
                    let (visits, bots) = lost.get(&url_id).copied().unwrap_or_default();
                    let delta = deltas.entry(tag_id).or_insert((0, 0, 0));
                    delta.1 -= visits;
                    delta.2 -= bots;
                }
                adjust_tags!(self, tx, &deltas);
            }
            let done = deleted.len() < limit as usize;
            let rollup_rows = if done {
                sqlx::query("DELETE FROM url_geo_rollups WHERE day < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                // The rollups' delete trigger takes their visits off `daily_visit_totals`;
                // the emptied days go too.
                sqlx::query("DELETE FROM url_rule_rollups WHERE day < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                let rows = sqlx::query("DELETE FROM url_daily_rollups WHERE day < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("DELETE FROM daily_visit_totals WHERE day < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                rows
            } else {
                0
            };
            tx.commit().await?;
            Ok(PrunedVisits {
                visits: deleted.len() as u64,
                urls: counts.len() as u64,
                rollup_rows,
                done,
            })
        })
    }

    /// Deletes every visit of the link `slug` and everything that counts them, in one
    /// transaction: its visit rows (their delete trigger lowers `visit_totals`), its rows of
    /// the three rollups (the daily one's trigger lowers `daily_visit_totals`), its own
    /// counters, its tags' `visits` and `bot_visits`, and what `visit_totals` holds of its
    /// visits known only as counts (imported without rows). A change log row makes every
    /// server forget the link's cap state. How many visit rows went.
    ///
    /// The link's row is held first, in the strongest mode (as `delete_url` does, for the same
    /// deadlock): a visit batch that wrote the link's visits before finishes first, and is
    /// deleted whole; one that comes after waits, and counts on top of the zeros.
    pub(super) async fn delete_visits_of(&self, slug: &Slug) -> Result<u64, StoreError> {
        let (hold, uncounted) = match self.db {
            Db::Postgres(_) => (
                "SELECT id, visit_count, bot_visits FROM urls WHERE slug = $1 FOR UPDATE",
                "INSERT INTO visit_totals AS t (shard, visits) VALUES (pg_backend_pid() % 16, $1) \
                 ON CONFLICT (shard) DO UPDATE SET visits = t.visits + EXCLUDED.visits",
            ),
            // A write takes the database: the no-op UPDATE holds it from the start.
            Db::Sqlite(_) => (
                "UPDATE urls SET updated_at = updated_at WHERE slug = $1 \
                 RETURNING id, visit_count, bot_visits",
                "UPDATE visit_totals SET visits = visits + $1 WHERE shard = 0",
            ),
        };
        on_pool!(self, pool => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let found: Option<(i64, i64, i64)> = sqlx::query_as(hold)
                .bind(slug.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some((id, visits, bots)) = found else {
                return Err(StoreError::NotFound);
            };
            let deleted = sqlx::query("DELETE FROM url_visits WHERE url_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for rollup in ["url_geo_rollups", "url_rule_rollups", "url_daily_rollups"] {
                sqlx::query(&format!("DELETE FROM {rollup} WHERE url_id = $1"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE urls SET visit_count = 0, human_visits = 0, bot_visits = 0 WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let counted_only = visits - i64::try_from(deleted).unwrap_or(i64::MAX);
            if counted_only > 0 {
                sqlx::query(uncounted)
                    .bind(-counted_only)
                    .execute(&mut *tx)
                    .await?;
            }
            let tag_ids: Vec<i64> = sqlx::query_scalar("SELECT tag_id FROM url_tags WHERE url_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            if visits != 0 || bots != 0 {
                let deltas: tags::TagDeltas =
                    tag_ids.into_iter().map(|tag| (tag, (0, -visits, -bots))).collect();
                adjust_tags!(self, tx, &deltas);
            }
            log_change!(self, tx, slug.as_str());
            tx.commit().await?;
            Ok(deleted)
        })
    }
}
