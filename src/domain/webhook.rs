//! What a webhook endpoint subscribes to, and its signing secret.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;

/// An event a webhook endpoint may subscribe to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum WebhookEvent {
    /// A batch of visits, delivered as an array (one request per flush and endpoint).
    #[serde(rename = "visit")]
    Visit,
    #[serde(rename = "link.created")]
    LinkCreated,
    /// A link changed, including a fetched title arriving.
    #[serde(rename = "link.updated")]
    LinkUpdated,
    #[serde(rename = "link.deleted")]
    LinkDeleted,
    /// Visits that reached no link.
    #[serde(rename = "orphan_visit")]
    OrphanVisit,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 5] = [
        Self::Visit,
        Self::LinkCreated,
        Self::LinkUpdated,
        Self::LinkDeleted,
        Self::OrphanVisit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visit => "visit",
            Self::LinkCreated => "link.created",
            Self::LinkUpdated => "link.updated",
            Self::LinkDeleted => "link.deleted",
            Self::OrphanVisit => "orphan_visit",
        }
    }

    /// The event named `name`; `None` for no event kurz knows.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }

    /// A list of event names as a client gives it: at least one, each known, without
    /// repeats (sorted).
    pub fn parse_list(names: &[String]) -> Result<Vec<Self>, Invalid> {
        if names.is_empty() {
            return Err(Invalid::new("events", "name at least one event"));
        }
        let mut events = Vec::with_capacity(names.len());
        for name in names {
            let event = Self::from_name(name).ok_or_else(|| {
                Invalid::new(
                    "events",
                    format!(
                        "unknown event `{name}` (known: {})",
                        Self::ALL.map(Self::as_str).join(", ")
                    ),
                )
            })?;
            events.push(event);
        }
        events.sort_unstable();
        events.dedup();
        Ok(events)
    }
}

impl std::fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most characters of a secret given by a client.
pub const MAX_SECRET_CHARS: usize = 256;
/// The fewest characters of a secret given by a client.
pub const MIN_SECRET_CHARS: usize = 16;

/// The secret deliveries are signed with (HMAC-SHA256). Stored as it is, since it must sign.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// A secret a client gave: 16 to 256 visible ASCII characters.
    pub fn parse(secret: &str) -> Result<Self, Invalid> {
        let chars = secret.chars().count();
        if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&chars) {
            return Err(Invalid::new(
                "secret",
                format!("must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"),
            ));
        }
        if !secret.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Invalid::new(
                "secret",
                "only visible ASCII characters (no spaces)",
            ));
        }
        Ok(Self(secret.to_owned()))
    }

    /// A new random secret: `whsec_` and 32 random characters.
    pub fn generate() -> Self {
        Self(format!("whsec_{}", nanoid::nanoid!(32)))
    }

    /// A secret read back from the database.
    pub fn from_stored(secret: String) -> Self {
        Self(secret)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists_are_checked_sorted_and_deduplicated() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            WebhookEvent::parse_list(&names(&["visit", "link.created", "visit"])).unwrap(),
            vec![WebhookEvent::Visit, WebhookEvent::LinkCreated]
        );
        assert_eq!(
            WebhookEvent::parse_list(&names(&["click"]))
                .unwrap_err()
                .field,
            "events"
        );
        assert!(WebhookEvent::parse_list(&[]).is_err());
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::from_name(event.as_str()), Some(event));
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                serde_json::json!(event.as_str())
            );
        }
    }

    #[test]
    fn secrets_are_checked() {
        assert!(WebhookSecret::parse("short").is_err());
        assert!(WebhookSecret::parse("a secret with spaces!").is_err());
        assert!(WebhookSecret::parse("0123456789abcdef").is_ok());
        assert!(WebhookSecret::generate().as_str().starts_with("whsec_"));
        assert_eq!(
            format!("{:?}", WebhookSecret::generate()),
            "WebhookSecret(****)"
        );
    }
}
