//! What goes into and comes out of the store, independent of any SQL dialect.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{
    CountryCode, Cursor, Location, MaxVisits, OrphanKind, PasswordHash, RedirectStatus, Role,
    Rules, Slug, TagName, TargetUrl, Title,
};

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
    /// Its tags, in name order.
    pub tags: Vec<TagName>,
    /// Before this time the link answers as if it did not exist.
    pub valid_since: Option<DateTime<Utc>>,
    /// From this time on the link is expired.
    pub valid_until: Option<DateTime<Utc>>,
    /// The link is exhausted once `human_visits` reaches it.
    pub max_visits: Option<MaxVisits>,
    /// Visits by people (bots left out), never lowered by pruning: what `max_visits` caps.
    pub human_visits: i64,
    /// Where clicks that meet their conditions go instead of `target`; `None` for none.
    pub rules: Option<Rules>,
    /// Append the click's query string to the target.
    pub forward_query: bool,
    /// The hash of its password; `None` when anyone may follow it.
    pub password_hash: Option<PasswordHash>,
    /// Of `visit_count`, the visits by bots (lowered by pruning as `visit_count` is).
    pub bot_visits: i64,
}

impl UrlRecord {
    /// How many more people a capped link answers; `None` without a cap.
    pub fn visits_left(&self) -> Option<i64> {
        self.max_visits.map(|cap| cap.left(self.human_visits))
    }
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
    /// Its tags, each once (see [`crate::domain::Tags`]).
    pub tags: Vec<TagName>,
    pub valid_since: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_visits: Option<MaxVisits>,
    /// Visits by people so far: 0 for a new link; an import keeps the exported count.
    pub human_visits: i64,
    pub rules: Option<Rules>,
    pub forward_query: bool,
    pub password_hash: Option<PasswordHash>,
}

impl NewUrl {
    /// A link with its slug, target and creation time, and nothing else: no title, not
    /// crawlable, no owner, the server's redirect status, always answering, no cap, rules,
    /// tags or password, the query not forwarded.
    pub fn plain(slug: Slug, target: TargetUrl, created_at: DateTime<Utc>) -> Self {
        Self {
            slug,
            target,
            title: None,
            crawlable: false,
            created_at,
            created_by: None,
            redirect_status: None,
            tags: Vec::new(),
            valid_since: None,
            valid_until: None,
            max_visits: None,
            human_visits: 0,
            rules: None,
            forward_query: false,
            password_hash: None,
        }
    }
}

/// The fields a PATCH may change; `None` leaves a field as it is, `title: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UrlPatch {
    pub target: Option<TargetUrl>,
    pub title: Option<Option<Title>>,
    pub crawlable: Option<bool>,
    /// `Some(None)` goes back to the configured status.
    pub redirect_status: Option<Option<RedirectStatus>>,
    /// `Some` replaces the link's tags with these (each once; empty removes them all).
    pub tags: Option<Vec<TagName>>,
    /// `Some(None)` removes the bound (the application layer checks the window).
    pub valid_since: Option<Option<DateTime<Utc>>>,
    pub valid_until: Option<Option<DateTime<Utc>>>,
    /// `Some(None)` removes the cap.
    pub max_visits: Option<Option<MaxVisits>>,
    /// `Some(None)` removes every rule.
    pub rules: Option<Option<Rules>>,
    pub forward_query: Option<bool>,
    /// `Some(None)` removes the password.
    pub password_hash: Option<Option<PasswordHash>>,
}

/// An order of [`Store::ranked_urls`](super::Store::ranked_urls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRank {
    /// Most visits first (then newest).
    MostVisited,
    /// Fewest visits first (then oldest).
    LeastVisited,
    Newest,
    Random,
}

/// Which links a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlFilter {
    /// Only links created by this API key (an editor's view).
    pub owner: Option<i64>,
    /// Only links that answer at this time: inside their validity window and not exhausted.
    pub active_at: Option<DateTime<Utc>>,
}

/// What a redirect needs, and nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub url_id: i64,
    pub target: String,
    /// The link's own status, if it has one.
    pub status: Option<RedirectStatus>,
    pub valid_since: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_visits: Option<MaxVisits>,
    pub rules: Option<Rules>,
    pub forward_query: bool,
    /// It has a password: answered with a form, not a redirect (the hash is not read here).
    pub protected: bool,
}

/// What [`Store::take_visit`](super::Store::take_visit) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapTake {
    /// One unit of the cap was taken: answer the click.
    Taken,
    /// The cap is reached: the link is exhausted.
    Exhausted,
    /// The link has no cap (any more): answer without taking anything.
    Uncapped,
    /// No link has this id (any more).
    Gone,
}

/// A link an import created, found again by its key in the source (`import_marks`): a re-run
/// skips it and imports only its visits after `visits_through`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportMark {
    /// The link's key in the source (YOURLS keyword, Kutt link id, Bitly bitlink).
    pub source_id: String,
    pub url_id: i64,
    /// How far its visits are imported, in the source's terms; `None` before any.
    pub visits_through: Option<String>,
}

/// Clicks known only as a count (Kutt's hourly rows, YOURLS clicks never logged, Bitly's
/// totals): added to the rollups and counters as the same clicks recorded live would be,
/// without visit rows. An empty dimension is unknown, as in the rollups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupCount {
    pub url_id: i64,
    pub day: NaiveDate,
    pub browser: String,
    pub os: String,
    pub device: String,
    pub referrer_host: String,
    /// ISO 3166-1 alpha-2, or empty (no geo rollup row then, as for live clicks).
    pub country: String,
    pub visits: i64,
    pub bot_visits: i64,
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
    /// The redirect took a unit of the link's visit cap already (its `human_visits`); the
    /// writer adds only the other visits by people.
    pub cap_taken: bool,
    /// The index of the link's rule that sent the click; `None` for the link's own target.
    pub rule: Option<i16>,
    /// Where the client address is (looked up before it was anonymised).
    pub location: Location,
}

/// A click that reached no link, ready to be written by the visit writer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrphanVisit {
    pub kind: OrphanKind,
    /// The path asked for, as sent (percent-encoded), without the query.
    pub path: String,
    pub visited_at: DateTime<Utc>,
    pub client_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub referrer_host: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub is_bot: bool,
    pub location: Location,
}

/// A stored orphan visit. Its JSON (flat, `type` for the kind) is an `orphan_visit` event's
/// stored data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrphanVisitRecord {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: OrphanKind,
    pub path: String,
    pub visited_at: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub referrer_host: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub is_bot: bool,
    #[serde(flatten)]
    pub location: Location,
}

impl OrphanVisitRecord {
    /// The record of `visit`, stored with `id`.
    pub fn of(id: i64, visit: &NewOrphanVisit) -> Self {
        Self {
            id,
            kind: visit.kind,
            path: visit.path.clone(),
            visited_at: super::rows::micros(visit.visited_at),
            client_ip: visit.client_ip.map(|ip| ip.to_string()),
            user_agent: visit.user_agent.clone(),
            referrer: visit.referrer.clone(),
            referrer_host: visit.referrer_host.clone(),
            browser: visit.browser.clone(),
            os: visit.os.clone(),
            device: visit.device.clone(),
            is_bot: visit.is_bot,
            location: visit.location.clone(),
        }
    }
}

/// Which orphan visits a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OrphanFilter {
    /// Only visits of these kinds; all when empty.
    pub kinds: &'static [OrphanKind],
    /// Visits at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Visits before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only bots (`true`) or only people (`false`).
    pub is_bot: Option<bool>,
}

/// Link visits and orphan visits over every link, per day `from..=to` (UTC), from the rollups.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GlobalStats {
    /// Link visits in the range (bots excluded unless asked for).
    pub visits: i64,
    /// The bots' part of the link visits, whether or not `visits` counts them.
    pub bot_visits: i64,
    /// Orphan visits in the range (bots excluded unless asked for).
    pub orphan_visits: i64,
    pub orphan_bot_visits: i64,
    /// Orphan visits in the range by type, every type listed (bots as `orphan_visits`).
    pub orphan_types: Vec<(OrphanKind, i64)>,
    /// Every day of the range, oldest first, zeros included: (day, visits, orphan visits).
    pub days: Vec<GlobalDay>,
}

/// How many visits are stored, from the counters (never a count over the visits): link
/// visits with their bots' part, orphan visits with theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VisitTotals {
    pub visits: i64,
    pub bot_visits: i64,
    pub orphan_visits: i64,
    pub orphan_bot_visits: i64,
}

/// One day of [`GlobalStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalDay {
    pub day: NaiveDate,
    pub visits: i64,
    pub orphan_visits: i64,
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
    /// The index of the link's rule that sent the click; `None` for the link's own target.
    pub rule: Option<i16>,
    pub location: Location,
    /// The API key that created the visit's URL (`urls.created_by`): what an editor's live
    /// stream filters on. Not part of the API's visit object.
    pub url_created_by: Option<i64>,
}

/// Which visits a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VisitFilter {
    pub url_id: Option<i64>,
    /// Only visits of links carrying this tag (by id).
    pub tag_id: Option<i64>,
    /// Only visits of URLs created by this API key (an editor's view).
    pub owner: Option<i64>,
    /// Visits at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Visits before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only bots (`true`) or only people (`false`).
    pub is_bot: Option<bool>,
    /// Only visits located in this country.
    pub country: Option<CountryCode>,
}

/// A statistics question about one URL or the links of one tag: the days `from..=to` (UTC).
#[derive(Debug, Clone, Copy)]
pub struct StatsQuery {
    pub of: StatsOf,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub include_bots: bool,
    /// How many values each breakdown lists at most.
    pub top: u32,
}

/// Whose visits statistics count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsOf {
    /// One URL, by id.
    Url(i64),
    /// The links carrying a tag (by id); with an `owner`, only those that API key created.
    Tag { id: i64, owner: Option<i64> },
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
    /// Visits each redirect rule sent, by rule index; rules that sent none are left out.
    pub rules: Vec<RuleCount>,
    /// The top countries (ISO 3166-1 alpha-2; `None` for unknown).
    pub countries: Vec<ValueCount>,
    /// The top cities, each with its country.
    pub cities: Vec<CityCount>,
}

/// Visits from one city (`None`: unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CityCount {
    pub country: Option<String>,
    pub city: Option<String>,
    pub visits: i64,
}

/// Visits one redirect rule sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: i16,
    pub visits: i64,
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

/// Which tags a URL list keeps (or leaves out): links with any of `names`, or with all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagFilter {
    /// At least one, each once.
    pub names: Vec<TagName>,
    pub all: bool,
}

/// A tag with its counters: the links carrying it and the sum of their visit counts (over an
/// editor's own links when the store was asked for one owner's view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    pub id: i64,
    pub name: TagName,
    pub links: i64,
    pub visits: i64,
    /// Of `visits`, those by bots.
    pub bot_visits: i64,
}

/// One page of tags in name order: names after `after` (all with `None`), starting with
/// `prefix` when one is given.
#[derive(Debug, Clone, Default)]
pub struct TagQuery {
    pub prefix: Option<String>,
    pub after: Option<TagName>,
    pub limit: u32,
}

/// A page of tags; `next` is the name the following page starts after.
#[derive(Debug, Clone)]
pub struct TagPage {
    pub items: Vec<TagRecord>,
    pub next: Option<TagName>,
}
