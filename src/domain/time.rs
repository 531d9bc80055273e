//! Time bounds as clients write them in query strings: an RFC 3339 instant
//! (`2026-11-26T10:00:00Z`) or a calendar day (`2026-11-26`, UTC).

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::Invalid;

/// A day, `YYYY-MM-DD`.
pub fn parse_day(field: &'static str, value: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| Invalid::new(field, format!("`{value}` is not a date like 2026-11-26")))
}

/// The start of a range: an instant, or the first moment of a day.
pub fn parse_start(field: &'static str, value: &str) -> Result<DateTime<Utc>, Invalid> {
    parse_instant(field, value, Some)
}

/// The end of a range, exclusive: an instant, or the end of a day (the next day's midnight), so
/// that `to=2026-11-26` includes all of that day.
pub fn parse_end(field: &'static str, value: &str) -> Result<DateTime<Utc>, Invalid> {
    parse_instant(field, value, |day| day.checked_add_days(Days::new(1)))
}

/// The last instant of year 9999. Bounds past it (`to=9999-12-31` is the next midnight, and
/// an offset can push a time into year 10000) are clamped to it: SQLite compares times as
/// text, and `+10000-01-01...` sorts before every four-digit year, so such a bound would
/// select nothing there while PostgreSQL selects everything.
fn last_instant() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|day| day.and_hms_nano_opt(23, 59, 59, 999_999_999))
        .map(|last| last.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn parse_instant(
    field: &'static str,
    value: &str,
    day_to_bound: impl Fn(NaiveDate) -> Option<NaiveDate>,
) -> Result<DateTime<Utc>, Invalid> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc).min(last_instant()));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(day_to_bound)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc().min(last_instant()))
        .ok_or_else(|| {
            Invalid::new(
                field,
                format!("`{value}` is neither a date (2026-11-26) nor an RFC 3339 time"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn days_and_instants() {
        assert_eq!(
            parse_start("from", "2026-11-26").unwrap().to_rfc3339(),
            "2026-11-26T00:00:00+00:00"
        );
        assert_eq!(
            parse_end("to", "2026-11-26").unwrap().to_rfc3339(),
            "2026-11-27T00:00:00+00:00"
        );
        assert_eq!(
            parse_start("from", "2026-11-26T10:00:00+01:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-26T09:00:00+00:00"
        );
        assert_eq!(parse_day("from", "2026-02-30").unwrap_err().field, "from");
        assert!(parse_end("to", "+262142-12-31").is_err());
    }

    #[test]
    fn bounds_stay_within_four_digit_years() {
        let last = "9999-12-31T23:59:59.999999999+00:00";
        assert_eq!(parse_end("to", "9999-12-31").unwrap().to_rfc3339(), last);
        assert_eq!(
            parse_end("to", "9999-12-31T23:00:00-05:00")
                .unwrap()
                .to_rfc3339(),
            last
        );
        assert_eq!(
            parse_start("from", "9999-12-31").unwrap().to_rfc3339(),
            "9999-12-31T00:00:00+00:00"
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_start("from", &s);
            let _ = parse_end("to", &s);
            let _ = parse_day("from", &s);
        }
    }
}
