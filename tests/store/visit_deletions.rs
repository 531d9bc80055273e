//! Deleting one link's visits (Shlink's `DELETE /short-urls/{shortCode}/visits`): every
//! counter and rollup of them goes in the same transaction, checked against counts over the
//! tables, the other links untouched, on both backends; and visit batches written meanwhile
//! leave no counter wrong.

use std::sync::Arc;

use chrono::{Days, Utc};
use kurz::domain::{Location, TagName, TargetUrl};
use kurz::store::{NewUrl, NewVisit, RollupCount, Store, StoreError};

use super::{fixture, visit, Backend, Fixture};

/// A connection to the fixture's database for counting, whichever the backend.
enum Counter {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

impl Counter {
    async fn open(f: &Fixture) -> Self {
        let url = &f._database.url;
        if url.starts_with("sqlite") {
            Self::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            Self::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    /// Rows of (key, count), sorted.
    async fn pairs(&self, sql: &str) -> Vec<(i64, i64)> {
        let mut rows: Vec<(i64, i64)> = match self {
            Self::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Self::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        };
        rows.sort_unstable();
        rows
    }

    async fn one(&self, sql: &str) -> i64 {
        self.pairs(&format!(
            "SELECT CAST(0 AS BIGINT), CAST(COALESCE(({sql}), 0) AS BIGINT)"
        ))
        .await[0]
            .1
    }
}

/// Every counter the deletion moves equals the count over the visits it stands for.
async fn every_counter_matches(f: &Fixture, db: &Counter, step: &str) {
    let per_url = |filter: &str| {
        format!(
            "SELECT u.id, COUNT(v.id) FROM urls u \
             LEFT JOIN url_visits v ON v.url_id = u.id{filter} GROUP BY u.id"
        )
    };
    assert_eq!(
        db.pairs("SELECT id, visit_count FROM urls").await,
        db.pairs(&per_url("")).await,
        "links' visit_count after {step}"
    );
    assert_eq!(
        db.pairs("SELECT id, human_visits FROM urls").await,
        db.pairs(&per_url(" AND NOT v.is_bot")).await,
        "links' human_visits after {step}"
    );
    assert_eq!(
        db.pairs("SELECT id, bot_visits FROM urls").await,
        db.pairs(&per_url(" AND v.is_bot")).await,
        "links' bot_visits after {step}"
    );
    let rollup = |table: &str, column: &str| {
        format!(
            "SELECT u.id, CAST(COALESCE(SUM(r.{column}), 0) AS BIGINT) FROM urls u \
             LEFT JOIN {table} r ON r.url_id = u.id GROUP BY u.id"
        )
    };
    for (table, only) in [
        ("url_daily_rollups", ""),
        ("url_rule_rollups", " AND v.rule IS NOT NULL"),
        (
            "url_geo_rollups",
            " AND (v.country IS NOT NULL OR v.city IS NOT NULL)",
        ),
    ] {
        assert_eq!(
            db.pairs(&rollup(table, "visits")).await,
            db.pairs(&per_url(only)).await,
            "{table} visits after {step}"
        );
        assert_eq!(
            db.pairs(&rollup(table, "bot_visits")).await,
            db.pairs(&per_url(&format!("{only} AND v.is_bot"))).await,
            "{table} bot_visits after {step}"
        );
    }
    let tags = |column: &str| {
        format!(
            "SELECT t.id, t.{column} - CAST(COALESCE(SUM(u.{column}), 0) AS BIGINT) FROM tags t \
             JOIN url_tags ut ON ut.tag_id = t.id JOIN urls u ON u.id = ut.url_id \
             GROUP BY t.id, t.{column}"
        )
        .replace("u.visits", "u.visit_count")
    };
    for column in ["visits", "bot_visits"] {
        let off: Vec<(i64, i64)> = db
            .pairs(&tags(column))
            .await
            .into_iter()
            .filter(|(_, difference)| *difference != 0)
            .collect();
        assert!(
            off.is_empty(),
            "tags' {column} after {step}: off by {off:?}"
        );
    }
    let visits = db.one("SELECT COUNT(*) FROM url_visits").await;
    let bots = db.one("SELECT COUNT(*) FROM url_visits WHERE is_bot").await;
    assert_eq!(
        db.one("SELECT SUM(visits) FROM visit_totals").await,
        visits,
        "visit_totals after {step}"
    );
    assert_eq!(
        db.one("SELECT SUM(visits) FROM daily_visit_totals").await,
        visits,
        "daily_visit_totals visits after {step}"
    );
    assert_eq!(
        db.one("SELECT SUM(bot_visits) FROM daily_visit_totals")
            .await,
        bots,
        "daily_visit_totals bots after {step}"
    );
    let totals = f.store.visit_totals(None).await.unwrap();
    assert_eq!(
        (totals.visits, totals.bot_visits),
        (visits, bots),
        "the overview's totals after {step}"
    );
}

fn names(values: &[&str]) -> Vec<TagName> {
    values
        .iter()
        .map(|v| TagName::parse(v, "tags").unwrap())
        .collect()
}

/// A visit of `url_id` with everything that has a rollup: a rule, a place, a bot or not.
fn rich(url_id: i64, days_ago: u64, is_bot: bool) -> NewVisit {
    let mut v = visit(url_id, 60);
    v.visited_at = v.visited_at - Days::new(days_ago);
    v.is_bot = is_bot;
    v.rule = (days_ago % 2 == 0).then_some(0);
    v.location = Location {
        country: Some("DE".parse().unwrap()),
        city: Some("Berlin".into()),
        ..Location::default()
    };
    v
}

async fn new_link(f: &Fixture, slug: &str, tags: &[&str]) -> i64 {
    f.store
        .create_url(NewUrl {
            tags: names(tags),
            ..NewUrl::plain(
                f.slug(slug),
                TargetUrl::parse(&format!("https://example.com/{slug}"), 2048).unwrap(),
                Utc::now(),
            )
        })
        .await
        .unwrap()
        .id
}

/// The rows of a link in every rollup, to show that another link's deletion left them be.
async fn rollup_rows(db: &Counter, url_id: i64) -> Vec<(i64, i64)> {
    let mut rows = Vec::new();
    for table in ["url_daily_rollups", "url_rule_rollups", "url_geo_rollups"] {
        rows.extend(
            db.pairs(&format!(
                "SELECT visits, bot_visits FROM {table} WHERE url_id = {url_id}"
            ))
            .await,
        );
    }
    rows
}

async fn deleting_a_links_visits_keeps_every_counter(backend: Backend) {
    let f = fixture(backend).await;
    let db = Counter::open(&f).await;
    let a = new_link(&f, "a", &["x", "y"]).await;
    let b = new_link(&f, "b", &["y"]).await;
    let c = new_link(&f, "c", &[]).await;
    f.store
        .record_visits(&[
            rich(a, 0, false),
            rich(a, 0, true),
            rich(a, 1, false),
            rich(a, 2, true),
            rich(b, 0, false),
            rich(b, 1, true),
            rich(c, 2, false),
        ])
        .await
        .unwrap();
    every_counter_matches(&f, &db, "the visits").await;
    let (b_before, c_before) = (
        f.store.get_url(&f.slug("b")).await.unwrap(),
        f.store.get_url(&f.slug("c")).await.unwrap(),
    );
    let (b_rows, c_rows) = (rollup_rows(&db, b).await, rollup_rows(&db, c).await);

    // Clicks of `a` known only as counts (an import without visit rows) go too.
    let counts = [RollupCount {
        url_id: a,
        day: Utc::now().date_naive(),
        visits: 3,
        ..Default::default()
    }];
    f.store
        .import_rollups("test:counts", &counts, &[])
        .await
        .unwrap();
    assert_eq!(f.store.get_url(&f.slug("a")).await.unwrap().visit_count, 7);
    let changes = f.store.last_link_change().await.unwrap();

    assert_eq!(f.store.delete_link_visits(&f.slug("a")).await.unwrap(), 4);
    every_counter_matches(&f, &db, "deleting a's visits").await;
    let a_now = f.store.get_url(&f.slug("a")).await.unwrap();
    assert_eq!(
        (a_now.visit_count, a_now.human_visits, a_now.bot_visits),
        (0, 0, 0)
    );
    assert!(rollup_rows(&db, a).await.is_empty());
    assert!(
        f.store.last_link_change().await.unwrap() > changes,
        "a change log row tells the caches"
    );
    // The others are as they were.
    let (b_after, c_after) = (
        f.store.get_url(&f.slug("b")).await.unwrap(),
        f.store.get_url(&f.slug("c")).await.unwrap(),
    );
    for (before, after) in [(&b_before, &b_after), (&c_before, &c_after)] {
        assert_eq!(
            (before.visit_count, before.human_visits, before.bot_visits),
            (after.visit_count, after.human_visits, after.bot_visits),
            "{} untouched",
            before.slug
        );
    }
    assert_eq!(rollup_rows(&db, b).await, b_rows);
    assert_eq!(rollup_rows(&db, c).await, c_rows);
    // y keeps b's visits; x had only a's.
    let y = f.store.get_tag(&names(&["y"])[0], None).await.unwrap();
    assert_eq!((y.links, y.visits, y.bot_visits), (2, 2, 1));
    let x = f.store.get_tag(&names(&["x"])[0], None).await.unwrap();
    assert_eq!((x.links, x.visits, x.bot_visits), (1, 0, 0));

    // Again: nothing left to delete, nothing moves.
    assert_eq!(f.store.delete_link_visits(&f.slug("a")).await.unwrap(), 0);
    every_counter_matches(&f, &db, "deleting none").await;
    assert!(matches!(
        f.store.delete_link_visits(&f.slug("nope")).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_deletion_racing_visit_batches_keeps_every_counter(backend: Backend) {
    let f = fixture(backend).await;
    let db = Counter::open(&f).await;
    let a = new_link(&f, "a", &["x", "y"]).await;
    let b = new_link(&f, "b", &["y"]).await;
    let writer = {
        let store: Arc<dyn Store> = f.store.clone();
        tokio::spawn(async move {
            for round in 0..40u64 {
                let batch: Vec<NewVisit> = (0..6)
                    .map(|i| rich(if i % 2 == 0 { a } else { b }, round % 3, i % 3 == 0))
                    .collect();
                store.record_visits(&batch).await.unwrap();
            }
        })
    };
    let mut deleted = 0;
    for _ in 0..10 {
        deleted += f.store.delete_link_visits(&f.slug("a")).await.unwrap();
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    assert!(deleted <= 120);
    every_counter_matches(&f, &db, "deletions among visit batches").await;
    let b_now = f.store.get_url(&f.slug("b")).await.unwrap();
    assert_eq!(b_now.visit_count, 120, "b lost nothing");
}

crate::on_both_backends!(
    deleting_a_links_visits_keeps_every_counter,
    a_deletion_racing_visit_batches_keeps_every_counter,
);
