//! What only PostgreSQL does: its connection pool, `UNNEST` for an import batch, `COPY` and
//! array upserts for a visit batch (see `postgres_visits`), and the editor's visit list merged
//! from each link's newest visits.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder};

use super::postgres_visits;
use super::rollup::Rollups;
use super::rows::{push_visit_page, VisitRow};
use super::{ImportMark, NewUrl, NewVisit, PageRequest, RollupCount, StoreError, VisitFilter};
use crate::config::DatabaseSettings;
use crate::domain::{MaxVisits, PasswordHash, Rules, Slug};

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub(super) const MIGRATIONS_TABLE_EXISTS: &str =
    "SELECT to_regclass('_sqlx_migrations') IS NOT NULL";

/// Up to this many links of one API key, an editor's visit list takes each link's newest
/// visits from the `(url_id, id)` index and merges them; beyond it, the links' visits are
/// dense enough that walking all visits newest first finds a page quickly.
const OWNER_LINKS_FOR_MERGE: i64 = 1_000;

pub(super) struct Pg {
    pub pool: PgPool,
}

impl Pg {
    /// Opens a pool that connects on first use, so a server can start (and say it is not
    /// ready) while PostgreSQL is still down.
    pub fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("kurz");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.get())
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

/// One statement for the whole batch, its change log rows included; existing slugs are
/// skipped. The ids and slugs of the links created.
pub(super) async fn import_urls(
    conn: &mut PgConnection,
    urls: &[NewUrl],
    origin: &str,
) -> Result<Vec<(i64, Slug)>, StoreError> {
    let slugs: Vec<&str> = urls.iter().map(|u| u.slug.as_str()).collect();
    let targets: Vec<&str> = urls.iter().map(|u| u.target.as_str()).collect();
    let hosts: Vec<String> = urls.iter().map(|u| u.target.host_key()).collect();
    let titles: Vec<Option<&str>> = urls
        .iter()
        .map(|u| u.title.as_ref().map(|t| t.as_str()))
        .collect();
    let crawlable: Vec<bool> = urls.iter().map(|u| u.crawlable).collect();
    let times: Vec<DateTime<Utc>> = urls.iter().map(|u| u.created_at).collect();
    let owners: Vec<Option<i64>> = urls.iter().map(|u| u.created_by).collect();
    let statuses: Vec<Option<i16>> = urls
        .iter()
        .map(|u| u.redirect_status.map(super::sql::stored_status))
        .collect();
    let since: Vec<Option<DateTime<Utc>>> = urls.iter().map(|u| u.valid_since).collect();
    let until: Vec<Option<DateTime<Utc>>> = urls.iter().map(|u| u.valid_until).collect();
    let caps: Vec<Option<i64>> = urls
        .iter()
        .map(|u| u.max_visits.map(MaxVisits::get))
        .collect();
    let people: Vec<i64> = urls.iter().map(|u| u.human_visits).collect();
    let rules: Vec<Option<String>> = urls
        .iter()
        .map(|u| u.rules.as_ref().map(Rules::to_stored))
        .collect();
    let forward: Vec<bool> = urls.iter().map(|u| u.forward_query).collect();
    let hashes: Vec<Option<&str>> = urls
        .iter()
        .map(|u| u.password_hash.as_ref().map(PasswordHash::as_str))
        .collect();
    let created: Vec<(i64, String)> = sqlx::query_as(
        "WITH created AS ( \
             INSERT INTO urls (slug, target, target_host, title, crawlable, created_at, \
                 updated_at, created_by, redirect_status, valid_since, valid_until, max_visits, \
                 human_visits, rules, forward_query, password_hash) \
             SELECT t.slug, t.target, t.host, t.title, t.crawlable, t.created_at, t.created_at, \
                 t.created_by, t.redirect_status, t.valid_since, t.valid_until, t.max_visits, \
                 t.human_visits, t.rules, t.forward_query, t.password_hash \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[], \
                         $6::text[], $7::bigint[], $10::smallint[], $11::timestamptz[], \
                         $12::timestamptz[], $13::bigint[], $14::bigint[], $15::text[], \
                         $16::bool[], $17::text[]) \
                 WITH ORDINALITY AS t(slug, target, title, crawlable, created_at, host, \
                                      created_by, redirect_status, valid_since, valid_until, \
                                      max_visits, human_visits, rules, forward_query, \
                                      password_hash, position) \
             ORDER BY t.position \
             ON CONFLICT (slug) DO NOTHING \
             RETURNING id, slug), \
         logged AS ( \
             INSERT INTO link_changes (slug, changed_at, origin) \
             SELECT slug, $8, $9 FROM created) \
         SELECT id, slug FROM created",
    )
    .bind(&slugs)
    .bind(&targets)
    .bind(&titles)
    .bind(&crawlable)
    .bind(&times)
    .bind(&hosts)
    .bind(&owners)
    .bind(Utc::now())
    .bind(origin)
    .bind(&statuses)
    .bind(&since)
    .bind(&until)
    .bind(&caps)
    .bind(&people)
    .bind(&rules)
    .bind(&forward)
    .bind(&hashes)
    .fetch_all(conn)
    .await?;
    Ok(created
        .into_iter()
        .map(|(id, slug)| (id, Slug::from_stored(slug)))
        .collect())
}

/// The rows by `COPY`, then each URL's count, each rollup row and the total once, in one
/// transaction.
pub(super) async fn record_visits(
    pool: &PgPool,
    visits: &[NewVisit],
    outbox: &tokio::sync::Notify,
) -> Result<Vec<i64>, StoreError> {
    let mut tx = crate::store::pool::begin(pool).await?;
    // Fast path: every URL still exists, and the foreign key is the only check. A URL
    // deleted since its click fails it; then the batch is written again without its
    // visits, which count nowhere.
    let all: Vec<&NewVisit> = visits.iter().collect();
    let (stored, visit_ids) = match postgres_visits::copy_visits(&mut tx, &all).await {
        Ok(ids) => (all, ids),
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            tx.rollback().await?;
            tx = crate::store::pool::begin(pool).await?;
            let existing = postgres_visits::existing_urls(&mut tx, visits).await?;
            let kept: Vec<&NewVisit> = visits
                .iter()
                .filter(|v| existing.contains(&v.url_id))
                .collect();
            let ids = postgres_visits::copy_visits(&mut tx, &kept).await?;
            (kept, ids)
        }
        Err(other) => return Err(other.into()),
    };
    add_tallies(&mut tx, Rollups::of(stored.iter().copied())).await?;
    // The batch for the webhooks subscribed to visits: one statement, finding none usually.
    let queued = super::webhooks::enqueue_visits_postgres(&mut tx, &visit_ids).await?;
    tx.commit().await?;
    if queued > 0 {
        outbox.notify_one();
    }
    Ok(visit_ids)
}

/// Imported history in one transaction (`Store::import_visits`/`import_rollups`): the visit
/// rows by `COPY`, the same tallies as a live batch, the marks moved; no webhook deliveries
/// and no live stream (history is not news). The commit is not waited for on disk
/// (`synchronous_commit = off`): a crash loses at most the last batches, and their marks with
/// them, so running the import again brings them back.
pub(super) async fn import_history(
    pool: &PgPool,
    source: &str,
    visits: &[NewVisit],
    counts: &[RollupCount],
    marks: &[ImportMark],
) -> Result<u64, StoreError> {
    let mut tx = crate::store::pool::begin(pool).await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    let mut total = 0;
    if !visits.is_empty() {
        let all: Vec<&NewVisit> = visits.iter().collect();
        postgres_visits::copy_visits(&mut tx, &all).await?;
        let rollups = Rollups::of(visits);
        total += rollups.total;
        add_tallies(&mut tx, rollups).await?;
    }
    if !counts.is_empty() {
        let rollups = Rollups::of_counts(counts);
        total += rollups.total;
        add_tallies(&mut tx, rollups).await?;
    }
    for mark in marks {
        sqlx::query(super::sql::MOVE_IMPORT_MARK)
            .bind(mark.visits_through.as_deref())
            .bind(source)
            .bind(&mark.source_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(total as u64)
}

/// Adds a batch's tallies, live or imported: each URL's counts and its tags' once, each
/// rollup row once, the total and the day totals once.
async fn add_tallies(tx: &mut PgConnection, rollups: Rollups) -> Result<(), StoreError> {
    let mut ids = Vec::with_capacity(rollups.per_url.len());
    let mut counts = Vec::with_capacity(rollups.per_url.len());
    let mut people = Vec::with_capacity(rollups.per_url.len());
    let mut bots = Vec::with_capacity(rollups.per_url.len());
    for (id, tally) in rollups.per_url {
        ids.push(id);
        counts.push(tally.visits);
        people.push(tally.people);
        bots.push(tally.bots);
    }
    sqlx::query(
        "UPDATE urls SET visit_count = urls.visit_count + d.n, \
             human_visits = urls.human_visits + d.people, bot_visits = urls.bot_visits + d.bots \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) \
             AS d(id, n, people, bots) \
         WHERE urls.id = d.id",
    )
    .bind(&ids)
    .bind(&counts)
    .bind(&people)
    .bind(&bots)
    .execute(&mut *tx)
    .await?;
    // Their tags' visit counters, once per tag, the rows locked in id order as every writer
    // of them does (see `adjust_tags!`), so concurrent batches never deadlock. After the
    // links' rows: a link gaining a tag meanwhile waits for this batch and counts its visits.
    sqlx::query(
        "WITH batch AS ( \
             SELECT ut.tag_id, CAST(SUM(d.n) AS BIGINT) AS n, CAST(SUM(d.bots) AS BIGINT) AS bots \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS d(id, n, bots) \
             JOIN url_tags ut ON ut.url_id = d.id GROUP BY ut.tag_id), \
         locked AS MATERIALIZED ( \
             SELECT t.id, batch.n, batch.bots FROM tags t JOIN batch ON batch.tag_id = t.id \
             ORDER BY t.id FOR NO KEY UPDATE OF t) \
         UPDATE tags SET visits = tags.visits + locked.n, bot_visits = tags.bot_visits + locked.bots \
         FROM locked WHERE tags.id = locked.id",
    )
    .bind(&ids)
    .bind(&counts)
    .bind(&bots)
    .execute(&mut *tx)
    .await?;

    let mut rows = RollupColumns::default();
    for ((url_id, day, browser, os, device, referrer_host), tally) in rollups.rows {
        rows.url_ids.push(url_id);
        rows.days.push(day);
        rows.browsers.push(browser);
        rows.oses.push(os);
        rows.devices.push(device);
        rows.referrer_hosts.push(referrer_host);
        rows.visits.push(tally.visits);
        rows.bot_visits.push(tally.bot_visits);
    }
    sqlx::query(
        "INSERT INTO url_daily_rollups \
             (url_id, day, browser, os, device, referrer_host, visits, bot_visits) \
         SELECT * FROM UNNEST($1::bigint[], $2::date[], $3::text[], $4::text[], $5::text[], \
                              $6::text[], $7::bigint[], $8::bigint[]) \
         ON CONFLICT (url_id, day, browser, os, device, referrer_host) DO UPDATE SET \
             visits = url_daily_rollups.visits + EXCLUDED.visits, \
             bot_visits = url_daily_rollups.bot_visits + EXCLUDED.bot_visits",
    )
    .bind(&rows.url_ids)
    .bind(&rows.days)
    .bind(&rows.browsers)
    .bind(&rows.oses)
    .bind(&rows.devices)
    .bind(&rows.referrer_hosts)
    .bind(&rows.visits)
    .bind(&rows.bot_visits)
    .execute(&mut *tx)
    .await?;
    if !rollups.rules.is_empty() {
        let mut rows = RuleColumns::default();
        for ((url_id, day, rule), tally) in rollups.rules {
            rows.url_ids.push(url_id);
            rows.days.push(day);
            rows.rules.push(rule);
            rows.visits.push(tally.visits);
            rows.bot_visits.push(tally.bot_visits);
        }
        sqlx::query(
            "INSERT INTO url_rule_rollups (url_id, day, rule, visits, bot_visits) \
             SELECT * FROM UNNEST($1::bigint[], $2::date[], $3::smallint[], $4::bigint[], \
                                  $5::bigint[]) \
             ON CONFLICT (url_id, day, rule) DO UPDATE SET \
                 visits = url_rule_rollups.visits + EXCLUDED.visits, \
                 bot_visits = url_rule_rollups.bot_visits + EXCLUDED.bot_visits",
        )
        .bind(&rows.url_ids)
        .bind(&rows.days)
        .bind(&rows.rules)
        .bind(&rows.visits)
        .bind(&rows.bot_visits)
        .execute(&mut *tx)
        .await?;
    }
    if !rollups.places.is_empty() {
        let mut rows = GeoColumns::default();
        for ((url_id, day, country, city), tally) in rollups.places {
            rows.url_ids.push(url_id);
            rows.days.push(day);
            rows.countries.push(country);
            rows.cities.push(city);
            rows.visits.push(tally.visits);
            rows.bot_visits.push(tally.bot_visits);
        }
        sqlx::query(
            "INSERT INTO url_geo_rollups (url_id, day, country, city, visits, bot_visits) \
             SELECT * FROM UNNEST($1::bigint[], $2::date[], $3::text[], $4::text[], \
                                  $5::bigint[], $6::bigint[]) \
             ON CONFLICT (url_id, day, country, city) DO UPDATE SET \
                 visits = url_geo_rollups.visits + EXCLUDED.visits, \
                 bot_visits = url_geo_rollups.bot_visits + EXCLUDED.bot_visits",
        )
        .bind(&rows.url_ids)
        .bind(&rows.days)
        .bind(&rows.countries)
        .bind(&rows.cities)
        .bind(&rows.visits)
        .bind(&rows.bot_visits)
        .execute(&mut *tx)
        .await?;
    }
    // The total and the day totals, once per batch, on this connection's shard (see the
    // visit_totals and orphan_visits migrations); deletions are counted by their triggers.
    let (days, day_visits, day_bots) = rollups.per_day.iter().fold(
        (Vec::new(), Vec::new(), Vec::new()),
        |(mut days, mut visits, mut bots), (day, tally)| {
            days.push(*day);
            visits.push(tally.visits);
            bots.push(tally.bot_visits);
            (days, visits, bots)
        },
    );
    sqlx::query(
        "WITH total AS ( \
             INSERT INTO visit_totals AS t (shard, visits) VALUES (pg_backend_pid() % 16, $1) \
             ON CONFLICT (shard) DO UPDATE SET visits = t.visits + EXCLUDED.visits) \
         INSERT INTO daily_visit_totals AS d (day, shard, visits, bot_visits) \
         SELECT day, pg_backend_pid() % 16, n, bots \
         FROM UNNEST($2::date[], $3::bigint[], $4::bigint[]) AS u(day, n, bots) \
         ON CONFLICT (day, shard) DO UPDATE SET \
             visits = d.visits + EXCLUDED.visits, bot_visits = d.bot_visits + EXCLUDED.bot_visits",
    )
    .bind(rollups.total)
    .bind(&days)
    .bind(&day_visits)
    .bind(&day_bots)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// An editor's visit list when the editor has few links: each link gives at most a page of
/// its newest visits (an index range scan) and the page is the newest of those, neither a
/// walk over every visit nor a sort of all the links' visits. `None` when the list is not an
/// editor's or the editor has many links (the shared query serves those).
pub(super) async fn list_owner_visits(
    pool: &PgPool,
    visit_columns: &str,
    filter: VisitFilter,
    page: PageRequest,
) -> Result<Option<Vec<VisitRow>>, StoreError> {
    let owner = match filter.owner {
        Some(owner) if filter.url_id.is_none() => owner,
        _ => return Ok(None),
    };
    // Whether this API key created at most OWNER_LINKS_FOR_MERGE links (an index-only scan
    // that stops there).
    let links: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM urls WHERE created_by = $1 LIMIT $2) AS l",
    )
    .bind(owner)
    .bind(OWNER_LINKS_FOR_MERGE + 1)
    .fetch_one(pool)
    .await?;
    if links > OWNER_LINKS_FOR_MERGE {
        return Ok(None);
    }
    let mut query = QueryBuilder::<Postgres>::new(visit_columns);
    query.push(
        " FROM urls u CROSS JOIN LATERAL (SELECT v.* FROM url_visits v \
         WHERE v.url_id = u.id",
    );
    let inner = VisitFilter {
        owner: None,
        ..filter
    };
    push_visit_page(&mut query, inner, page);
    query.push(") v WHERE u.created_by = ").push_bind(owner);
    query
        .push(" ORDER BY v.id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    // The planner cannot know how many visits each link has, guesses few, and would read
    // all of them through a bitmap; the index read backwards stops at a page.
    let mut tx = crate::store::pool::begin(pool).await?;
    sqlx::query("SET LOCAL enable_bitmapscan = off")
        .execute(&mut *tx)
        .await?;
    let rows = query.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(rows))
}

/// The rollup rows of a batch, column by column, for one `UNNEST` upsert.
#[derive(Default)]
struct RollupColumns {
    url_ids: Vec<i64>,
    days: Vec<NaiveDate>,
    browsers: Vec<String>,
    oses: Vec<String>,
    devices: Vec<String>,
    referrer_hosts: Vec<String>,
    visits: Vec<i64>,
    bot_visits: Vec<i64>,
}

/// A batch's `url_rule_rollups` rows as columns, for `UNNEST`.
#[derive(Default)]
struct RuleColumns {
    url_ids: Vec<i64>,
    days: Vec<NaiveDate>,
    rules: Vec<i16>,
    visits: Vec<i64>,
    bot_visits: Vec<i64>,
}

/// A batch's `url_geo_rollups` rows as columns, for `UNNEST`.
#[derive(Default)]
struct GeoColumns {
    url_ids: Vec<i64>,
    days: Vec<NaiveDate>,
    countries: Vec<String>,
    cities: Vec<String>,
    visits: Vec<i64>,
    bot_visits: Vec<i64>,
}
