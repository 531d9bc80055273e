//! Row shapes shared by both backends; the conversions check what comes back.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::models::{
    ApiKeyRecord, PageRequest, Redirect, TagRecord, UrlFilter, UrlRecord, VisitFilter, VisitRecord,
};
use super::StoreError;
use crate::domain::{
    Location, MaxVisits, PasswordHash, RedirectStatus, Rules, Slug, TagName, TargetUrl,
};

/// Times as read, to the microsecond: what PostgreSQL keeps (sqlx truncates), and what SQLite,
/// which stores the text it is given, now also answers, so both backends print the same.
pub(crate) fn micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}

/// The column list every URL query returns, in `UrlRow`'s order.
pub(crate) const URL_COLUMNS: &str = "id, slug, target, title, crawlable, visit_count, \
     created_at, updated_at, created_by, redirect_status, valid_since, valid_until, max_visits, \
     human_visits, rules, forward_query, password_hash, bot_visits";

#[derive(sqlx::FromRow)]
pub(crate) struct UrlRow {
    id: i64,
    slug: String,
    target: String,
    title: Option<String>,
    crawlable: bool,
    visit_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    created_by: Option<i64>,
    redirect_status: Option<i16>,
    valid_since: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    max_visits: Option<i64>,
    human_visits: i64,
    rules: Option<String>,
    forward_query: bool,
    password_hash: Option<String>,
    bot_visits: i64,
}

impl TryFrom<UrlRow> for UrlRecord {
    type Error = StoreError;
    fn try_from(row: UrlRow) -> Result<Self, Self::Error> {
        let target = TargetUrl::from_stored(&row.target)
            .ok_or_else(|| anyhow::anyhow!("stored target of url {} is not a URL", row.id))?;
        Ok(Self {
            id: row.id,
            slug: Slug::from_stored(row.slug),
            target,
            title: row.title,
            crawlable: row.crawlable,
            visit_count: row.visit_count,
            created_at: micros(row.created_at),
            updated_at: micros(row.updated_at),
            created_by: row.created_by,
            redirect_status: row.redirect_status.and_then(RedirectStatus::from_stored),
            valid_since: row.valid_since.map(micros),
            valid_until: row.valid_until.map(micros),
            max_visits: row.max_visits.and_then(MaxVisits::from_stored),
            human_visits: row.human_visits,
            rules: stored_rules(row.id, row.rules.as_deref())?,
            forward_query: row.forward_query,
            password_hash: row.password_hash.map(PasswordHash::from_stored),
            bot_visits: row.bot_visits,
            // Read by a second query for the whole page (`SqlStore::with_tags`).
            tags: Vec::new(),
        })
    }
}

/// The column list every tag query returns, in `TagRow`'s order (`t` is `tags`).
pub(crate) const TAG_COLUMNS: &str = "t.id, t.name, t.links, t.visits, t.bot_visits";

#[derive(sqlx::FromRow)]
pub(crate) struct TagRow {
    id: i64,
    name: String,
    links: i64,
    visits: i64,
    bot_visits: i64,
}

impl From<TagRow> for TagRecord {
    fn from(row: TagRow) -> Self {
        Self {
            id: row.id,
            name: TagName::from_stored(row.name),
            links: row.links,
            visits: row.visits,
            bot_visits: row.bot_visits,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RedirectRow {
    id: i64,
    target: String,
    redirect_status: Option<i16>,
    valid_since: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    max_visits: Option<i64>,
    rules: Option<String>,
    forward_query: bool,
    protected: bool,
}

/// The column list of [`RedirectRow`]: whether a link has a password, never its hash.
pub(crate) const REDIRECT_COLUMNS: &str = "id, target, redirect_status, valid_since, \
     valid_until, max_visits, rules, forward_query, password_hash IS NOT NULL AS protected";

/// A link's stored rules; text that is not rules means the database was changed behind
/// kurz's back.
fn stored_rules(url_id: i64, text: Option<&str>) -> Result<Option<Rules>, StoreError> {
    text.map(|text| {
        Rules::from_stored(text)
            .ok_or_else(|| anyhow::anyhow!("stored rules of url {url_id} are not rules").into())
    })
    .transpose()
}

impl TryFrom<RedirectRow> for Redirect {
    type Error = StoreError;
    fn try_from(row: RedirectRow) -> Result<Self, StoreError> {
        Ok(Self {
            rules: stored_rules(row.id, row.rules.as_deref())?,
            forward_query: row.forward_query,
            url_id: row.id,
            target: row.target,
            status: row.redirect_status.and_then(RedirectStatus::from_stored),
            valid_since: row.valid_since,
            valid_until: row.valid_until,
            max_visits: row.max_visits.and_then(MaxVisits::from_stored),
            protected: row.protected,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct VisitRow {
    pub(super) id: i64,
    pub(super) url_id: i64,
    pub(super) slug: String,
    pub(super) visited_at: DateTime<Utc>,
    pub(super) client_ip: Option<String>,
    pub(super) user_agent: Option<String>,
    pub(super) referrer: Option<String>,
    pub(super) referrer_host: Option<String>,
    pub(super) browser: Option<String>,
    pub(super) os: Option<String>,
    pub(super) device: Option<String>,
    pub(super) is_bot: bool,
    pub(super) rule: Option<i16>,
    #[sqlx(flatten)]
    pub(super) location: LocationRow,
    pub(super) url_created_by: Option<i64>,
}

/// The location columns of a visit or an orphan visit.
#[derive(sqlx::FromRow)]
pub(crate) struct LocationRow {
    pub(super) country: Option<String>,
    pub(super) region: Option<String>,
    pub(super) city: Option<String>,
    pub(super) latitude: Option<f64>,
    pub(super) longitude: Option<f64>,
    pub(super) timezone: Option<String>,
}

impl From<LocationRow> for Location {
    fn from(row: LocationRow) -> Self {
        Self {
            // Written from a `CountryCode`; anything else is read as unknown.
            country: row.country.and_then(|code| code.parse().ok()),
            region: row.region,
            city: row.city,
            latitude: row.latitude,
            longitude: row.longitude,
            timezone: row.timezone,
        }
    }
}

impl From<VisitRow> for VisitRecord {
    fn from(row: VisitRow) -> Self {
        Self {
            id: row.id,
            url_id: row.url_id,
            slug: Slug::from_stored(row.slug),
            visited_at: micros(row.visited_at),
            client_ip: row.client_ip,
            user_agent: row.user_agent,
            referrer: row.referrer,
            referrer_host: row.referrer_host,
            browser: row.browser,
            os: row.os,
            device: row.device,
            is_bot: row.is_bot,
            rule: row.rule,
            location: row.location.into(),
            url_created_by: row.url_created_by,
        }
    }
}

/// The column list every API key query returns, in `ApiKeyRow`'s order.
pub(crate) const API_KEY_COLUMNS: &str = "id, name, role, prefix, key_hash, created_at, revoked_at";

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    id: i64,
    name: String,
    role: String,
    prefix: String,
    key_hash: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = StoreError;
    fn try_from(row: ApiKeyRow) -> Result<Self, Self::Error> {
        let role = row
            .role
            .parse()
            .map_err(|_| anyhow::anyhow!("stored role of api key {} is unknown", row.id))?;
        Ok(Self {
            id: row.id,
            name: row.name,
            role,
            prefix: row.prefix,
            key_hash: row.key_hash,
            created_at: micros(row.created_at),
            revoked_at: row.revoked_at.map(micros),
        })
    }
}

pub(crate) fn into_urls(rows: Vec<UrlRow>) -> Result<Vec<UrlRecord>, StoreError> {
    rows.into_iter().map(UrlRecord::try_from).collect()
}

/// Appends the conditions of a [`UrlFilter`] to a query over `urls` that ends in a `WHERE`
/// clause: the owner, and whether a link answers at a time (inside its validity window, its
/// visit cap not reached).
pub(crate) fn push_url_filter<'q, DB>(query: &mut QueryBuilder<'q, DB>, filter: UrlFilter)
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    if let Some(owner) = filter.owner {
        query.push(" AND urls.created_by = ").push_bind(owner);
    }
    if let Some(at) = filter.active_at {
        query
            .push(" AND (urls.valid_since IS NULL OR urls.valid_since <= ")
            .push_bind(at)
            .push(") AND (urls.valid_until IS NULL OR urls.valid_until > ")
            .push_bind(at)
            .push(") AND (urls.max_visits IS NULL OR urls.human_visits < urls.max_visits)");
    }
}

/// Appends a visit list's filters, keyset position, order and limit to a query that ends in a
/// `WHERE` clause over `url_visits v`.
pub(crate) fn push_visit_page<'q, DB>(
    query: &mut QueryBuilder<'q, DB>,
    filter: VisitFilter,
    page: PageRequest,
) where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    push_visit_filter(query, filter);
    push_keyset_page(query, page);
}

/// Appends a visit list's filters to a query that ends in a `WHERE` clause over
/// `url_visits v` joined with its link as `u`.
pub(crate) fn push_visit_filter<'q, DB>(query: &mut QueryBuilder<'q, DB>, filter: VisitFilter)
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    if let Some(url_id) = filter.url_id {
        query.push(" AND v.url_id = ").push_bind(url_id);
    }
    if let Some(tag_id) = filter.tag_id {
        query
            .push(" AND v.url_id IN (SELECT url_id FROM url_tags WHERE tag_id = ")
            .push_bind(tag_id)
            .push(")");
    }
    if let Some(owner) = filter.owner {
        query.push(" AND u.created_by = ").push_bind(owner);
    }
    if let Some(country) = filter.country {
        query
            .push(" AND v.country = ")
            .push_bind(country.as_str().to_owned());
    }
    push_visit_times(query, filter.from, filter.until, filter.is_bot);
}

/// The conditions every visit list shares, on the visits aliased `v` (of links or orphan
/// visits): the time range and the bot flag.
pub(crate) fn push_visit_times<'q, DB>(
    query: &mut QueryBuilder<'q, DB>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    is_bot: Option<bool>,
) where
    DB: Database,
    bool: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    if let Some(from) = from {
        query.push(" AND v.visited_at >= ").push_bind(from);
    }
    if let Some(until) = until {
        query.push(" AND v.visited_at < ").push_bind(until);
    }
    if let Some(is_bot) = is_bot {
        query.push(" AND v.is_bot = ").push_bind(is_bot);
    }
}

/// The keyset page of a visit list, newest first: below the cursor, one row more than the
/// page to tell whether another follows.
pub(crate) fn push_keyset_page<'q, DB>(query: &mut QueryBuilder<'q, DB>, page: PageRequest)
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
{
    if let Some(after) = page.after {
        query.push(" AND v.id < ").push_bind(after.last_id());
    }
    query
        .push(" ORDER BY v.id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
}
