//! The JSON shapes the API returns (and webhooks deliver).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{OrphanKind, RuleSpec};
use crate::store::{LinkSnapshot, OrphanVisitRecord, UrlRecord, VisitRecord};

/// The URL resource.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "slug": "spring", "short_url": "http://127.0.0.1:8080/spring",
    "qr_url": "http://127.0.0.1:8080/spring/qr",
    "url": "https://example.com/page", "title": "Spring launch", "crawlable": false,
    "visit_count": 0, "created_by": 3, "created_at": "2026-11-26T10:00:00.000000Z",
    "updated_at": "2026-11-26T10:00:00.000000Z", "redirect_status": null,
    "tags": ["launch", "q4"]
}))]
pub struct UrlView {
    /// The short link's key; case-sensitive.
    pub slug: String,
    /// The full short link, `{public_url}/{slug}`.
    pub short_url: String,
    /// The short link's QR code, `{public_url}/{slug}/qr` (PNG; `?format=svg` and more
    /// options in `GET /{slug}/qr`).
    pub qr_url: String,
    /// The target the short link redirects to, normalised.
    pub url: String,
    #[schema(required = true)]
    pub title: Option<String>,
    /// Whether `robots.txt` allows crawlers to follow the short link.
    pub crawlable: bool,
    /// Visits recorded so far (bots included).
    pub visit_count: i64,
    /// The id of the API key that created the short link (as `kurz apikey list` shows it);
    /// `null` when it was created anonymously or from the command line.
    #[schema(required = true)]
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The link's own redirect status (301, 302, 307 or 308); `null` answers with the
    /// server's `redirect.status`.
    #[schema(required = true, schema_with = redirect_status_schema)]
    pub redirect_status: Option<u16>,
    /// Before this time the link answers 404; `null`: no start.
    #[schema(required = true)]
    pub valid_since: Option<DateTime<Utc>>,
    /// From this time on the link answers 410 (or redirects to `redirect.expired_url`);
    /// `null`: no end.
    #[schema(required = true)]
    pub valid_until: Option<DateTime<Utc>>,
    /// The cap on visits by people; `null`: none.
    #[schema(required = true, minimum = 1)]
    pub max_visits: Option<i64>,
    /// Visits by people the cap still allows (0 once it is reached); `null` without a cap.
    #[schema(required = true, minimum = 0)]
    pub visits_left: Option<i64>,
    /// Redirect rules in order; `[]` for none.
    pub rules: Vec<RuleSpec>,
    /// Whether the click's query string is appended to the target.
    pub forward_query: bool,
    /// Whether following the short link asks for a password (never shown, nor its hash).
    pub password_protected: bool,
    /// The link's tags, in name order.
    #[schema(schema_with = tags_schema)]
    pub tags: Vec<String>,
}

/// A tag name as a query parameter documents it (`tag=`), with the rules of [`tag_name_schema`]:
/// a parameter's `value_type` keeps its description, style and explode, which `schema_with`
/// would drop.
pub(crate) struct TagNameParam;

impl utoipa::PartialSchema for TagNameParam {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        tag_name_schema().into()
    }
}

impl utoipa::ToSchema for TagNameParam {}

/// A list of tag names: each `a-z 0-9 - _ .`, 1 to 64 characters; at most 20.
pub(crate) fn tags_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::ArrayBuilder;
    ArrayBuilder::new()
        .items(tag_name_schema())
        .max_items(Some(crate::domain::MAX_TAGS))
        .build()
}

/// One tag name.
pub(crate) fn tag_name_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[a-z0-9._-]+$"))
        .min_length(Some(1))
        .max_length(Some(crate::domain::MAX_TAG_CHARS))
        .build()
}

/// An integer among the redirect statuses a link may have, or `null`.
pub(crate) fn redirect_status_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::SchemaType;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .enum_values(Some(
            crate::domain::RedirectStatus::ALLOWED
                .iter()
                .map(|status| serde_json::json!(status))
                .chain([serde_json::Value::Null]),
        ))
        .build()
}

impl UrlView {
    /// The resource of `record`, whose short link starts with `public_url` (no trailing
    /// slash). The API and `kurz --json` both print this.
    pub fn new(public_url: &str, record: UrlRecord) -> Self {
        Self::from_snapshot(public_url, LinkSnapshot::from(&record))
    }

    /// The resource of a link as the store saw it (what a `link.*` webhook event stored):
    /// the one mapping behind [`UrlView::new`] too.
    pub fn from_snapshot(public_url: &str, link: LinkSnapshot) -> Self {
        Self {
            short_url: format!("{public_url}/{}", link.slug),
            qr_url: format!("{public_url}/{}/qr", link.slug),
            slug: link.slug,
            url: link.url,
            title: link.title,
            crawlable: link.crawlable,
            visit_count: link.visit_count,
            created_by: link.created_by,
            created_at: link.created_at,
            updated_at: link.updated_at,
            redirect_status: link.redirect_status,
            valid_since: link.valid_since,
            valid_until: link.valid_until,
            max_visits: link.max_visits,
            visits_left: link.visits_left,
            rules: link.rules,
            forward_query: link.forward_query,
            password_protected: link.password_protected,
            tags: link.tags,
        }
    }
}

/// The URLVisit resource: one click.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitView {
    pub id: i64,
    /// The slug of the URL visited.
    pub url: String,
    pub visited_at: DateTime<Utc>,
    /// The client's IP address, anonymised unless `enrichment.anonymize_ips` is off.
    #[schema(required = true)]
    pub client_ip: Option<String>,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(required = true)]
    pub referrer: Option<String>,
    #[schema(required = true)]
    pub referrer_host: Option<String>,
    /// Browser family as uap-core names it.
    #[schema(required = true)]
    pub browser: Option<String>,
    /// Operating system family as uap-core names it.
    #[schema(required = true)]
    pub os: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    #[schema(required = true)]
    pub device: Option<String>,
    pub is_bot: bool,
    /// The index of the link's redirect rule that decided where the click went; `null` when
    /// none did (the link's own `url`).
    #[schema(required = true, minimum = 0)]
    pub rule: Option<i16>,
    /// Where the client address is, as the geolocation database (`geo.database`) says: ISO
    /// 3166-1 alpha-2 country code; `null` when unknown or no database is configured.
    #[schema(required = true, pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
    /// The region (state, province) by its English name.
    #[schema(required = true)]
    pub region: Option<String>,
    /// The city by its English name.
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true, minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(required = true, minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    /// The IANA time zone (`Europe/Berlin`).
    #[schema(required = true)]
    pub timezone: Option<String>,
}

impl From<VisitRecord> for VisitView {
    fn from(record: VisitRecord) -> Self {
        Self {
            id: record.id,
            url: record.slug.to_string(),
            visited_at: record.visited_at,
            client_ip: record.client_ip,
            user_agent: record.user_agent,
            referrer: record.referrer,
            referrer_host: record.referrer_host,
            browser: record.browser,
            os: record.os,
            device: record.device,
            is_bot: record.is_bot,
            rule: record.rule,
            country: record.location.country.map(String::from),
            region: record.location.region,
            city: record.location.city,
            latitude: record.location.latitude,
            longitude: record.location.longitude,
            timezone: record.location.timezone,
        }
    }
}

/// An orphan visit: a click that reached no link.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrphanVisitView {
    pub id: i64,
    /// What was asked for: `invalid_slug` (no link has the slug, or its `valid_since` is
    /// ahead), `expired` (past `valid_until` or `max_visits`), `base_url` (`/`) or
    /// `regular_404` (any other path that matches nothing).
    #[serde(rename = "type")]
    pub kind: OrphanKind,
    /// The path asked for, as sent, without the query.
    pub path: String,
    pub visited_at: DateTime<Utc>,
    /// The client's IP address, anonymised unless `enrichment.anonymize_ips` is off.
    #[schema(required = true)]
    pub client_ip: Option<String>,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(required = true)]
    pub referrer: Option<String>,
    #[schema(required = true)]
    pub referrer_host: Option<String>,
    #[schema(required = true)]
    pub browser: Option<String>,
    #[schema(required = true)]
    pub os: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    #[schema(required = true)]
    pub device: Option<String>,
    pub is_bot: bool,
    /// Where the client address is, as for link visits (`geo.database`): ISO 3166-1 alpha-2
    /// country code, region, city, coordinates and IANA time zone; `null` when unknown.
    #[schema(required = true, pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
    #[schema(required = true)]
    pub region: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true, minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(required = true, minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    #[schema(required = true)]
    pub timezone: Option<String>,
}

impl From<OrphanVisitRecord> for OrphanVisitView {
    fn from(record: OrphanVisitRecord) -> Self {
        Self {
            id: record.id,
            kind: record.kind,
            path: record.path,
            visited_at: record.visited_at,
            client_ip: record.client_ip,
            user_agent: record.user_agent,
            referrer: record.referrer,
            referrer_host: record.referrer_host,
            browser: record.browser,
            os: record.os,
            device: record.device,
            is_bot: record.is_bot,
            country: record.location.country.map(String::from),
            region: record.location.region,
            city: record.location.city,
            latitude: record.location.latitude,
            longitude: record.location.longitude,
            timezone: record.location.timezone,
        }
    }
}
