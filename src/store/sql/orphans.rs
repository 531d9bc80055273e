//! Orphan visits in the store: the writer's batches with their rollup rows, the list, the
//! global statistics (link visits and orphan visits per day, from `daily_visit_totals` and
//! `orphan_daily_rollups`), and pruning. The same SQL on both databases.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::QueryBuilder;

use super::{enqueue_postgres, enqueue_sqlite, Db, SqlStore};
use crate::domain::{OrphanKind, WebhookEvent};
use crate::store::rows::{micros, push_keyset_page, push_visit_times, LocationRow};
use crate::store::{
    GlobalDay, GlobalStats, NewOrphanVisit, OrphanFilter, OrphanVisitRecord, Page, PageRequest,
    PrunedVisits, StoreError,
};

/// Rows per multi-row INSERT of orphan visits (seventeen parameters each, well under both
/// databases' limits).
const ROWS_PER_STATEMENT: usize = 500;

/// A day of `daily_visit_totals`, its shards summed: visits and bot visits.
type DayTotal = (NaiveDate, i64, i64);
/// A row of `orphan_daily_rollups`: day, type, visits and bot visits.
type OrphanDay = (NaiveDate, String, i64, i64);

#[derive(sqlx::FromRow)]
struct OrphanRow {
    id: i64,
    kind: String,
    path: String,
    visited_at: DateTime<Utc>,
    client_ip: Option<String>,
    user_agent: Option<String>,
    referrer: Option<String>,
    referrer_host: Option<String>,
    browser: Option<String>,
    os: Option<String>,
    device: Option<String>,
    is_bot: bool,
    #[sqlx(flatten)]
    location: LocationRow,
}

impl TryFrom<OrphanRow> for OrphanVisitRecord {
    type Error = StoreError;

    fn try_from(row: OrphanRow) -> Result<Self, StoreError> {
        let kind = row.kind.parse().map_err(|why: String| {
            StoreError::Other(anyhow::anyhow!("orphan visit {}: {why}", row.id))
        })?;
        Ok(Self {
            id: row.id,
            kind,
            path: row.path,
            visited_at: micros(row.visited_at),
            client_ip: row.client_ip,
            user_agent: row.user_agent,
            referrer: row.referrer,
            referrer_host: row.referrer_host,
            browser: row.browser,
            os: row.os,
            device: row.device,
            is_bot: row.is_bot,
            location: row.location.into(),
        })
    }
}

/// What a batch adds to `orphan_daily_rollups`: (visits, bot visits) per day and type.
fn tally(visits: &[NewOrphanVisit]) -> BTreeMap<(NaiveDate, OrphanKind), (i64, i64)> {
    let mut rows = BTreeMap::new();
    for visit in visits {
        let entry: &mut (i64, i64) = rows
            .entry((visit.visited_at.date_naive(), visit.kind))
            .or_default();
        entry.0 += 1;
        entry.1 += i64::from(visit.is_bot);
    }
    rows
}

impl SqlStore {
    /// Writes a batch of orphan visits with their rollups in one transaction. Live ones
    /// (`import` `None`) queue their webhook deliveries; imported ones (`Some((source,
    /// through))`) queue none and move the source's orphan mark instead.
    pub(super) async fn write_orphan_visits(
        &self,
        visits: &[NewOrphanVisit],
        import: Option<(&str, &str)>,
    ) -> Result<Vec<i64>, StoreError> {
        if visits.is_empty() && import.is_none() {
            return Ok(Vec::new());
        }
        // PostgreSQL's `inet` column takes the address as text through a cast; SQLite keeps text.
        let (ip_open, ip_close) = match self.db {
            Db::Postgres(_) => ("CAST(", " AS inet)"),
            Db::Sqlite(_) => ("", ""),
        };
        let queued = on_pool_queueing!(self, pool, enqueue => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let mut ids = Vec::with_capacity(visits.len());
            for chunk in visits.chunks(ROWS_PER_STATEMENT) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO orphan_visits (visited_at, type, path, client_ip, user_agent, \
                     referrer, referrer_host, browser, os, device, is_bot, country, region, city, \
                     latitude, longitude, timezone) ",
                );
                insert.push_values(chunk, |mut row, visit| {
                    row.push_bind(visit.visited_at)
                        .push_bind(visit.kind.as_str())
                        .push_bind(visit.path.as_str())
                        .push(ip_open)
                        .push_bind_unseparated(visit.client_ip.map(|ip| ip.to_string()))
                        .push_unseparated(ip_close)
                        .push_bind(visit.user_agent.as_deref())
                        .push_bind(visit.referrer.as_deref())
                        .push_bind(visit.referrer_host.as_deref())
                        .push_bind(visit.browser.as_deref())
                        .push_bind(visit.os.as_deref())
                        .push_bind(visit.device.as_deref())
                        .push_bind(visit.is_bot)
                        .push_bind(visit.location.country.map(String::from))
                        .push_bind(visit.location.region.as_deref())
                        .push_bind(visit.location.city.as_deref())
                        .push_bind(visit.location.latitude)
                        .push_bind(visit.location.longitude)
                        .push_bind(visit.location.timezone.as_deref());
                });
                insert.push(" RETURNING id");
                let mut chunk_ids: Vec<i64> =
                    insert.build_query_scalar().fetch_all(&mut *tx).await?;
                chunk_ids.sort_unstable();
                ids.extend(chunk_ids);
            }
            for ((day, kind), (count, bots)) in tally(visits) {
                sqlx::query(
                    "INSERT INTO orphan_daily_rollups (day, type, visits, bot_visits) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (day, type) DO UPDATE SET \
                         visits = orphan_daily_rollups.visits + excluded.visits, \
                         bot_visits = orphan_daily_rollups.bot_visits + excluded.bot_visits",
                )
                .bind(day)
                .bind(kind.as_str())
                .bind(count)
                .bind(bots)
                .execute(&mut *tx)
                .await?;
            }
            if let Some((source, through)) = import {
                sqlx::query(
                    "INSERT INTO import_orphan_marks (source, visits_through) VALUES ($1, $2) \
                     ON CONFLICT (source) DO UPDATE SET visits_through = excluded.visits_through",
                )
                .bind(source)
                .bind(through)
                .execute(&mut *tx)
                .await?;
            }
            // The batch for the webhooks subscribed to orphan visits: one probe when none is.
            // History is not news: imported visits queue none.
            let subscribed: bool = import.is_none()
                && sqlx::query_scalar(crate::store::webhooks::SUBSCRIBED_SQL)
                    .bind(WebhookEvent::OrphanVisit.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
            let queued = if subscribed {
                let payload = orphan_payload(visits, &ids)?;
                enqueue(&mut tx, WebhookEvent::OrphanVisit, &payload).await?
            } else {
                0
            };
            tx.commit().await?;
            (ids, queued)
        });
        self.queued(queued.1);
        Ok(queued.0)
    }

    pub(super) async fn read_import_orphan_mark(
        &self,
        source: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT visits_through FROM import_orphan_marks WHERE source = $1",
            )
            .bind(source)
            .fetch_optional(pool)
            .await?
        }))
    }

    pub(super) async fn orphan_page(
        &self,
        filter: OrphanFilter,
        page: PageRequest,
    ) -> Result<Page<OrphanVisitRecord>, StoreError> {
        let columns = format!(
            "SELECT v.id, v.type AS kind, v.path, v.visited_at, {} AS client_ip, v.user_agent, \
             v.referrer, v.referrer_host, v.browser, v.os, v.device, v.is_bot, v.country, \
             v.region, v.city, v.latitude, v.longitude, v.timezone \
             FROM orphan_visits v WHERE TRUE",
            self.dialect().client_ip
        );
        let rows: Vec<OrphanRow> = on_pool!(self, pool => {
            let mut query = QueryBuilder::new(&columns);
            push_orphan_filter(&mut query, filter);
            push_keyset_page(&mut query, page);
            query.build_query_as().fetch_all(pool).await?
        });
        let visits = rows
            .into_iter()
            .map(OrphanVisitRecord::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(visits, page.limit, |v| v.id))
    }

    pub(super) async fn read_global_stats(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        include_bots: bool,
    ) -> Result<GlobalStats, StoreError> {
        let (links, orphans): (Vec<DayTotal>, Vec<OrphanDay>) = on_pool!(self, pool => {
            let links = sqlx::query_as(
                "SELECT day, CAST(SUM(visits) AS BIGINT), CAST(SUM(bot_visits) AS BIGINT) \
                 FROM daily_visit_totals WHERE day >= $1 AND day <= $2 GROUP BY day",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            let orphans = sqlx::query_as(
                "SELECT day, type, visits, bot_visits FROM orphan_daily_rollups \
                 WHERE day >= $1 AND day <= $2",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            (links, orphans)
        });
        let counted = |visits: i64, bots: i64| if include_bots { visits } else { visits - bots };
        let mut stats = GlobalStats {
            orphan_types: OrphanKind::ALL.iter().map(|kind| (*kind, 0)).collect(),
            ..GlobalStats::default()
        };
        let mut days: BTreeMap<NaiveDate, GlobalDay> = BTreeMap::new();
        let mut day = from;
        while day <= to {
            days.insert(
                day,
                GlobalDay {
                    day,
                    visits: 0,
                    orphan_visits: 0,
                },
            );
            day = match day.checked_add_days(Days::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
        for (day, visits, bots) in links {
            let n = counted(visits, bots);
            stats.visits += n;
            stats.bot_visits += bots;
            if let Some(entry) = days.get_mut(&day) {
                entry.visits += n;
            }
        }
        for (day, kind, visits, bots) in orphans {
            let n = counted(visits, bots);
            stats.orphan_visits += n;
            stats.orphan_bot_visits += bots;
            if let Some(entry) = days.get_mut(&day) {
                entry.orphan_visits += n;
            }
            if let Some(slot) = stats
                .orphan_types
                .iter_mut()
                .find(|(k, _)| k.as_str() == kind)
            {
                slot.1 += n;
            }
        }
        stats.days = days.into_values().collect();
        Ok(stats)
    }

    pub(super) async fn orphan_total(&self) -> Result<i64, StoreError> {
        let total: Option<i64> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT CAST(SUM(visits) AS BIGINT) FROM orphan_daily_rollups")
                .fetch_one(pool)
                .await?
        });
        Ok(total.unwrap_or(0))
    }

    pub(super) async fn prune_orphans(
        &self,
        before: NaiveDate,
        limit: u32,
    ) -> Result<PrunedVisits, StoreError> {
        let limit = limit.max(1);
        let cut = before.and_time(chrono::NaiveTime::MIN).and_utc();
        // A cut after today (deleting them all) races the writer of today's orphans. On
        // PostgreSQL their writers wait for this transaction before touching the rollups, so
        // a batch is deleted whole (committed before) or kept whole (rows and rollups after);
        // on SQLite a write holds the database already.
        let hold_writers = before > Utc::now().date_naive() && matches!(self.db, Db::Postgres(_));
        on_pool!(self, pool => {
            let mut tx = crate::store::pool::begin(pool).await?;
            if hold_writers {
                sqlx::query("LOCK TABLE orphan_daily_rollups IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let deleted = sqlx::query(
                "DELETE FROM orphan_visits WHERE id IN \
                     (SELECT id FROM orphan_visits WHERE visited_at < $1 LIMIT $2)",
            )
            .bind(cut)
            .bind(i64::from(limit))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let done = deleted < u64::from(limit);
            let rollup_rows = if done {
                sqlx::query("DELETE FROM orphan_daily_rollups WHERE day < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                0
            };
            tx.commit().await?;
            Ok(PrunedVisits {
                visits: deleted,
                urls: 0,
                rollup_rows,
                done,
            })
        })
    }
}

/// An `orphan_visit` event's data: the batch's records, rendered by the deliverer as
/// `GET /api/visits/orphan` shows them.
fn orphan_payload(visits: &[NewOrphanVisit], ids: &[i64]) -> Result<String, StoreError> {
    let records: Vec<OrphanVisitRecord> = ids
        .iter()
        .zip(visits)
        .map(|(id, visit)| OrphanVisitRecord::of(*id, visit))
        .collect();
    serde_json::to_string(&records)
        .map_err(|e| StoreError::Other(anyhow::anyhow!("cannot encode an orphan visit event: {e}")))
}

/// Appends an orphan list's filters to a query that ends in a `WHERE` clause over
/// `orphan_visits v`.
pub(super) fn push_orphan_filter<'q, DB>(query: &mut QueryBuilder<'q, DB>, filter: OrphanFilter)
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if !filter.kinds.is_empty() {
        query.push(" AND v.type IN (");
        let mut kinds = query.separated(", ");
        for kind in filter.kinds {
            kinds.push_bind(kind.as_str());
        }
        query.push(")");
    }
    push_visit_times(query, filter.from, filter.until, filter.is_bot);
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use crate::domain::Location;

    use super::*;

    fn orphan(kind: OrphanKind, day: u32, is_bot: bool) -> NewOrphanVisit {
        NewOrphanVisit {
            kind,
            path: "/x".into(),
            visited_at: Utc.with_ymd_and_hms(2026, 12, day, 8, 0, 0).unwrap(),
            client_ip: None,
            user_agent: None,
            referrer: None,
            referrer_host: None,
            browser: None,
            os: None,
            device: None,
            is_bot,
            location: Location::default(),
        }
    }

    #[test]
    fn a_batch_tallies_by_day_and_type() {
        let rows = tally(&[
            orphan(OrphanKind::InvalidSlug, 1, false),
            orphan(OrphanKind::InvalidSlug, 1, true),
            orphan(OrphanKind::BaseUrl, 1, false),
            orphan(OrphanKind::InvalidSlug, 2, false),
        ]);
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[&(day(1), OrphanKind::InvalidSlug)], (2, 1));
        assert_eq!(rows[&(day(1), OrphanKind::BaseUrl)], (1, 0));
        assert_eq!(rows[&(day(2), OrphanKind::InvalidSlug)], (1, 0));
    }
}
