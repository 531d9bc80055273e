//! Webhook endpoints: registered, changed and removed by admins. A URL passes the target
//! policy here (and the deliverer checks its resolved addresses again at each delivery); a
//! secret kurz generates is answered once, at creation.

use std::sync::Arc;

use super::AppError;
use crate::domain::{Invalid, TargetPolicy, WebhookEvent, WebhookSecret};
use crate::store::{
    AttemptRecord, NewWebhook, Page, PageRequest, Store, StoreError, WebhookPatch, WebhookRecord,
};

/// An endpoint as a caller asks for it, in plain values.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: String,
    pub events: Vec<String>,
    /// `None`: kurz generates one and answers it once.
    pub secret: Option<String>,
    /// The API key registering it.
    pub created_by: Option<i64>,
}

/// What a change sets; `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct WebhookEdit {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
}

/// An endpoint just registered, with the secret kurz generated for it (the only time it is
/// shown); `None` when the caller gave one.
pub struct CreatedWebhook {
    pub record: WebhookRecord,
    pub generated_secret: Option<WebhookSecret>,
}

pub struct Webhooks {
    store: Arc<dyn Store>,
    targets: Arc<TargetPolicy>,
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>, targets: Arc<TargetPolicy>) -> Self {
        Self { store, targets }
    }

    pub async fn create(&self, input: WebhookInput) -> Result<CreatedWebhook, AppError> {
        let url = self.checked_url(&input.url)?;
        let events = WebhookEvent::parse_list(&input.events)?;
        let (secret, generated) = match &input.secret {
            Some(secret) => (WebhookSecret::parse(secret)?, None),
            None => {
                let secret = WebhookSecret::generate();
                (secret.clone(), Some(secret))
            }
        };
        let record = self
            .store
            .create_webhook(NewWebhook {
                url,
                secret,
                events,
                created_by: input.created_by,
            })
            .await?;
        Ok(CreatedWebhook {
            record,
            generated_secret: generated,
        })
    }

    pub async fn list(&self) -> Result<Vec<WebhookRecord>, AppError> {
        Ok(self.store.list_webhooks().await?)
    }

    pub async fn get(&self, id: i64) -> Result<WebhookRecord, AppError> {
        self.store
            .get_webhook(id)
            .await
            .map_err(|e| not_found(id, e))
    }

    pub async fn update(&self, id: i64, edit: WebhookEdit) -> Result<WebhookRecord, AppError> {
        let patch = WebhookPatch {
            url: edit
                .url
                .as_deref()
                .map(|url| self.checked_url(url))
                .transpose()?,
            events: edit
                .events
                .as_deref()
                .map(WebhookEvent::parse_list)
                .transpose()?,
            secret: edit
                .secret
                .as_deref()
                .map(WebhookSecret::parse)
                .transpose()?,
        };
        self.store
            .update_webhook(id, patch)
            .await
            .map_err(|e| not_found(id, e))
    }

    pub async fn delete(&self, id: i64) -> Result<(), AppError> {
        self.store
            .delete_webhook(id)
            .await
            .map_err(|e| not_found(id, e))
    }

    /// The endpoint's attempts, newest first.
    pub async fn attempts(
        &self,
        id: i64,
        page: PageRequest,
    ) -> Result<Page<AttemptRecord>, AppError> {
        self.get(id).await?;
        Ok(self.store.list_webhook_attempts(id, page).await?)
    }

    /// The URL by the target policy (scheme, host, no private or local host unless
    /// `target.allow_private`); its resolved addresses are checked at each delivery.
    fn checked_url(&self, url: &str) -> Result<String, Invalid> {
        Ok(self.targets.parse(url)?.as_str().to_owned())
    }
}

fn not_found(id: i64, error: StoreError) -> AppError {
    match error {
        StoreError::NotFound => AppError::NoSuchWebhook(id),
        other => other.into(),
    }
}
