//! What goes into and comes out of the store, independent of any SQL dialect.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{Cursor, PasswordHash, RedirectStatus, Role, Slug, TargetUrl, Title};

/// A stored short link.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlRecord {
    pub id: i64,
    pub slug: Slug,
    pub target: TargetUrl,
    pub title: Option<String>,
    pub crawlable: bool,
    pub visit_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The API key that created it; `None` when created anonymously or by a command.
    pub created_by: Option<i64>,
    /// Its own redirect status; `None` answers with the configured `redirect.status`.
    pub redirect_status: Option<RedirectStatus>,
    /// The hash of its password; `None` when anyone may follow it.
    pub password_hash: Option<PasswordHash>,
}

/// A short link about to be stored.
#[derive(Debug, Clone)]
pub struct NewUrl {
    pub slug: Slug,
    pub target: TargetUrl,
    pub title: Option<Title>,
    pub crawlable: bool,
    pub created_at: DateTime<Utc>,
    /// The API key creating it; `None` for anonymous callers and commands.
    pub created_by: Option<i64>,
    pub redirect_status: Option<RedirectStatus>,
    pub password_hash: Option<PasswordHash>,
}

/// The fields a PATCH may change; `None` leaves a field as it is, `title: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UrlPatch {
    pub target: Option<TargetUrl>,
    pub title: Option<Option<Title>>,
    pub crawlable: Option<bool>,
    /// `Some(None)` goes back to the configured status.
    pub redirect_status: Option<Option<RedirectStatus>>,
    /// `Some(None)` removes the password.
    pub password_hash: Option<Option<PasswordHash>>,
}

/// What a redirect needs, and nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub url_id: i64,
    pub target: String,
    /// The link's own status, if it has one.
    pub status: Option<RedirectStatus>,
    /// It has a password: answered with a form, not a redirect (the hash is not read here).
    pub protected: bool,
}

/// One click, ready to be written by the visit writer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVisit {
    pub url_id: i64,
    pub visited_at: DateTime<Utc>,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub referrer_host: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub is_bot: bool,
}

/// A stored visit, with the slug of its URL.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    pub id: i64,
    pub url_id: i64,
    pub slug: Slug,
    pub visited_at: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub referrer_host: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub is_bot: bool,
    /// The API key that created the visit's URL (`urls.created_by`): what an editor's live
    /// stream filters on. Not part of the API's visit object.
    pub url_created_by: Option<i64>,
}

/// Which visits a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct VisitFilter {
    pub url_id: Option<i64>,
    /// Only visits of URLs created by this API key (an editor's view).
    pub owner: Option<i64>,
    /// Visits at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Visits before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only bots (`true`) or only people (`false`).
    pub is_bot: Option<bool>,
}

/// A statistics question about one URL: the days `from..=to` (UTC).
#[derive(Debug, Clone, Copy)]
pub struct StatsQuery {
    pub url_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub include_bots: bool,
    /// How many values each breakdown lists at most.
    pub top: u32,
}

/// Statistics of one URL over a range of days, read from the rollups.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UrlStats {
    /// Visits in the range (bots excluded unless asked for).
    pub visits: i64,
    /// Bot visits in the range, whether or not `visits` includes them.
    pub bot_visits: i64,
    /// Every day of the range, oldest first, zeros included.
    pub days: Vec<DayCount>,
    pub browsers: Vec<ValueCount>,
    pub os: Vec<ValueCount>,
    pub devices: Vec<ValueCount>,
    pub referrer_hosts: Vec<ValueCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub day: NaiveDate,
    pub visits: i64,
}

/// A value of a breakdown; `None` is "unknown".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueCount {
    pub value: Option<String>,
    pub visits: i64,
}

/// One page of a keyset-paginated list: rows with an id below `after`, newest first.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Cursor>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only proves a next page exists.
    pub(crate) fn from_overfetch(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> i64) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if has_more {
            rows.last().map(|row| Cursor::after(id_of(row)))
        } else {
            None
        };
        Self { items: rows, next }
    }
}

/// An API key about to be stored: its hash, never the key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub role: Role,
    /// `kurz_` and the first random characters, to name the key in lists.
    pub prefix: String,
    /// SHA-256 of the key, hex.
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A stored API key.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One row of the link change log: a link was created, changed or deleted (see
/// [`Store::link_changes_after`](super::Store::link_changes_after)).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkChange {
    pub id: i64,
    pub slug: String,
    /// The [`Store::origin`](super::Store::origin) of the process that made the change.
    pub origin: String,
}
