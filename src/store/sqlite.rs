//! What only SQLite does: the file's connection set-up (`PRAGMA`s), the visit writer's thread
//! and its WAL checkpoints, an import batch row by row in one transaction, and
//! `PRAGMA data_version` to tell whether another connection wrote.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, QueryBuilder, Sqlite};

use super::sqlite_reader::SqliteReader;
use super::sqlite_writer::{self, SqliteWriter, WriterSettings};
use super::{ImportMark, NewUrl, NewVisit, RollupCount, StoreError};
use crate::config::DatabaseSettings;
use crate::domain::{MaxVisits, PasswordHash, Rules, Slug};

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub(super) const MIGRATIONS_TABLE_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM sqlite_master \
     WHERE type = 'table' AND name = '_sqlx_migrations')";

/// The zero-setup backend: one file, created on first run.
pub(super) struct Lite {
    pub pool: SqlitePool,
    /// The visit writer's thread and connection.
    writer: SqliteWriter,
    /// Visits read by id in bulk, through a connection of its own.
    pub reader: SqliteReader,
    /// When the visit writer last started a WAL checkpoint, and whether one runs.
    last_checkpoint: Arc<Mutex<Instant>>,
    checkpointing: Arc<AtomicBool>,
    /// A connection of its own for `PRAGMA data_version` (which only changes for commits of
    /// *other* connections), opened on first use, and the value it last read.
    watch: tokio::sync::Mutex<(Option<SqliteConnection>, i64)>,
    options: SqliteConnectOptions,
}

/// The WAL stays below this size once SQLite resets it (`journal_size_limit`), and the writer
/// truncates it when it has grown past it (see `sqlite_writer`).
const JOURNAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;
/// SQLite's default page size, which kurz keeps: one WAL frame holds one page.
const PAGE_SIZE: u64 = 4096;
/// Pages SQLite keeps in memory per connection (64 MiB); the writer's random updates of the
/// rollups, counts and the per-link index stay in memory instead of being read again.
const CACHE_PAGES: u64 = 16 * 1024;
/// Reads through a memory map of the database file (up to 1 GiB) instead of a system call
/// per page.
const MMAP_SIZE: u64 = 1024 * 1024 * 1024;

/// The `PRAGMA`s of every connection, the pool's and the visit writer's.
fn connection_pragmas() -> Vec<(&'static str, String)> {
    vec![
        ("journal_mode", "WAL".into()),
        // WAL with synchronous = NORMAL: a commit does not wait for fsync, only checkpoints
        // do. A crash of kurz loses nothing committed; a power cut or an OS crash may lose the
        // last transactions (docs/configuration.md, "SQLite").
        ("synchronous", "NORMAL".into()),
        ("foreign_keys", "ON".into()),
        // SQLite's own checkpoint after a commit (the committing connection copies the WAL
        // back and syncs) only past 64 MiB: the visit writer's checkpoints keep it below that,
        // without making the writer wait.
        (
            "wal_autocheckpoint",
            (JOURNAL_SIZE_LIMIT / PAGE_SIZE).to_string(),
        ),
        ("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string()),
        ("cache_size", CACHE_PAGES.to_string()),
        ("mmap_size", MMAP_SIZE.to_string()),
    ]
}

/// Turns off SQLite's memory statistics, once per process, before the first connection
/// initialises the library. With them on (SQLite's default), every `sqlite3_malloc` and
/// `sqlite3_free` takes one process-wide mutex; the visit writer's thread and the pool's
/// worker threads then wait on each other's allocations: a profile of the webhook deliverer
/// reading a batch of visits spent about a quarter of its time in that mutex's futex calls
/// (sqlx copies each column value with `sqlite3_value_dup`). kurz reads no memory statistics.
fn tune_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` is called before any connection of this process is opened
        // (every one is opened after this, in `Lite::connect`), as SQLite requires; once the
        // library is initialised it only answers SQLITE_MISUSE and changes nothing.
        let code = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::os::raw::c_int,
            )
        };
        if code != rusqlite::ffi::SQLITE_OK {
            tracing::debug!(code, "SQLite's memory statistics stay on");
        }
    });
}

impl Lite {
    /// `outbox` is notified when the visit writer queues webhook deliveries.
    pub async fn connect(
        url: &str,
        settings: &DatabaseSettings,
        outbox: Arc<tokio::sync::Notify>,
    ) -> Result<Self, StoreError> {
        tune_library();
        let busy_timeout = Duration::from_secs(settings.acquire_timeout_secs.max(1));
        let pragmas = connection_pragmas();
        let options = pragmas.iter().fold(
            SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .busy_timeout(busy_timeout),
            |options, (name, value)| options.pragma(*name, value.clone()),
        );
        let path = options.get_filename().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                anyhow::anyhow!("cannot create the data directory {}: {e}", parent.display())
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections.get())
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_with(options.clone())
            .await?;
        let reader = SqliteReader::new(path.clone(), busy_timeout, pragmas.clone());
        let writer = SqliteWriter::start(
            &path,
            WriterSettings {
                busy_timeout,
                pragmas,
                journal_size_limit: JOURNAL_SIZE_LIMIT,
                outbox,
            },
        )?;
        Ok(Self {
            pool,
            writer,
            reader,
            last_checkpoint: Arc::new(Mutex::new(Instant::now())),
            checkpointing: Arc::new(AtomicBool::new(false)),
            watch: tokio::sync::Mutex::new((None, 0)),
            options,
        })
    }

    pub async fn record_visits(&self, visits: &[NewVisit]) -> Result<Vec<i64>, StoreError> {
        let ids = self.writer.record(visits).await?;
        self.checkpoint_in_background();
        Ok(ids)
    }

    /// Imported history, through the visit writer's thread (see `SqliteWriter::import`).
    pub async fn import_history(
        &self,
        source: &str,
        visits: &[NewVisit],
        counts: &[RollupCount],
        marks: &[ImportMark],
    ) -> Result<u64, StoreError> {
        let added = self.writer.import(source, visits, counts, marks).await?;
        self.checkpoint_in_background();
        Ok(added)
    }

    /// Whether any other connection committed since the last call (always true on the first
    /// call): one `PRAGMA`, no table read.
    pub async fn data_version_changed(&self) -> Result<bool, StoreError> {
        let mut watch = self.watch.lock().await;
        let (conn, last) = &mut *watch;
        let conn = match conn {
            Some(conn) => conn,
            None => conn.insert(self.options.connect().await?),
        };
        let version: i64 = match sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await
        {
            Ok(version) => version,
            Err(error) => {
                watch.0 = None;
                return Err(error.into());
            }
        };
        let changed = version != *last;
        *last = version;
        Ok(changed)
    }

    /// Checkpoints the WAL on a connection of its own, at most every
    /// [`sqlite_writer::CHECKPOINT_EVERY`] and one at a time, while the visit writer goes on
    /// with its next batch: a checkpoint copies pages into the database file and syncs it,
    /// which the writer should not wait for (SQLite lets a writer append to the WAL while a
    /// `PASSIVE` checkpoint runs).
    fn checkpoint_in_background(&self) {
        {
            let mut last = self
                .last_checkpoint
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.elapsed() < sqlite_writer::CHECKPOINT_EVERY {
                return;
            }
            *last = Instant::now();
        }
        if self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, running) = (self.pool.clone(), self.checkpointing.clone());
        tokio::spawn(async move {
            match pool.acquire().await {
                Ok(mut conn) => sqlite_writer::checkpoint(&mut conn).await,
                Err(error) => tracing::warn!(%error, "no connection for a WAL checkpoint"),
            }
            running.store(false, Ordering::Release);
        });
    }
}

/// Link rows per multi-row `INSERT` of an import: 16 values each, well under SQLite's 32 766
/// bound variables.
const IMPORT_ROWS_PER_STATEMENT: usize = 500;

/// In the caller's transaction, a multi-row `INSERT` per 500 links (one round trip to sqlx's
/// connection thread each, not two per link) and one for the change log rows of those created;
/// existing slugs are skipped. The ids and slugs of the links created.
pub(super) async fn import_urls(
    tx: &mut SqliteConnection,
    urls: &[NewUrl],
    origin: &str,
) -> Result<Vec<(i64, Slug)>, StoreError> {
    let now = chrono::Utc::now();
    let mut created = Vec::new();
    for chunk in urls.chunks(IMPORT_ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO urls (slug, target, target_host, title, crawlable, created_at, \
                 updated_at, created_by, redirect_status, valid_since, valid_until, max_visits, \
                 human_visits, rules, forward_query, password_hash) ",
        );
        insert.push_values(chunk, |mut row, url| {
            row.push_bind(url.slug.as_str())
                .push_bind(url.target.as_str())
                .push_bind(url.target.host_key())
                .push_bind(url.title.as_ref().map(|t| t.as_str()))
                .push_bind(url.crawlable)
                .push_bind(url.created_at)
                .push_bind(url.created_at)
                .push_bind(url.created_by)
                .push_bind(url.redirect_status.map(super::sql::stored_status))
                .push_bind(url.valid_since)
                .push_bind(url.valid_until)
                .push_bind(url.max_visits.map(MaxVisits::get))
                .push_bind(url.human_visits)
                .push_bind(url.rules.as_ref().map(Rules::to_stored))
                .push_bind(url.forward_query)
                .push_bind(url.password_hash.as_ref().map(PasswordHash::as_str));
        });
        insert.push(" ON CONFLICT (slug) DO NOTHING RETURNING id, slug");
        let rows: Vec<(i64, String)> = insert.build_query_as().fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            continue;
        }
        let mut log =
            QueryBuilder::<Sqlite>::new("INSERT INTO link_changes (slug, changed_at, origin) ");
        log.push_values(&rows, |mut row, (_, slug)| {
            row.push_bind(slug.as_str())
                .push_bind(now)
                .push_bind(origin);
        });
        log.build().execute(&mut *tx).await?;
        created.extend(
            rows.into_iter()
                .map(|(id, slug)| (id, Slug::from_stored(slug))),
        );
    }
    Ok(created)
}
