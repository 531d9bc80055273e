//! The JSON of Shlink's API v3: a short URL as Shlink's clients read it (field names, ATOM
//! dates, `meta`, `visitsSummary`), and a visit with its location (country names in English,
//! which the web component charts).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Location;
use crate::store::{OrphanVisitRecord, UrlRecord, VisitRecord};

/// A time as Shlink writes one (PHP's ATOM: seconds, `+00:00`).
pub fn atom(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// A short URL.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkShortUrl)]
pub struct ShortUrl {
    /// The slug.
    pub short_code: String,
    pub short_url: String,
    pub long_url: String,
    /// ATOM time, e.g. `2026-12-02T08:00:00+00:00`.
    pub date_created: String,
    pub tags: Vec<String>,
    pub meta: Meta,
    /// Always `null`: kurz has one domain, Shlink's default.
    #[schema(value_type = Option<String>)]
    pub domain: Option<()>,
    pub title: Option<String>,
    pub crawlable: bool,
    pub forward_query: bool,
    pub visits_summary: VisitsSummary,
    pub has_redirect_rules: bool,
}

/// A short URL's validity and cap.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkMeta)]
pub struct Meta {
    pub valid_since: Option<String>,
    pub valid_until: Option<String>,
    pub max_visits: Option<i64>,
}

/// Stored visits, people and bots.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkVisitsSummary)]
pub struct VisitsSummary {
    pub total: i64,
    pub non_bots: i64,
    pub bots: i64,
}

impl VisitsSummary {
    /// Of `total` visits, `bots` by bots (never more than the total, nor fewer than none).
    pub fn of(total: i64, bots: i64) -> Self {
        let bots = bots.clamp(0, total.max(0));
        Self {
            total,
            non_bots: total - bots,
            bots,
        }
    }
}

impl ShortUrl {
    pub fn new(public_url: &str, record: UrlRecord) -> Self {
        Self {
            short_url: format!("{public_url}/{}", record.slug),
            short_code: record.slug.to_string(),
            long_url: record.target.to_string(),
            date_created: atom(record.created_at),
            tags: record.tags.iter().map(ToString::to_string).collect(),
            meta: Meta {
                valid_since: record.valid_since.map(atom),
                valid_until: record.valid_until.map(atom),
                max_visits: record.max_visits.map(|cap| cap.get()),
            },
            domain: None,
            title: record.title,
            crawlable: record.crawlable,
            forward_query: record.forward_query,
            visits_summary: VisitsSummary::of(record.visit_count, record.bot_visits),
            has_redirect_rules: record.rules.is_some(),
        }
    }
}

/// A visit as Shlink writes one; orphan visits add `type`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkVisit)]
pub struct Visit {
    /// The referrer, or `""`.
    pub referer: String,
    /// ATOM time.
    pub date: String,
    /// The user agent, or `""`.
    pub user_agent: String,
    pub visit_location: Option<VisitLocation>,
    pub potential_bot: bool,
    /// The short URL (or, for an orphan visit, the address) visited, without its query.
    pub visited_url: String,
    /// Where the visit was sent: the link's target or its rule's; `null` for orphan visits, and
    /// for lists over many links.
    pub redirect_url: Option<String>,
    /// Orphan visits only: `base_url`, `invalid_short_url` or `regular_404`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

/// Where a visit came from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShlinkVisitLocation)]
pub struct VisitLocation {
    pub country_code: String,
    /// The country's English name (ISO 3166-1).
    pub country_name: String,
    pub region_name: String,
    pub city_name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub timezone: String,
    pub is_empty: bool,
}

impl VisitLocation {
    /// `None` when nothing is known of where the visit came from.
    fn of(location: Location) -> Option<Self> {
        if location.is_unknown() {
            return None;
        }
        let code = location.country.map(|c| c.as_str().to_owned());
        let name = code
            .as_deref()
            .and_then(|code| isocountry::CountryCode::for_alpha2(code).ok())
            .map(|country| country.name().to_owned());
        Some(Self {
            country_name: name.or_else(|| code.clone()).unwrap_or_default(),
            country_code: code.unwrap_or_default(),
            region_name: location.region.unwrap_or_default(),
            city_name: location.city.unwrap_or_default(),
            latitude: location.latitude.unwrap_or_default(),
            longitude: location.longitude.unwrap_or_default(),
            timezone: location.timezone.unwrap_or_default(),
            is_empty: false,
        })
    }
}

impl Visit {
    /// A link's visit; `link` (the visit's own) gives the address it was sent to.
    pub fn of_link(public_url: &str, visit: VisitRecord, link: Option<&UrlRecord>) -> Self {
        let redirect_url = link.map(|link| {
            visit
                .rule
                .and_then(|index| {
                    let rule = link
                        .rules
                        .as_ref()?
                        .iter()
                        .nth(usize::try_from(index).ok()?)?;
                    Some(rule.target.to_string())
                })
                .unwrap_or_else(|| link.target.to_string())
        });
        Self {
            referer: visit.referrer.unwrap_or_default(),
            date: atom(visit.visited_at),
            user_agent: visit.user_agent.unwrap_or_default(),
            visit_location: VisitLocation::of(visit.location),
            potential_bot: visit.is_bot,
            visited_url: format!("{public_url}/{}", visit.slug),
            redirect_url,
            kind: None,
        }
    }

    /// An orphan visit: Shlink's `invalid_short_url` for kurz's unknown and expired slugs.
    pub fn of_orphan(public_url: &str, visit: OrphanVisitRecord) -> Self {
        Self {
            referer: visit.referrer.unwrap_or_default(),
            date: atom(visit.visited_at),
            user_agent: visit.user_agent.unwrap_or_default(),
            visit_location: VisitLocation::of(visit.location),
            potential_bot: visit.is_bot,
            visited_url: format!("{public_url}{}", visit.path),
            redirect_url: None,
            kind: Some(orphan_type(visit.kind)),
        }
    }
}

/// Shlink's orphan visit type of a kurz orphan kind.
pub fn orphan_type(kind: crate::domain::OrphanKind) -> &'static str {
    use crate::domain::OrphanKind;
    match kind {
        OrphanKind::InvalidSlug | OrphanKind::Expired => "invalid_short_url",
        OrphanKind::BaseUrl => "base_url",
        OrphanKind::Regular404 => "regular_404",
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_are_atom() {
        let time = Utc.with_ymd_and_hms(2026, 12, 2, 8, 5, 9).unwrap();
        assert_eq!(atom(time), "2026-12-02T08:05:09+00:00");
    }

    #[test]
    fn locations_name_their_country_in_english() {
        let location = Location {
            country: Some("DE".parse().unwrap()),
            city: Some("Berlin".into()),
            ..Location::default()
        };
        let view = VisitLocation::of(location).unwrap();
        assert_eq!(
            (view.country_code.as_str(), view.country_name.as_str()),
            ("DE", "Germany")
        );
        assert_eq!(view.city_name, "Berlin");
        assert!(VisitLocation::of(Location::default()).is_none());
    }
}
