//! Webhook endpoints, their outbox of deliveries and the attempts at each (see
//! `migrations/*/20261205000003_webhooks.sql`).
//!
//! An event is queued in the transaction of what it describes by one `INSERT ... SELECT` over
//! the event's subscriptions (`webhook_subscriptions (event, endpoint_id)`): when no endpoint
//! subscribes, that is one index probe that finds nothing. [`enqueue_postgres`] and
//! [`enqueue_sqlite`] are that statement for each kind of connection. A visit batch is queued
//! by its visits' ids ([`VisitBatchRef`]), only when some endpoint subscribes, and its visits
//! read when it is sent ([`enqueue_visits_postgres`], [`enqueue_visits_sqlite_writer`]).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, QueryBuilder, SqliteConnection};

use super::sql::{Db, SqlStore};
use super::{Page, PageRequest, StoreError, UrlRecord};
use crate::domain::{RuleSpec, WebhookEvent, WebhookSecret};

/// A registered endpoint.
#[derive(Debug, Clone)]
pub struct WebhookRecord {
    pub id: i64,
    pub url: String,
    pub secret: WebhookSecret,
    /// Sorted.
    pub events: Vec<WebhookEvent>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<i64>,
}

/// An endpoint about to be stored; its URL has passed the target policy.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub secret: WebhookSecret,
    pub events: Vec<WebhookEvent>,
    pub created_by: Option<i64>,
}

/// What a change sets; `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub secret: Option<WebhookSecret>,
    pub events: Option<Vec<WebhookEvent>>,
}

/// A delivery a deliverer has claimed (leased) to attempt.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub url: String,
    pub secret: WebhookSecret,
    pub event: String,
    /// The event's data as stored: a [`LinkSnapshot`], a [`VisitBatchRef`], an array of
    /// `OrphanVisitRecord`s, or what the writer of another event put there.
    pub payload: String,
    pub created_at: DateTime<Utc>,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// One attempt at a delivery, as it went.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The answer's status; `None` when there was no answer.
    pub status_code: Option<u16>,
    pub duration: Duration,
    pub error: Option<String>,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// Tried again at this time.
    Retry(DateTime<Utc>),
    /// No more attempts.
    Failed,
}

/// An attempt, for `GET /api/webhooks/{id}/deliveries`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRecord {
    pub id: i64,
    pub delivery_id: i64,
    pub event: String,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// The delivery's state now: `pending`, `delivered` or `failed`.
    pub state: String,
}

/// A link as a `link.*` event carries it: the API's link object but for the parts the
/// deliverer adds from its settings (`short_url`, `qr_url`). `crate::views::UrlView` is
/// built from it, for the API and for webhooks alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkSnapshot {
    pub slug: String,
    pub url: String,
    pub title: Option<String>,
    pub crawlable: bool,
    pub visit_count: i64,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub redirect_status: Option<u16>,
    pub valid_since: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_visits: Option<i64>,
    pub visits_left: Option<i64>,
    pub rules: Vec<RuleSpec>,
    pub forward_query: bool,
    pub password_protected: bool,
    pub tags: Vec<String>,
}

impl From<&UrlRecord> for LinkSnapshot {
    fn from(record: &UrlRecord) -> Self {
        Self {
            slug: record.slug.to_string(),
            url: record.target.to_string(),
            title: record.title.clone(),
            crawlable: record.crawlable,
            visit_count: record.visit_count,
            created_by: record.created_by,
            created_at: record.created_at,
            updated_at: record.updated_at,
            redirect_status: record.redirect_status.map(|status| status.get()),
            valid_since: record.valid_since,
            valid_until: record.valid_until,
            max_visits: record.max_visits.map(|cap| cap.get()),
            visits_left: record.visits_left(),
            rules: record
                .rules
                .as_ref()
                .map(|rules| rules.specs())
                .unwrap_or_default(),
            forward_query: record.forward_query,
            password_protected: record.password_hash.is_some(),
            tags: record.tags.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Visits one `visit` delivery carries at most: a batch written at once (up to
/// `visits.batch_size`) is queued as several deliveries past this, so that a body stays well
/// under the 1 MiB that receivers commonly accept (nginx's default `client_max_body_size`): a
/// visit object is about 600 bytes.
pub const VISITS_PER_DELIVERY: usize = 500;

/// A `visit` delivery's stored data: the ids of the visits it carries, oldest first. The
/// visits are read (`Store::visits_by_ids`) and rendered when it is sent, so that the visit
/// writer only adds a few bytes per visit to its transaction and the outbox holds no copy of
/// them; a visit deleted before then (with its link, or pruned) is left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitBatchRef {
    pub visit_ids: Vec<i64>,
}

impl VisitBatchRef {
    /// A stored batch's parts: its ids in runs of at most [`VISITS_PER_DELIVERY`], encoded.
    fn parts(ids: &[i64]) -> Vec<String> {
        ids.chunks(VISITS_PER_DELIVERY)
            .map(|chunk| {
                // A list of integers always encodes.
                serde_json::to_string(&Self {
                    visit_ids: chunk.to_vec(),
                })
                .unwrap_or_default()
            })
            .collect()
    }
}

/// Queues `payload` for every endpoint subscribed to `event` (`$1`), due at once (`$3`).
const ENQUEUE: &str = "INSERT INTO webhook_deliveries \
         (endpoint_id, event, payload, created_at, next_attempt_at) \
     SELECT endpoint_id, $1, $2, $3, $3 FROM webhook_subscriptions WHERE event = $1";

/// [`ENQUEUE`] on PostgreSQL, where an endpoint can be deleted while the change is written:
/// each subscribed endpoint's row is held (`KEY SHARE`, which the deliveries' foreign key
/// check takes anyway) before its delivery is inserted, so an endpoint deleted meanwhile is
/// waited for and left out instead of failing the change on that foreign key.
const ENQUEUE_POSTGRES: &str = "INSERT INTO webhook_deliveries \
         (endpoint_id, event, payload, created_at, next_attempt_at) \
     SELECT e.id, $1, $2, $3, $3 FROM webhook_endpoints e \
     JOIN webhook_subscriptions s ON s.endpoint_id = e.id WHERE s.event = $1 \
     ORDER BY e.id FOR KEY SHARE OF e";

/// Whether any endpoint subscribes to `$1`.
const SUBSCRIBED: &str = "SELECT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE event = $1)";

/// Queues an event on PostgreSQL, in the caller's transaction; how many deliveries.
pub(crate) async fn enqueue_postgres(
    conn: &mut PgConnection,
    event: WebhookEvent,
    payload: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(ENQUEUE_POSTGRES)
        .bind(event.as_str())
        .bind(payload)
        .bind(Utc::now())
        .execute(conn)
        .await?
        .rows_affected())
}

/// Queues an event on SQLite through sqlx, in the caller's transaction; how many deliveries.
pub(crate) async fn enqueue_sqlite(
    conn: &mut SqliteConnection,
    event: WebhookEvent,
    payload: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(ENQUEUE)
        .bind(event.as_str())
        .bind(payload)
        .bind(Utc::now())
        .execute(conn)
        .await?
        .rows_affected())
}

/// The endpoints subscribed to visit batches.
const VISIT_SUBSCRIBERS: &str =
    "SELECT endpoint_id FROM webhook_subscriptions WHERE event = 'visit' ORDER BY endpoint_id";

/// [`VISIT_SUBSCRIBERS`] on PostgreSQL, each endpoint's row held as [`ENQUEUE_POSTGRES`]
/// holds it: an endpoint deleted meanwhile is left out, never a failed batch.
const VISIT_SUBSCRIBERS_POSTGRES: &str = "SELECT e.id FROM webhook_endpoints e \
     JOIN webhook_subscriptions s ON s.endpoint_id = e.id WHERE s.event = 'visit' \
     ORDER BY e.id FOR KEY SHARE OF e";

/// Queues a PostgreSQL visit batch (just stored with `ids`) for the endpoints subscribed to
/// `visit`: one index probe when none is; else one [`VisitBatchRef`] per part and endpoint.
/// How many deliveries.
pub(crate) async fn enqueue_visits_postgres(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let endpoints: Vec<i64> = sqlx::query_scalar(VISIT_SUBSCRIBERS_POSTGRES)
        .fetch_all(&mut *conn)
        .await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let parts = VisitBatchRef::parts(ids);
    // Each part to every endpoint, in the batch's order.
    let (endpoint_ids, payloads): (Vec<i64>, Vec<&str>) = parts
        .iter()
        .flat_map(|part| endpoints.iter().map(move |id| (*id, part.as_str())))
        .unzip();
    Ok(sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, event, payload, created_at, next_attempt_at) \
         SELECT endpoint, 'visit', payload, $3, $3 \
         FROM UNNEST($1::bigint[], $2::text[]) AS e(endpoint, payload)",
    )
    .bind(&endpoint_ids)
    .bind(&payloads)
    .bind(Utc::now())
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Queues an SQLite visit batch in the visit writer's transaction, as
/// [`enqueue_visits_postgres`] does; how many deliveries.
pub(crate) fn enqueue_visits_sqlite_writer(
    tx: &rusqlite::Transaction<'_>,
    ids: &[i64],
) -> rusqlite::Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let endpoints: Vec<i64> = tx
        .prepare_cached(VISIT_SUBSCRIBERS)?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let now = super::sqlite_writer::time_text(&Utc::now());
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_deliveries (endpoint_id, event, payload, created_at, next_attempt_at) \
         VALUES (?1, 'visit', ?2, ?3, ?3)",
    )?;
    let parts = VisitBatchRef::parts(ids);
    for part in &parts {
        for endpoint in &endpoints {
            insert.execute(rusqlite::params![endpoint, part, now])?;
        }
    }
    Ok(endpoints.len() * parts.len())
}

/// Queues a `link.*` event for `record` (its tags read in the same transaction) when some
/// endpoint subscribes: one statement when none does. Evaluates to the deliveries queued.
macro_rules! announce_link {
    ($tx:expr, $event:expr, $record:expr, $enqueue:path) => {{
        let event: $crate::domain::WebhookEvent = $event;
        let subscribed: bool = sqlx::query_scalar(super::webhooks::SUBSCRIBED_SQL)
            .bind(event.as_str())
            .fetch_one(&mut *$tx)
            .await?;
        if subscribed {
            let mut record: UrlRecord = $record;
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT t.name FROM url_tags ut JOIN tags t ON t.id = ut.tag_id \
                 WHERE ut.url_id = $1 ORDER BY t.name",
            )
            .bind(record.id)
            .fetch_all(&mut *$tx)
            .await?;
            record.tags = names
                .into_iter()
                .map(crate::domain::TagName::from_stored)
                .collect();
            let payload = super::webhooks::link_payload(&record)?;
            $enqueue(&mut *$tx, event, &payload).await?
        } else {
            0
        }
    }};
}

pub(crate) const SUBSCRIBED_SQL: &str = SUBSCRIBED;

/// The stored data of a `link.*` event.
pub(super) fn link_payload(record: &UrlRecord) -> Result<String, StoreError> {
    serde_json::to_string(&LinkSnapshot::from(record))
        .map_err(|e| StoreError::Other(anyhow::anyhow!("cannot encode a link event: {e}")))
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    url: String,
    secret: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    created_by: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    endpoint_id: i64,
    event: String,
    payload: String,
    created_at: DateTime<Utc>,
    attempts: i32,
}

const ENDPOINT_COLUMNS: &str = "id, url, secret, created_at, updated_at, created_by";

fn into_records(rows: Vec<EndpointRow>, subscriptions: Vec<(i64, String)>) -> Vec<WebhookRecord> {
    let mut events: HashMap<i64, Vec<WebhookEvent>> = HashMap::new();
    for (endpoint_id, name) in subscriptions {
        if let Some(event) = WebhookEvent::from_name(&name) {
            events.entry(endpoint_id).or_default().push(event);
        }
    }
    rows.into_iter()
        .map(|row| {
            let mut events = events.remove(&row.id).unwrap_or_default();
            events.sort_unstable();
            WebhookRecord {
                id: row.id,
                url: row.url,
                secret: WebhookSecret::from_stored(row.secret),
                events,
                created_at: row.created_at,
                updated_at: row.updated_at,
                created_by: row.created_by,
            }
        })
        .collect()
}

/// Inserts the subscriptions of one endpoint.
macro_rules! subscribe {
    ($tx:expr, $id:expr, $events:expr) => {{
        let mut insert =
            QueryBuilder::new("INSERT INTO webhook_subscriptions (event, endpoint_id) ");
        insert.push_values($events.iter(), |mut row, event| {
            row.push_bind(event.as_str()).push_bind($id);
        });
        insert.build().execute(&mut *$tx).await?;
    }};
}

impl SqlStore {
    pub(super) async fn insert_webhook(
        &self,
        new: NewWebhook,
    ) -> Result<WebhookRecord, StoreError> {
        let now = Utc::now();
        let sql = format!(
            "INSERT INTO webhook_endpoints (url, secret, created_at, updated_at, created_by) \
             VALUES ($1, $2, $3, $3, $4) RETURNING {ENDPOINT_COLUMNS}"
        );
        let row: EndpointRow = on_pool!(self, pool => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let row: EndpointRow = sqlx::query_as(&sql)
                .bind(&new.url)
                .bind(new.secret.as_str())
                .bind(now)
                .bind(new.created_by)
                .fetch_one(&mut *tx)
                .await?;
            subscribe!(tx, row.id, new.events);
            tx.commit().await?;
            row
        });
        let id = row.id;
        let subscriptions = new.events.iter().map(|e| (id, e.as_str().to_owned()));
        into_records(vec![row], subscriptions.collect())
            .pop()
            .ok_or(StoreError::NotFound)
    }

    pub(super) async fn webhooks(&self, id: Option<i64>) -> Result<Vec<WebhookRecord>, StoreError> {
        let (rows, subscriptions): (Vec<EndpointRow>, Vec<(i64, String)>) = on_pool!(self, pool => {
            let sql = format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
                 WHERE $1 IS NULL OR id = $1 ORDER BY id"
            );
            let rows = sqlx::query_as(&sql).bind(id).fetch_all(pool).await?;
            let subscriptions = sqlx::query_as(
                "SELECT endpoint_id, event FROM webhook_subscriptions \
                 WHERE $1 IS NULL OR endpoint_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            (rows, subscriptions)
        });
        Ok(into_records(rows, subscriptions))
    }

    pub(super) async fn change_webhook(
        &self,
        id: i64,
        patch: WebhookPatch,
    ) -> Result<WebhookRecord, StoreError> {
        on_pool!(self, pool => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let mut update = QueryBuilder::new("UPDATE webhook_endpoints SET updated_at = ");
            update.push_bind(Utc::now());
            if let Some(url) = &patch.url {
                update.push(", url = ").push_bind(url.as_str());
            }
            if let Some(secret) = &patch.secret {
                update.push(", secret = ").push_bind(secret.as_str());
            }
            update.push(" WHERE id = ").push_bind(id);
            if update.build().execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            if let Some(events) = &patch.events {
                sqlx::query("DELETE FROM webhook_subscriptions WHERE endpoint_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                subscribe!(tx, id, events);
            }
            tx.commit().await?;
        });
        self.webhooks(Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    pub(super) async fn remove_webhook(&self, id: i64) -> Result<(), StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub(super) async fn claim(
        &self,
        limit: u32,
        lease: Duration,
        busy: &[i64],
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        // PostgreSQL: rows another instance is claiming are skipped, not waited for; SQLite
        // has one writer at a time anyway.
        let lock = match self.db() {
            Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Db::Sqlite(_) => "",
        };
        let (claimed, endpoints): (Vec<ClaimedRow>, Vec<(i64, String, String)>) = on_pool!(self, pool => {
            let mut tx = crate::store::pool::begin(pool).await?;
            let mut query = QueryBuilder::new("UPDATE webhook_deliveries SET next_attempt_at = ");
            query.push_bind(until);
            query.push(
                " WHERE id IN (SELECT id FROM webhook_deliveries \
                 WHERE state = 'pending' AND next_attempt_at <= ",
            );
            query.push_bind(now);
            if !busy.is_empty() {
                query.push(" AND endpoint_id NOT IN (");
                let mut list = query.separated(", ");
                for id in busy {
                    list.push_bind(*id);
                }
                query.push(")");
            }
            query.push(" ORDER BY next_attempt_at LIMIT ");
            query.push_bind(i64::from(limit));
            query.push(lock);
            query.push(") RETURNING id, endpoint_id, event, payload, created_at, attempts");
            let claimed: Vec<ClaimedRow> = query.build_query_as().fetch_all(&mut *tx).await?;
            let endpoints = if claimed.is_empty() {
                Vec::new()
            } else {
                let mut query =
                    QueryBuilder::new("SELECT id, url, secret FROM webhook_endpoints WHERE id IN (");
                let mut list = query.separated(", ");
                for row in &claimed {
                    list.push_bind(row.endpoint_id);
                }
                query.push(")");
                query.build_query_as().fetch_all(&mut *tx).await?
            };
            tx.commit().await?;
            (claimed, endpoints)
        });
        let endpoints: HashMap<i64, (String, String)> = endpoints
            .into_iter()
            .map(|(id, url, secret)| (id, (url, secret)))
            .collect();
        let mut deliveries: Vec<ClaimedDelivery> = claimed
            .into_iter()
            .filter_map(|row| {
                let (url, secret) = endpoints.get(&row.endpoint_id)?.clone();
                Some(ClaimedDelivery {
                    id: row.id,
                    endpoint_id: row.endpoint_id,
                    url,
                    secret: WebhookSecret::from_stored(secret),
                    event: row.event,
                    payload: row.payload,
                    created_at: row.created_at,
                    attempts: row.attempts,
                })
            })
            .collect();
        deliveries.sort_by_key(|delivery| delivery.id);
        Ok(deliveries)
    }

    pub(super) async fn finish(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &NewAttempt,
        outcome: DeliveryOutcome,
    ) -> Result<(), StoreError> {
        let (state, next, finished) = match outcome {
            DeliveryOutcome::Delivered => ("delivered", attempt.attempted_at, Some(Utc::now())),
            DeliveryOutcome::Retry(at) => ("pending", at, None),
            DeliveryOutcome::Failed => ("failed", attempt.attempted_at, Some(Utc::now())),
        };
        let duration_ms = i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX);
        on_pool!(self, pool => {
            let mut tx = crate::store::pool::begin(pool).await?;
            sqlx::query(
                "INSERT INTO webhook_attempts \
                     (delivery_id, endpoint_id, attempted_at, status_code, duration_ms, error) \
                 SELECT id, endpoint_id, $2, $3, $4, $5 FROM webhook_deliveries WHERE id = $1",
            )
            .bind(delivery.id)
            .bind(attempt.attempted_at)
            .bind(attempt.status_code.map(i32::from))
            .bind(duration_ms)
            .bind(attempt.error.as_deref())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, state = $2, \
                     next_attempt_at = $3, finished_at = $4 WHERE id = $1",
            )
            .bind(delivery.id)
            .bind(state)
            .bind(next)
            .bind(finished)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub(super) async fn release(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        on_pool!(self, pool => {
            let mut query = QueryBuilder::new("UPDATE webhook_deliveries SET next_attempt_at = ");
            query.push_bind(at);
            query.push(" WHERE state = 'pending' AND id IN (");
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            query.push(")");
            query.build().execute(pool).await?;
        });
        Ok(())
    }

    pub(super) async fn attempts(
        &self,
        endpoint_id: i64,
        page: PageRequest,
    ) -> Result<Page<AttemptRecord>, StoreError> {
        let rows: Vec<AttemptRecord> = on_pool!(self, pool => {
            let mut query = QueryBuilder::new(
                "SELECT a.id, a.delivery_id, d.event, a.attempted_at, a.status_code, \
                     a.duration_ms, a.error, d.state \
                 FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
                 WHERE a.endpoint_id = ",
            );
            query.push_bind(endpoint_id);
            if let Some(after) = page.after {
                query.push(" AND a.id < ").push_bind(after.last_id());
            }
            query
                .push(" ORDER BY a.id DESC LIMIT ")
                .push_bind(i64::from(page.limit) + 1);
            query.build_query_as().fetch_all(pool).await?
        });
        Ok(Page::from_overfetch(rows, page.limit, |a| a.id))
    }

    pub(super) async fn prune_deliveries(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let pruned = on_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries \
                 WHERE finished_at < $1 LIMIT $2)",
            )
            .bind(before)
            .bind(i64::from(limit))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(pruned)
    }
}
