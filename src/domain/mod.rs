//! Types that are valid by construction. Handlers and the store take these, never raw strings,
//! so an unchecked value cannot reach the database.

use std::borrow::Cow;

mod api_key;
mod cursor;
mod location;
mod orphan;
mod password;
mod redirect_status;
mod role;
mod rules;
mod slug;
mod tag;
mod target;
mod time;
mod title;
mod validity;
mod webhook;
mod yourls;

pub use api_key::{ApiKey, KEY_PREFIX};
pub use cursor::Cursor;
pub use location::{CountryCode, Location};
pub use orphan::OrphanKind;
pub use password::{Password, PasswordHash, MAX_PASSWORD_BYTES};
pub use redirect_status::RedirectStatus;
pub use role::Role;
pub use rules::{
    Click, Condition, ConditionKind, ConditionSpec, CountryLookup, Device, NoCountries, Rule,
    RuleSpec, Rules, MAX_CONDITIONS, MAX_RULES,
};
pub use slug::{Slug, SlugPolicy};
pub use tag::{TagName, Tags, MAX_TAGS, MAX_TAG_CHARS};
pub use target::{non_public, TargetPolicy, TargetUrl};
pub use time::{parse_day, parse_end, parse_start};
pub use title::Title;
pub use validity::{MaxVisits, Phase, Validity};
pub use webhook::{WebhookEvent, WebhookSecret};
pub use yourls::{SignatureHash, SignatureToken};

/// Why a value was refused: the field it belongs to and a sentence for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: Cow<'static, str>,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
