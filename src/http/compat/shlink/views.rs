//! The JSON of Shlink's API v3: a short URL as Shlink's clients read it (field names, ATOM
//! dates, `meta`, `visitsSummary`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::UrlRecord;

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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_are_atom() {
        let time = Utc.with_ymd_and_hms(2026, 12, 2, 8, 5, 9).unwrap();
        assert_eq!(atom(time), "2026-12-02T08:05:09+00:00");
    }
}
