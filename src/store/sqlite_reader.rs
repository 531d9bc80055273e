//! The SQLite visit reader: visits read by id in bulk (a webhook delivery's batch, the live
//! relay's) through a rusqlite connection of its own, on a blocking thread.
//!
//! Through sqlx each row crosses from the connection's worker thread to the task on its own,
//! a wake-up and a copy of every column (`sqlite3_value_dup`) per row: a profile of the webhook
//! deliverer reading its 500-visit batches spent over a quarter of its time there. Here the
//! batch is read in one go, one statement kept prepared (the ids passed as one JSON array).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::rows::{LocationRow, VisitRow};
use super::sqlite_writer;
use super::StoreError;

/// The visits whose ids are in the JSON array `?1`, oldest first, with their URL's slug and
/// creator: `SqlStore::visit_columns` for SQLite.
const VISITS_BY_IDS: &str = "SELECT v.id, v.url_id, u.slug, v.visited_at, v.client_ip, \
     v.user_agent, v.referrer, v.referrer_host, v.browser, v.os, v.device, v.is_bot, v.rule, \
     v.country, v.region, v.city, v.latitude, v.longitude, v.timezone, u.created_by \
     FROM url_visits v JOIN urls u ON u.id = v.url_id \
     WHERE v.id IN (SELECT value FROM json_each(?1)) ORDER BY v.id";

/// The reader's connection, opened on first use (a server with no webhook and no live viewer
/// never opens it) and kept.
#[derive(Clone)]
pub(crate) struct SqliteReader {
    path: PathBuf,
    busy_timeout: Duration,
    pragmas: Vec<(&'static str, String)>,
    conn: Arc<Mutex<Option<Connection>>>,
}

impl SqliteReader {
    pub fn new(
        path: PathBuf,
        busy_timeout: Duration,
        pragmas: Vec<(&'static str, String)>,
    ) -> Self {
        Self {
            path,
            busy_timeout,
            pragmas,
            conn: Arc::new(Mutex::new(None)),
        }
    }

    /// The visits with these ids that still exist, oldest first.
    pub async fn visits_by_ids(&self, ids: &[i64]) -> Result<Vec<VisitRow>, StoreError> {
        let reader = self.clone();
        let list = serde_json::to_string(ids)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("cannot list visit ids: {e}")))?;
        tokio::task::spawn_blocking(move || reader.read(&list))
            .await
            .map_err(|e| StoreError::Other(anyhow::anyhow!("the visit reader stopped: {e}")))?
            .map_err(|e| StoreError::Other(anyhow::anyhow!("visits not read: {e}")))
    }

    fn read(&self, ids: &str) -> rusqlite::Result<Vec<VisitRow>> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if conn.is_none() {
            *conn = Some(sqlite_writer::open(
                &self.path,
                self.busy_timeout,
                &self.pragmas,
            )?);
        }
        let Some(conn) = conn.as_ref() else {
            return Ok(Vec::new());
        };
        let mut select = conn.prepare_cached(VISITS_BY_IDS)?;
        let rows = select.query_map([ids], |row| {
            let visited_at: String = row.get(3)?;
            Ok(VisitRow {
                id: row.get(0)?,
                url_id: row.get(1)?,
                slug: row.get(2)?,
                visited_at: time(&visited_at).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?,
                client_ip: row.get(4)?,
                user_agent: row.get(5)?,
                referrer: row.get(6)?,
                referrer_host: row.get(7)?,
                browser: row.get(8)?,
                os: row.get(9)?,
                device: row.get(10)?,
                is_bot: row.get(11)?,
                rule: row.get(12)?,
                location: LocationRow {
                    country: row.get(13)?,
                    region: row.get(14)?,
                    city: row.get(15)?,
                    latitude: row.get(16)?,
                    longitude: row.get(17)?,
                    timezone: row.get(18)?,
                },
                url_created_by: row.get(19)?,
            })
        })?;
        rows.collect()
    }
}

/// A time as sqlx and the visit writer store it (RFC 3339), or as SQLite's own functions write
/// it (`YYYY-MM-DD HH:MM:SS`, UTC).
fn time(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .map(|at| at.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn stored_times_are_read_in_either_form() {
        let at = time("2026-12-02T16:06:20.852341200+00:00").unwrap();
        assert_eq!(at.timestamp_subsec_nanos(), 852_341_200);
        assert_eq!(
            time("2026-12-02 16:06:20").unwrap(),
            at.with_nanosecond(0).unwrap()
        );
        assert!(time("yesterday").is_err());
    }
}
