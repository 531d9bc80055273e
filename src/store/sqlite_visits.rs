//! The SQLite visit writer's statements. A batch is one transaction of a few multi-row
//! statements (visits, then one `visit_count` update per link, then the rollups, then the
//! total), never a statement per visit: through sqlx every statement is a round trip to the
//! connection's worker thread, and at one per visit that round trip was the whole cost.
//!
//! Rows go in chunks of [`CHUNK_ROWS`], and a last, shorter part as a sum of powers of two, so
//! only a handful of statement shapes exist and each is prepared once per connection (sqlx's
//! statement cache) and reused.

use std::collections::HashSet;
use std::ops::Range;
use std::time::{Duration, Instant};

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::rollup::Rollups;
use super::NewVisit;

/// Rows per statement: 256 visits bind 2 560 values, well under SQLite's 32 766.
const CHUNK_ROWS: usize = 256;

/// How often the writer checkpoints the WAL into the database (see [`checkpoint`]).
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Consecutive ranges covering `0..len`: full chunks of [`CHUNK_ROWS`], then the rest cut into
/// descending powers of two.
fn chunks(len: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while len - start >= CHUNK_ROWS {
        ranges.push(start..start + CHUNK_ROWS);
        start += CHUNK_ROWS;
    }
    let mut size = CHUNK_ROWS / 2;
    while start < len {
        if len - start >= size {
            ranges.push(start..start + size);
            start += size;
        }
        size /= 2;
    }
    ranges
}

/// Inserts the visits and returns their ids in the batch's order.
pub(crate) async fn insert_visits(
    conn: &mut SqliteConnection,
    visits: &[&NewVisit],
) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids = Vec::with_capacity(visits.len());
    for range in chunks(visits.len()) {
        let rows = range.len() as i64;
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO url_visits (url_id, visited_at, client_ip, user_agent, referrer, \
             referrer_host, browser, os, device, is_bot) ",
        );
        query.push_values(&visits[range], |mut row, visit| {
            row.push_bind(visit.url_id)
                .push_bind(visit.visited_at)
                .push_bind(visit.client_ip.map(|ip| ip.to_string()))
                .push_bind(visit.user_agent.as_deref())
                .push_bind(visit.referrer.as_deref())
                .push_bind(visit.referrer_host.as_deref())
                .push_bind(visit.browser.as_deref())
                .push_bind(visit.os.as_deref())
                .push_bind(visit.device.as_deref())
                .push_bind(visit.is_bot);
        });
        let done = query.build().execute(&mut *conn).await?;
        // One statement of one writer into an AUTOINCREMENT table with no insert trigger:
        // its rows get consecutive ids in the order of its VALUES, ending at the last
        // inserted rowid. (RETURNING would say the same, but sqlx hands each returned row
        // from its worker thread to the task one by one, a wake-up per visit.)
        if done.rows_affected() != rows as u64 {
            return Err(sqlx::Error::Protocol(format!(
                "a {rows}-row visit insert stored {} rows",
                done.rows_affected()
            )));
        }
        let last = done.last_insert_rowid();
        ids.extend(last - rows + 1..=last);
    }
    Ok(ids)
}

/// The ids among `url_ids` that still name a URL.
pub(crate) async fn existing_urls(
    conn: &mut SqliteConnection,
    url_ids: &HashSet<i64>,
) -> Result<HashSet<i64>, sqlx::Error> {
    let url_ids: Vec<i64> = url_ids.iter().copied().collect();
    let mut existing = HashSet::with_capacity(url_ids.len());
    for range in chunks(url_ids.len()) {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT id FROM urls WHERE id IN (");
        let mut list = query.separated(", ");
        for id in &url_ids[range] {
            list.push_bind(*id);
        }
        query.push(")");
        let found: Vec<i64> = query.build_query_scalar().fetch_all(&mut *conn).await?;
        existing.extend(found);
    }
    Ok(existing)
}

/// Adds a batch's tallies: each URL's `visit_count` once, each rollup row once, the total once.
pub(crate) async fn add_tallies(
    conn: &mut SqliteConnection,
    rollups: Rollups,
    stored: usize,
) -> Result<(), sqlx::Error> {
    let per_url: Vec<(i64, i64)> = rollups.per_url.into_iter().collect();
    for range in chunks(per_url.len()) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "UPDATE urls SET visit_count = visit_count + d.column2 FROM (",
        );
        query.push_values(&per_url[range], |mut row, (url_id, count)| {
            row.push_bind(*url_id).push_bind(*count);
        });
        query.push(") AS d WHERE urls.id = d.column1");
        query.build().execute(&mut *conn).await?;
    }
    let rows: Vec<_> = rollups.rows.into_iter().collect();
    for range in chunks(rows.len()) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO url_daily_rollups \
             (url_id, day, browser, os, device, referrer_host, visits, bot_visits) ",
        );
        query.push_values(&rows[range], |mut row, (key, tally)| {
            let (url_id, day, browser, os, device, referrer_host) = key;
            row.push_bind(*url_id)
                .push_bind(*day)
                .push_bind(browser.as_str())
                .push_bind(os.as_str())
                .push_bind(device.as_str())
                .push_bind(referrer_host.as_str())
                .push_bind(tally.visits)
                .push_bind(tally.bot_visits);
        });
        query.push(
            " ON CONFLICT (url_id, day, browser, os, device, referrer_host) DO UPDATE SET \
             visits = visits + excluded.visits, bot_visits = bot_visits + excluded.bot_visits",
        );
        query.build().execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE visit_totals SET visits = visits + $1 WHERE shard = 0")
        .bind(stored as i64)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Keeps the WAL bounded under a steady writer. SQLite's automatic checkpoints
/// (`wal_autocheckpoint`) copy pages back but never shrink the file, and a checkpoint cannot
/// finish while a reader still uses old pages; a writer that never pauses can then let the WAL
/// grow without end. The writer calls this after a batch at most every [`CHECKPOINT_EVERY`]: a
/// `PASSIVE` checkpoint (never waits), and when the WAL still holds more than `limit_frames`
/// frames, a `TRUNCATE` one that waits for readers no longer than `wait` (its busy timeout)
/// and otherwise is tried again next time. A WAL under the limit is left at its size: SQLite
/// writes it again from its start once a checkpoint has caught up, which costs less than
/// growing a truncated file anew.
pub(crate) async fn checkpoint(
    conn: &mut SqliteConnection,
    limit_frames: i64,
    wait: Duration,
    restore: Duration,
) {
    let started = Instant::now();
    let result = async {
        let (_, log, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *conn)
            .await?;
        if log <= limit_frames {
            return Ok(None);
        }
        sqlx::query(&format!("PRAGMA busy_timeout = {}", wait.as_millis()))
            .execute(&mut *conn)
            .await?;
        let outcome: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *conn)
                .await;
        sqlx::query(&format!("PRAGMA busy_timeout = {}", restore.as_millis()))
            .execute(&mut *conn)
            .await?;
        outcome.map(|(busy, _, _)| Some((log, busy)))
    }
    .await;
    match result {
        Ok(None) => {}
        Ok(Some((frames, busy))) => tracing::debug!(
            frames,
            truncated = busy == 0,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "WAL over its limit: TRUNCATE checkpoint"
        ),
        Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chunks_cover_every_row_once_in_few_shapes(len in 0usize..5_000) {
            let ranges = chunks(len);
            let mut next = 0;
            for range in &ranges {
                prop_assert_eq!(range.start, next);
                let size = range.len();
                prop_assert!(size == CHUNK_ROWS || (size.is_power_of_two() && size < CHUNK_ROWS));
                next = range.end;
            }
            prop_assert_eq!(next, len);
            // At most one statement of each shorter size.
            let short: Vec<usize> = ranges.iter().map(Range::len).filter(|s| *s < CHUNK_ROWS).collect();
            let distinct: HashSet<usize> = short.iter().copied().collect();
            prop_assert_eq!(short.len(), distinct.len());
        }
    }
}
