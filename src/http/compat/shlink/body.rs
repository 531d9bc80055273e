//! Request bodies as Shlink reads them: JSON whatever the content type, members of the wrong
//! type named in `invalid-data`, times in ISO 8601.

use axum::body::Bytes;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::de::DeserializeOwned;

use super::problem::ShlinkProblem;

/// A body read as Shlink reads one: JSON whatever the content type (a malformed one is
/// `malformed-request-body`); a member of the wrong type is `invalid-data` naming it.
pub(super) fn read_body<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, ShlinkProblem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ShlinkProblem::malformed_body(&e.to_string()))?;
    if !value.is_object() {
        return Err(ShlinkProblem::malformed_body("expected a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e
            .path()
            .iter()
            .next()
            .map(|segment| segment.to_string())
            .unwrap_or_default();
        ShlinkProblem::invalid_data(&[(leak_field(&field), e.inner().to_string())])
    })
}

/// A body member's name as a static string for `invalidElements` (only Shlink's known names;
/// anything else is reported as the body).
fn leak_field(name: &str) -> &'static str {
    const NAMES: [&str; 16] = [
        "longUrl",
        "customSlug",
        "findIfExists",
        "shortCodeLength",
        "validSince",
        "validUntil",
        "maxVisits",
        "tags",
        "title",
        "crawlable",
        "forwardQuery",
        "domain",
        "pathPrefix",
        "redirectRules",
        "oldName",
        "newName",
    ];
    NAMES
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("body")
}

/// An ISO 8601 time as Shlink's clients send one (RFC 3339, with a `+0000` offset, or a bare
/// date meaning its midnight UTC).
pub(super) fn parse_time(value: &str, field: &'static str) -> Result<DateTime<Utc>, ShlinkProblem> {
    DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%z"))
        .map(|time| time.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|day| day.and_time(NaiveTime::MIN).and_utc())
        })
        .map_err(|_| {
            ShlinkProblem::invalid_data(&[(field, format!("`{value}` is not an ISO 8601 time"))])
        })
}
