//! The SQLite visit writer: a thread of its own with a connection of its own (rusqlite), while
//! sqlx's pool keeps serving every read and every other write.
//!
//! Through sqlx every statement is a round trip between the async task and the connection's
//! worker thread, two thread wake-ups each: a profile of the batched writer showed 44% of its
//! CPU time in those switches. Here a batch crosses threads once: the thread writes it in one
//! `BEGIN IMMEDIATE` transaction through prepared statements kept across batches (one row at a
//! time, which SQLite steps in microseconds), adds each URL's visits to its `visit_count` (and people's to `human_visits`), each
//! rollup row once and the batch to `visit_totals`, and answers with the ids.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::SecondsFormat;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};
use tokio::sync::oneshot;

use super::rollup::Rollups;
use super::sql::MOVE_IMPORT_MARK;
use super::webhooks::enqueue_visits_sqlite_writer;
use super::{ImportMark, NewVisit, RollupCount, StoreError};

/// How often a `PASSIVE` checkpoint runs on a pool connection (see [`checkpoint`]).
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// How long the writer's truncation of an oversized WAL waits for readers before trying again
/// after the next batch.
const TRUNCATE_WAIT: Duration = Duration::from_millis(200);

/// How the writer's connection is set up: as the pool's connections are.
#[derive(Debug, Clone)]
pub(crate) struct WriterSettings {
    pub busy_timeout: Duration,
    /// The `PRAGMA`s every connection gets (`Lite::connect` in `sqlite.rs`).
    pub pragmas: Vec<(&'static str, String)>,
    /// The WAL's size past which the writer truncates it.
    pub journal_size_limit: u64,
    /// Notified after a batch queued webhook deliveries.
    pub outbox: std::sync::Arc<tokio::sync::Notify>,
}

enum Job {
    /// A batch of live clicks.
    Record {
        visits: Vec<NewVisit>,
        done: oneshot::Sender<Result<Vec<i64>, String>>,
    },
    /// Imported history (see [`SqliteWriter::import`]).
    Import {
        history: History,
        done: oneshot::Sender<Result<u64, String>>,
    },
}

/// Imported visits and counted clicks, with the import marks they move.
struct History {
    source: String,
    visits: Vec<NewVisit>,
    counts: Vec<RollupCount>,
    marks: Vec<ImportMark>,
}

/// The writer thread's handle. The thread ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

impl SqliteWriter {
    /// Opens the writer's connection to the database file at `path` (which the pool has
    /// created) and starts its thread.
    pub fn start(path: &Path, settings: WriterSettings) -> Result<Self, StoreError> {
        let conn = open(path, settings.busy_timeout, &settings.pragmas).map_err(|error| {
            StoreError::Other(
                anyhow::Error::new(error).context("cannot open the SQLite visit writer"),
            )
        })?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let wal = wal_path(path);
        std::thread::Builder::new()
            .name("kurz-sqlite-writer".into())
            .spawn(move || run(conn, queue, &wal, &settings))
            .map_err(|error| {
                StoreError::Other(anyhow::anyhow!(
                    "cannot start the SQLite visit writer: {error}"
                ))
            })?;
        Ok(Self { jobs })
    }

    /// Writes a batch; the ids of the visits stored, in the batch's order.
    pub async fn record(&self, visits: &[NewVisit]) -> Result<Vec<i64>, StoreError> {
        let (done, answer) = oneshot::channel();
        let job = Job::Record {
            visits: visits.to_vec(),
            done,
        };
        let stopped = || StoreError::Other(anyhow::anyhow!("the SQLite visit writer stopped"));
        self.jobs.send(job).map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(|error| StoreError::Other(anyhow::anyhow!("visit batch not written: {error}")))
    }

    /// Writes imported history in one transaction, as a live batch is written but without
    /// webhook deliveries, and moves the import marks in it; how many clicks it added.
    pub async fn import(
        &self,
        source: &str,
        visits: &[NewVisit],
        counts: &[RollupCount],
        marks: &[ImportMark],
    ) -> Result<u64, StoreError> {
        let (done, answer) = oneshot::channel();
        let job = Job::Import {
            history: History {
                source: source.to_owned(),
                visits: visits.to_vec(),
                counts: counts.to_vec(),
                marks: marks.to_vec(),
            },
            done,
        };
        let stopped = || StoreError::Other(anyhow::anyhow!("the SQLite visit writer stopped"));
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(|error| {
            StoreError::Other(anyhow::anyhow!("import batch not written: {error}"))
        })
    }
}

fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// A rusqlite connection to the database file at `path`, set up as the pool's are (the
/// visit writer's, and the visit reader's in `sqlite_reader`).
pub(super) fn open(
    path: &Path,
    busy_timeout: Duration,
    pragmas: &[(&'static str, String)],
) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    for (name, value) in pragmas {
        conn.pragma_update(None, name, value)?;
    }
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

fn run(mut conn: Connection, jobs: mpsc::Receiver<Job>, wal: &Path, settings: &WriterSettings) {
    loop {
        match jobs.recv_timeout(CHECKPOINT_EVERY) {
            Ok(Job::Record { visits, done }) => {
                let result = write_batch(&mut conn, &visits, &settings.outbox)
                    .map_err(|error| error.to_string());
                let _ = done.send(result);
            }
            Ok(Job::Import { history, done }) => {
                let _ = done.send(write_history(&mut conn, &history).map_err(|e| e.to_string()));
            }
            // Idle: the WAL is still watched, since every other write (the API's, imports)
            // grows it too.
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        // Neither a writer that never pauses nor a stream of small transactions leaves SQLite
        // a moment to start the WAL over, so past its limit the writer truncates it itself,
        // between two batches or every CHECKPOINT_EVERY while idle.
        if std::fs::metadata(wal).is_ok_and(|file| file.len() > settings.journal_size_limit) {
            truncate_wal(&conn, settings.busy_timeout);
        }
    }
}

fn write_batch(
    conn: &mut Connection,
    visits: &[NewVisit],
    outbox: &tokio::sync::Notify,
) -> rusqlite::Result<Vec<i64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Fast path: every URL still exists, and the foreign key is the only check. A URL
    // deleted since its click fails it; then the batch is written again without its visits,
    // which count nowhere.
    match insert_visits(&tx, visits.iter()) {
        Ok(ids) => {
            add_tallies(&tx, Rollups::of(visits))?;
            let queued = enqueue_visits_sqlite_writer(&tx, &ids)?;
            tx.commit()?;
            wake(outbox, queued);
            Ok(ids)
        }
        Err(error) if is_foreign_key_violation(&error) => {
            drop(tx);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existing = existing_urls(&tx, visits)?;
            let kept: Vec<&NewVisit> = visits
                .iter()
                .filter(|v| existing.contains(&v.url_id))
                .collect();
            let ids = insert_visits(&tx, kept.iter().copied())?;
            add_tallies(&tx, Rollups::of(kept.iter().copied()))?;
            let queued = enqueue_visits_sqlite_writer(&tx, &ids)?;
            tx.commit()?;
            wake(outbox, queued);
            Ok(ids)
        }
        Err(other) => Err(other),
    }
}

fn write_history(conn: &mut Connection, history: &History) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut total = 0;
    if !history.visits.is_empty() {
        let rollups = Rollups::of(&history.visits);
        insert_visits(&tx, history.visits.iter())?;
        total += rollups.total;
        add_tallies(&tx, rollups)?;
    }
    if !history.counts.is_empty() {
        let rollups = Rollups::of_counts(&history.counts);
        total += rollups.total;
        add_tallies(&tx, rollups)?;
    }
    let mut mark = tx.prepare_cached(MOVE_IMPORT_MARK)?;
    for moved in &history.marks {
        mark.execute(params![
            moved.visits_through,
            history.source,
            moved.source_id
        ])?;
    }
    drop(mark);
    tx.commit()?;
    Ok(total as u64)
}

/// Wakes the webhook deliverer when the batch queued deliveries.
fn wake(outbox: &tokio::sync::Notify, queued: usize) {
    if queued > 0 {
        outbox.notify_one();
    }
}

fn is_foreign_key_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.code == ErrorCode::ConstraintViolation
            && failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Times as sqlx writes them on SQLite (RFC 3339, `+00:00`), so that both read them alike.
pub(crate) fn time_text(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn insert_visits<'a>(
    tx: &rusqlite::Transaction<'_>,
    visits: impl Iterator<Item = &'a NewVisit>,
) -> rusqlite::Result<Vec<i64>> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO url_visits (url_id, visited_at, client_ip, user_agent, referrer, \
         referrer_host, browser, os, device, is_bot, rule, country, region, city, latitude, \
         longitude, timezone) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut ids = Vec::with_capacity(visits.size_hint().0);
    for visit in visits {
        insert.execute(params![
            visit.url_id,
            time_text(&visit.visited_at),
            visit.client_ip.map(|ip| ip.to_string()),
            visit.user_agent,
            visit.referrer,
            visit.referrer_host,
            visit.browser,
            visit.os,
            visit.device,
            visit.is_bot,
            visit.rule,
            visit.location.country.as_ref().map(|c| c.as_str()),
            visit.location.region,
            visit.location.city,
            visit.location.latitude.filter(|n| n.is_finite()),
            visit.location.longitude.filter(|n| n.is_finite()),
            visit.location.timezone,
        ])?;
        ids.push(tx.last_insert_rowid());
    }
    Ok(ids)
}

/// The ids among the batch's URLs that still name a URL.
fn existing_urls(
    tx: &rusqlite::Transaction<'_>,
    visits: &[NewVisit],
) -> rusqlite::Result<HashSet<i64>> {
    let url_ids: HashSet<i64> = visits.iter().map(|v| v.url_id).collect();
    let mut exists = tx.prepare_cached("SELECT 1 FROM urls WHERE id = ?1")?;
    let mut found = HashSet::with_capacity(url_ids.len());
    for id in url_ids {
        if exists.exists([id])? {
            found.insert(id);
        }
    }
    Ok(found)
}

/// Adds a batch's tallies, live or imported: each URL's `visit_count` once, each rollup row
/// once, the total once.
fn add_tallies(tx: &rusqlite::Transaction<'_>, rollups: Rollups) -> rusqlite::Result<()> {
    let mut count = tx.prepare_cached(
        "UPDATE urls SET visit_count = visit_count + ?1, human_visits = human_visits + ?2, \
         bot_visits = bot_visits + ?3 WHERE id = ?4",
    )?;
    // Each link's tags count its visits too (`tags.visits`, see the tags migration).
    let mut tagged = tx.prepare_cached(
        "UPDATE tags SET visits = visits + ?1, bot_visits = bot_visits + ?2 \
         WHERE id IN (SELECT tag_id FROM url_tags WHERE url_id = ?3)",
    )?;
    for (url_id, tally) in rollups.per_url {
        count.execute(params![tally.visits, tally.people, tally.bots, url_id])?;
        tagged.execute(params![tally.visits, tally.bots, url_id])?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO url_daily_rollups \
         (url_id, day, browser, os, device, referrer_host, visits, bot_visits) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (url_id, day, browser, os, device, referrer_host) DO UPDATE SET \
         visits = visits + excluded.visits, bot_visits = bot_visits + excluded.bot_visits",
    )?;
    for ((url_id, day, browser, os, device, referrer_host), tally) in rollups.rows {
        upsert.execute(params![
            url_id,
            day.format("%F").to_string(),
            browser,
            os,
            device,
            referrer_host,
            tally.visits,
            tally.bot_visits,
        ])?;
    }
    if !rollups.rules.is_empty() {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO url_rule_rollups (url_id, day, rule, visits, bot_visits) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (url_id, day, rule) DO UPDATE SET \
             visits = visits + excluded.visits, bot_visits = bot_visits + excluded.bot_visits",
        )?;
        for ((url_id, day, rule), tally) in rollups.rules {
            upsert.execute(params![
                url_id,
                day.format("%F").to_string(),
                rule,
                tally.visits,
                tally.bot_visits,
            ])?;
        }
    }
    if !rollups.places.is_empty() {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO url_geo_rollups (url_id, day, country, city, visits, bot_visits) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (url_id, day, country, city) DO UPDATE SET \
             visits = visits + excluded.visits, bot_visits = bot_visits + excluded.bot_visits",
        )?;
        for ((url_id, day, country, city), tally) in rollups.places {
            upsert.execute(params![
                url_id,
                day.format("%F").to_string(),
                country,
                city,
                tally.visits,
                tally.bot_visits,
            ])?;
        }
    }
    let mut daily = tx.prepare_cached(
        "INSERT INTO daily_visit_totals (day, shard, visits, bot_visits) VALUES (?1, 0, ?2, ?3) \
         ON CONFLICT (day, shard) DO UPDATE SET \
         visits = visits + excluded.visits, bot_visits = bot_visits + excluded.bot_visits",
    )?;
    for (day, tally) in &rollups.per_day {
        daily.execute(params![
            day.format("%F").to_string(),
            tally.visits,
            tally.bot_visits
        ])?;
    }
    tx.prepare_cached("UPDATE visit_totals SET visits = visits + ?1 WHERE shard = 0")?
        .execute([rollups.total])?;
    Ok(())
}

/// Keeps the WAL bounded. SQLite only starts a WAL over when a write begins after a checkpoint
/// has copied every frame while no reader still uses it, so under a steady writer, or many
/// small transactions with readers in between, it grows without end (919 MB after a
/// benchmark). Called once the file is over its limit: a `TRUNCATE` checkpoint, which waits
/// for readers and writers no longer than [`TRUNCATE_WAIT`] and otherwise is tried again
/// later.
fn truncate_wal(conn: &Connection, busy_timeout: Duration) {
    let started = Instant::now();
    let result = conn.busy_timeout(TRUNCATE_WAIT).and_then(|()| {
        let outcome = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        });
        conn.busy_timeout(busy_timeout)?;
        outcome
    });
    match result {
        Ok((busy, frames)) => tracing::debug!(
            frames,
            truncated = busy == 0,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "WAL over its limit: TRUNCATE checkpoint"
        ),
        Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
    }
}

/// A `PASSIVE` checkpoint: copies the WAL's pages back into the database file as far as no
/// reader needs them, never waiting. Run on a pool connection while the writer goes on, at
/// most every [`CHECKPOINT_EVERY`], so that SQLite can start the WAL over (from its first
/// frame) whenever the writer pauses.
pub(crate) async fn checkpoint(conn: &mut sqlx::SqliteConnection) {
    match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await
    {
        Ok((_, log, checkpointed)) => tracing::trace!(log, checkpointed, "WAL checkpoint"),
        Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
    }
}
