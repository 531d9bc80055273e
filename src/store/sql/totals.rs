//! How many links and tags exist, and how many links each API key created: the counters of
//! `entity_totals` and `api_keys.links`, which triggers keep exact (see the compat counters
//! migration), read in O(1) instead of a count over the tables; and how many visits, from the
//! counters the visit writer keeps.

use super::SqlStore;
use crate::store::{StoreError, VisitTotals};

impl SqlStore {
    /// All links (`owner` None): the sum of `entity_totals`' shards; or the links one API key
    /// created: its `links` (0 for an unknown key).
    pub(super) async fn count_links(&self, owner: Option<i64>) -> Result<i64, StoreError> {
        let total: Option<i64> = on_pool!(self, pool => match owner {
            None => {
                sqlx::query_scalar("SELECT CAST(COALESCE(SUM(links), 0) AS BIGINT) FROM entity_totals")
                    .fetch_one(pool)
                    .await?
            }
            Some(owner) => {
                sqlx::query_scalar("SELECT links FROM api_keys WHERE id = $1")
                    .bind(owner)
                    .fetch_optional(pool)
                    .await?
            }
        });
        Ok(total.unwrap_or(0))
    }

    /// All tags: the sum of `entity_totals`' shards.
    pub(super) async fn count_tags(&self) -> Result<i64, StoreError> {
        let total: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(tags), 0) AS BIGINT) FROM entity_totals")
                .fetch_one(pool)
                .await?
        });
        Ok(total)
    }

    /// Stored visits from the counters: all links' (`visit_totals`, the bots summed from
    /// `daily_visit_totals`) and the orphans' (`orphan_daily_rollups`), rows per shard and
    /// day; or one API key's links' own counters.
    pub(super) async fn count_visits(&self, owner: Option<i64>) -> Result<VisitTotals, StoreError> {
        let sum = |sql: &str| format!("CAST(COALESCE(({sql}), 0) AS BIGINT)");
        let totals: (i64, i64, i64, i64) = on_pool!(self, pool => match owner {
            None => {
                let sql = format!(
                    "SELECT {}, {}, {}, {}",
                    sum("SELECT SUM(visits) FROM visit_totals"),
                    sum("SELECT SUM(bot_visits) FROM daily_visit_totals"),
                    sum("SELECT SUM(visits) FROM orphan_daily_rollups"),
                    sum("SELECT SUM(bot_visits) FROM orphan_daily_rollups"),
                );
                sqlx::query_as(&sql).fetch_one(pool).await?
            }
            Some(owner) => {
                sqlx::query_as(
                    "SELECT CAST(COALESCE(SUM(visit_count), 0) AS BIGINT), \
                         CAST(COALESCE(SUM(bot_visits), 0) AS BIGINT), \
                         CAST(0 AS BIGINT), CAST(0 AS BIGINT) \
                     FROM urls WHERE created_by = $1",
                )
                .bind(owner)
                .fetch_one(pool)
                .await?
            }
        });
        let (visits, bot_visits, orphan_visits, orphan_bot_visits) = totals;
        Ok(VisitTotals {
            visits,
            bot_visits,
            orphan_visits,
            orphan_bot_visits,
        })
    }
}
