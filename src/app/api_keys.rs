//! API keys: made here, stored as a hash, revoked. Keys are looked up per request (a unique
//! index), so a revocation counts on every instance at once.

use std::sync::Arc;

use chrono::Utc;

use super::AppError;
use crate::domain::{ApiKey, Invalid, Role};
use crate::store::{ApiKeyRecord, NewApiKey, Store, StoreError};

const MAX_NAME_CHARS: usize = 100;

/// A key just made: the only time the key itself exists outside its holder's hands.
pub struct CreatedKey {
    pub key: ApiKey,
    pub record: ApiKeyRecord,
}

pub struct ApiKeys {
    store: Arc<dyn Store>,
}

impl ApiKeys {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Makes a key with this role and name (at most 100 characters, no control characters).
    pub async fn create(&self, role: Role, name: &str) -> Result<CreatedKey, AppError> {
        let name = check_name(name)?;
        let key = ApiKey::generate();
        let record = self
            .store
            .create_api_key(NewApiKey {
                name,
                role,
                prefix: key.display_prefix(),
                key_hash: key.hash(),
                created_at: Utc::now(),
            })
            .await?;
        Ok(CreatedKey { key, record })
    }

    pub async fn list(&self) -> Result<Vec<ApiKeyRecord>, AppError> {
        Ok(self.store.list_api_keys().await?)
    }

    /// Revokes a key from now on.
    pub async fn revoke(&self, id: i64) -> Result<ApiKeyRecord, AppError> {
        self.store.revoke_api_key(id).await.map_err(|e| match e {
            StoreError::NotFound => AppError::NoSuchKey(id),
            other => other.into(),
        })
    }
}

fn check_name(name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Invalid::new(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new("name", "must not contain control characters"));
    }
    Ok(name.to_owned())
}
