//! What Shlink answers, as far as an import reads it (Shlink 2 to 4: members that came or went
//! between versions are optional).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{CountryCode, Location};
use crate::http::compat::shlink::rules::ShlinkRuleInput;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Pagination {
    pub(super) current_page: u64,
    pub(super) pages_count: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct Listing<T> {
    pub(super) data: Vec<T>,
    pub(super) pagination: Pagination,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ShortUrlList {
    pub(super) short_urls: Listing<ShortUrl>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ShortUrl {
    pub(super) short_code: String,
    pub(super) long_url: String,
    #[serde(default)]
    pub(super) date_created: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) meta: Meta,
    #[serde(default)]
    pub(super) domain: Option<String>,
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) crawlable: bool,
    #[serde(default)]
    pub(super) forward_query: Option<bool>,
    /// Shlink 3 and newer.
    #[serde(default)]
    pub(super) visits_summary: Option<VisitsSummary>,
    /// Shlink 2.
    #[serde(default)]
    pub(super) visits_count: Option<u64>,
    /// Shlink 4.3 and newer; before, rules are asked for.
    #[serde(default)]
    pub(super) has_redirect_rules: Option<bool>,
    /// Shlink 3.5 to 3.7: a long URL per device.
    #[serde(default)]
    pub(super) device_long_urls: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Meta {
    #[serde(default)]
    pub(super) valid_since: Option<String>,
    #[serde(default)]
    pub(super) valid_until: Option<String>,
    #[serde(default)]
    pub(super) max_visits: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct VisitsSummary {
    pub(super) total: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RuleList {
    #[serde(default)]
    pub(super) redirect_rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Rule {
    #[serde(default)]
    pub(super) priority: i64,
    #[serde(flatten)]
    pub(super) rule: ShlinkRuleInput,
}

#[derive(Debug, Deserialize)]
pub(super) struct VisitList {
    pub(super) visits: Listing<Visit>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Visit {
    #[serde(default)]
    pub(super) referer: Option<String>,
    pub(super) date: String,
    #[serde(default)]
    pub(super) user_agent: Option<String>,
    #[serde(default)]
    pub(super) visit_location: Option<VisitLocation>,
    #[serde(default)]
    pub(super) potential_bot: bool,
    #[serde(default)]
    pub(super) visited_url: Option<String>,
    /// Orphan visits: `base_url`, `invalid_short_url` or `regular_404`.
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VisitLocation {
    #[serde(default)]
    pub(super) country_code: Option<String>,
    #[serde(default)]
    pub(super) region_name: Option<String>,
    #[serde(default)]
    pub(super) city_name: Option<String>,
    #[serde(default)]
    pub(super) latitude: Option<f64>,
    #[serde(default)]
    pub(super) longitude: Option<f64>,
    #[serde(default)]
    pub(super) timezone: Option<String>,
    #[serde(default)]
    pub(super) is_empty: bool,
}

impl VisitLocation {
    pub(super) fn into_location(self) -> Location {
        if self.is_empty {
            return Location::default();
        }
        let text = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        // Shlink writes 0.0 for an unknown position.
        let known =
            !matches!((self.latitude, self.longitude), (Some(a), Some(b)) if a == 0.0 && b == 0.0);
        Location {
            country: self
                .country_code
                .and_then(|c| c.trim().to_ascii_uppercase().parse::<CountryCode>().ok()),
            region: text(self.region_name),
            city: text(self.city_name),
            latitude: self.latitude.filter(|_| known),
            longitude: self.longitude.filter(|_| known),
            timezone: text(self.timezone),
        }
    }
}

/// Shlink's time (ATOM, or any RFC 3339) in UTC.
pub(super) fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}
