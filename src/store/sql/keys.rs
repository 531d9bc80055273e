//! API keys in the store: created with their hash (never the key), listed, revoked, and found
//! by hash when a request presents one.

use chrono::Utc;

use super::SqlStore;
use crate::store::rows::{ApiKeyRow, API_KEY_COLUMNS};
use crate::store::{ApiKeyRecord, NewApiKey, StoreError};

impl SqlStore {
    pub(super) async fn insert_api_key(&self, new: NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        let sql = format!(
            "INSERT INTO api_keys (name, role, prefix, key_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {API_KEY_COLUMNS}"
        );
        let row: ApiKeyRow = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(&new.name)
                .bind(new.role.as_str())
                .bind(&new.prefix)
                .bind(&new.key_hash)
                .bind(new.created_at)
                .fetch_one(pool)
                .await?
        });
        row.try_into()
    }

    pub(super) async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY id");
        let rows: Vec<ApiKeyRow> =
            on_pool!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        rows.into_iter().map(ApiKeyRecord::try_from).collect()
    }

    pub(super) async fn revoke_key(&self, id: i64) -> Result<ApiKeyRecord, StoreError> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             RETURNING {API_KEY_COLUMNS}"
        );
        let row: ApiKeyRow = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(Utc::now())
                .bind(id)
                .fetch_one(pool)
                .await?
        });
        row.try_into()
    }

    pub(super) async fn active_api_key(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        let row: Option<ApiKeyRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(key_hash).fetch_optional(pool).await?
        });
        row.map(ApiKeyRecord::try_from).transpose()
    }
}
