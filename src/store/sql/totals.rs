//! How many links and tags exist, and how many links each API key created: the counters of
//! `entity_totals` and `api_keys.links`, which triggers keep exact (see the compat counters
//! migration), read in O(1) instead of a count over the tables.

use super::SqlStore;
use crate::store::StoreError;

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
}
