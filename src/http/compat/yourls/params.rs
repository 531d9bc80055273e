//! The parameters of `yourls-api.php`, from the query (`GET`) or a form body (`POST`), as
//! YOURLS reads `$_REQUEST`. Every value is text: YOURLS's clients send numbers and flags as
//! strings, and a value kurz cannot use is answered by the action, not refused as a whole.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Clone, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct YourlsParams {
    /// `shorturl`, `expand`, `url-stats`, `stats`, `db-stats` or `version` (anything else is
    /// answered 400).
    #[param(value_type = Option<Action>, example = "shorturl")]
    #[schema(value_type = Option<Action>, example = "shorturl")]
    pub action: Option<String>,
    /// `json`, `jsonp`, `xml` (the default) or `simple` (as any other value).
    #[param(value_type = Option<OutputFormat>, example = "json")]
    #[schema(value_type = Option<OutputFormat>, example = "json")]
    pub format: Option<String>,
    /// The function name a `jsonp` answer calls.
    pub callback: Option<String>,
    /// YOURLS's older name for `callback`.
    pub jsonp: Option<String>,
    /// A kurz API key, a key's signature token (`kurz apikey yourls-token`), or with
    /// `timestamp` the hex digest of the timestamp and the token.
    pub signature: Option<String>,
    /// Unix seconds, for a timestamped `signature`.
    pub timestamp: Option<String>,
    /// The digest of a timestamped `signature`: `sha256` (the default), `sha384`, `sha512`,
    /// or `md5` when `compat.yourls.allow_md5`.
    pub hash: Option<String>,
    /// Not supported (kurz keeps no user passwords): answered "Please log in".
    pub username: Option<String>,
    /// Not supported, as `username`.
    pub password: Option<String>,
    /// `shorturl`: the long URL.
    #[param(example = "https://example.com/")]
    #[schema(example = "https://example.com/")]
    pub url: Option<String>,
    /// `shorturl`: a custom keyword (slug).
    pub keyword: Option<String>,
    /// `shorturl`: the link's title.
    pub title: Option<String>,
    /// `expand`, `url-stats`: the short URL or its keyword.
    pub shorturl: Option<String>,
    /// `stats`: `top` (the default, as any other value), `bottom`, `last`, `rand` or `random`.
    #[param(value_type = Option<StatsFilter>)]
    #[schema(value_type = Option<StatsFilter>)]
    pub filter: Option<String>,
    /// `stats`: how many links (default 10, at most 1000).
    pub limit: Option<String>,
    /// `stats`: how many to skip first (default 0).
    pub start: Option<String>,
    /// `version`: `1` adds the database version.
    pub db: Option<String>,
}

/// The actions, as documented (the parameter itself is read as text).
#[derive(ToSchema)]
#[schema(as = YourlsAction, rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum Action {
    Shorturl,
    Expand,
    UrlStats,
    Stats,
    DbStats,
    Version,
}

/// The formats, as documented.
#[derive(ToSchema)]
#[schema(as = YourlsFormat, rename_all = "lowercase")]
#[allow(dead_code)]
pub enum OutputFormat {
    Json,
    Jsonp,
    Xml,
    Simple,
}

/// The orders of `stats`, as documented.
#[derive(ToSchema)]
#[schema(as = YourlsStatsFilter, rename_all = "lowercase")]
#[allow(dead_code)]
pub enum StatsFilter {
    Top,
    Bottom,
    Last,
    Rand,
    Random,
}

impl YourlsParams {
    /// A parameter's value, trimmed, when it has one.
    pub fn text<'a>(&self, value: &'a Option<String>) -> Option<&'a str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    /// A number as PHP's `intval` reads one: its leading digits, `default` without any.
    pub fn number(&self, value: &Option<String>, default: u32) -> u32 {
        let Some(text) = self.text(value) else {
            return default;
        };
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return if text.starts_with('-') { 0 } else { default };
        }
        digits.parse().unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_php_reads_them() {
        let p = YourlsParams::default();
        let n = |v: &str| p.number(&Some(v.into()), 10);
        assert_eq!(p.number(&None, 10), 10);
        assert_eq!(n("25"), 25);
        assert_eq!(n(" 7abc"), 7);
        assert_eq!(n("abc"), 10);
        assert_eq!(n("-3"), 0);
        assert_eq!(n("99999999999"), u32::MAX);
    }
}
