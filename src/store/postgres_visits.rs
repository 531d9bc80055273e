//! The PostgreSQL visit writer's rows: `COPY ... FROM STDIN` in the text format, the cheapest
//! way into a table (no per-row parameter binding, no planner). COPY reports no ids, so the
//! batch takes its ids from the table's sequence first and copies them with the rows; the
//! live stream and the other instances need them.

use std::collections::HashSet;
use std::io::Write;

use sqlx::PgConnection;

use super::NewVisit;

const COPY_VISITS: &str = "COPY url_visits (id, url_id, visited_at, client_ip, user_agent, \
     referrer, referrer_host, browser, os, device, is_bot, rule, country, region, city, latitude, \
     longitude, timezone) FROM STDIN";

/// Writes the visits with COPY and returns their ids, in the batch's order.
pub(crate) async fn copy_visits(
    conn: &mut PgConnection,
    visits: &[&NewVisit],
) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('url_visits', 'id')) \
         FROM generate_series(1, $1)",
    )
    .bind(visits.len() as i64)
    .fetch_all(&mut *conn)
    .await?;
    // Ascending, so that the batch's order is the ids' order, as with an INSERT.
    ids.sort_unstable();
    let mut rows = Vec::with_capacity(visits.len() * 256);
    for (id, visit) in ids.iter().zip(visits) {
        encode_row(&mut rows, *id, visit);
    }
    let mut copy = conn.copy_in_raw(COPY_VISITS).await?;
    copy.send(rows).await?;
    copy.finish().await?;
    Ok(ids)
}

/// The ids among the batch's URLs that still name a URL, locked against deletion until the
/// transaction ends (as the foreign key's own check would).
pub(crate) async fn existing_urls(
    conn: &mut PgConnection,
    visits: &[NewVisit],
) -> Result<HashSet<i64>, sqlx::Error> {
    let url_ids: HashSet<i64> = visits.iter().map(|v| v.url_id).collect();
    let url_ids: Vec<i64> = url_ids.into_iter().collect();
    let found: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM urls WHERE id = ANY($1) FOR KEY SHARE")
            .bind(&url_ids)
            .fetch_all(&mut *conn)
            .await?;
    Ok(found.into_iter().collect())
}

/// One line of COPY's text format: tab-separated columns, `\N` for NULL.
fn encode_row(out: &mut Vec<u8>, id: i64, visit: &NewVisit) {
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{id}\t{}\t{}\t",
        visit.url_id,
        visit.visited_at.format("%Y-%m-%d %H:%M:%S%.6f+00")
    );
    match visit.client_ip {
        Some(ip) => {
            let _ = write!(out, "{ip}");
        }
        None => out.extend_from_slice(b"\\N"),
    }
    for text in [
        &visit.user_agent,
        &visit.referrer,
        &visit.referrer_host,
        &visit.browser,
        &visit.os,
        &visit.device,
    ] {
        out.push(b'\t');
        push_text(out, text.as_deref());
    }
    out.extend_from_slice(if visit.is_bot { b"\tt\t" } else { b"\tf\t" });
    match visit.rule {
        Some(rule) => {
            let _ = write!(out, "{rule}");
        }
        None => out.extend_from_slice(b"\\N"),
    }
    let place = &visit.location;
    out.push(b'\t');
    push_text(out, place.country.as_ref().map(|c| c.as_str()));
    for text in [&place.region, &place.city] {
        out.push(b'\t');
        push_text(out, text.as_deref());
    }
    for number in [place.latitude, place.longitude] {
        out.push(b'\t');
        match number.filter(|n| n.is_finite()) {
            // Rust prints the shortest text that reads back as the same f64.
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.extend_from_slice(b"\\N"),
        }
    }
    out.push(b'\t');
    push_text(out, place.timezone.as_deref());
    out.push(b'\n');
}

/// A text column, escaped as COPY's text format wants: backslash, tab, newline and carriage
/// return as backslash sequences. A NUL byte, which no PostgreSQL text can hold (an INSERT
/// would fail on it too), is left out.
fn push_text(out: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for byte in text.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0 => {}
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Location;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    /// Undoes COPY's text escaping of one column (what PostgreSQL does when reading it).
    fn unescape(column: &[u8]) -> Option<String> {
        if column == b"\\N" {
            return None;
        }
        let mut out = Vec::new();
        let mut bytes = column.iter();
        while let Some(&byte) = bytes.next() {
            if byte != b'\\' {
                out.push(byte);
                continue;
            }
            out.push(match bytes.next() {
                Some(b't') => b'\t',
                Some(b'n') => b'\n',
                Some(b'r') => b'\r',
                Some(b'\\') => b'\\',
                other => panic!("unexpected escape {other:?}"),
            });
        }
        Some(String::from_utf8(out).unwrap())
    }

    fn visit(user_agent: Option<String>, referrer: Option<String>) -> NewVisit {
        NewVisit {
            location: Default::default(),
            url_id: 7,
            visited_at: Utc.with_ymd_and_hms(2026, 12, 2, 10, 30, 5).unwrap(),
            client_ip: Some("203.0.113.0".parse().unwrap()),
            user_agent,
            referrer,
            referrer_host: None,
            browser: Some("Firefox".into()),
            os: None,
            device: Some("Desktop".into()),
            is_bot: true,
            cap_taken: false,
            rule: None,
        }
    }

    #[test]
    fn a_row_has_every_column_in_order() {
        let mut out = Vec::new();
        encode_row(&mut out, 42, &visit(Some("curl/8".into()), None));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "42\t7\t2026-12-02 10:30:05.000000+00\t203.0.113.0\tcurl/8\t\\N\t\\N\tFirefox\t\\N\tDesktop\tt\t\\N\
             \t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
        );
        let mut out = Vec::new();
        let mut ruled = visit(None, None);
        ruled.rule = Some(3);
        encode_row(&mut out, 43, &ruled);
        assert!(String::from_utf8(out).unwrap().contains("\tt\t3\t"));
        let mut out = Vec::new();
        let mut located = visit(None, None);
        located.location = Location {
            country: Some("DE".parse().unwrap()),
            region: Some("Land Berlin".into()),
            city: Some("Berlin".into()),
            latitude: Some(52.5244),
            longitude: Some(13.4105),
            timezone: Some("Europe/Berlin".into()),
        };
        encode_row(&mut out, 44, &located);
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("\tDE\tLand Berlin\tBerlin\t52.5244\t13.4105\tEurope/Berlin\n"));
    }

    proptest! {
        #[test]
        fn text_columns_survive_escaping(
            ua in "\\PC*",
            referrer in any::<String>(),
            city in proptest::option::of(any::<String>()),
            latitude in proptest::option::of(-90.0f64..90.0),
        ) {
            let mut located = visit(Some(ua.clone()), Some(referrer.clone()));
            located.location.city = city.clone();
            located.location.latitude = latitude;
            let mut out = Vec::new();
            encode_row(&mut out, 1, &located);
            prop_assert_eq!(out.last(), Some(&b'\n'));
            let line = &out[..out.len() - 1];
            let columns: Vec<&[u8]> = line.split(|b| *b == b'\t').collect();
            prop_assert_eq!(columns.len(), 18);
            prop_assert_eq!(unescape(columns[4]), Some(ua.replace('\0', "")));
            prop_assert_eq!(unescape(columns[5]), Some(referrer.replace('\0', "")));
            prop_assert_eq!(unescape(columns[14]), city.map(|c| c.replace('\0', "")));
            prop_assert_eq!(
                unescape(columns[15]).map(|n| n.parse::<f64>().unwrap()),
                latitude
            );
        }
    }
}
