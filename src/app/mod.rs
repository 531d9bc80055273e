//! The application layer: every change kurz makes to its data goes through here, whoever asks
//! (the API, the management commands, an import). A rule about a write — how a target and a
//! slug are parsed, how often a generated slug is retried, which caches forget a link and how
//! the other running instances hear of it — is written once, in these services.
//!
//! Each service takes plain values from its caller and answers records or an [`AppError`];
//! the HTTP handlers turn that into responses, the commands into lines of text.

mod api_keys;
mod error;
mod links;
pub mod passwords;
mod tags;
mod visits;
mod webhooks;

use async_trait::async_trait;

pub use api_keys::{ApiKeys, CreatedKey};
pub use error::AppError;
pub use links::{ImportOutcome, LinkEdit, LinkInput, Links, PreparedLink, UntitledLink};
pub use tags::Tagging;
pub use visits::Visits;
pub use webhooks::{CreatedWebhook, WebhookEdit, WebhookInput, Webhooks};

use crate::domain::Slug;

/// Told of links after their change is committed (with its change log row): forgets them in
/// this process's redirect cache and tells the other running instances at once. The change
/// log makes sure of it anyway — servers read it — so a notice that is lost only costs time.
#[async_trait]
pub trait ChangeNotice: Send + Sync {
    async fn links_changed(&self, slugs: &[Slug]);
}
