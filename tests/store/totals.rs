//! The counters numbered pages and totals read instead of counting (`entity_totals`,
//! `api_keys.links`, `urls.bot_visits`, `tags.bot_visits`), each checked against a count over
//! the tables after every kind of change that moves it; and links found by their whole target.

use chrono::{Duration, Utc};
use kurz::domain::{Role, TagName, TargetUrl};
use kurz::store::{NewUrl, NewVisit, UrlPatch};

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

    /// Rows of two integers (a key and a count), sorted.
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
            "SELECT CAST(0 AS BIGINT), CAST(({sql}) AS BIGINT)"
        ))
        .await[0]
            .1
    }

    /// Rows of (key, three counts), sorted.
    async fn quads(&self, sql: &str) -> Vec<(i64, i64, i64, i64)> {
        let mut rows: Vec<(i64, i64, i64, i64)> = match self {
            Self::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Self::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        };
        rows.sort_unstable();
        rows
    }
}

fn names(values: &[&str]) -> Vec<TagName> {
    values
        .iter()
        .map(|v| TagName::parse(v, "tags").unwrap())
        .collect()
}

fn bot(url_id: i64, seconds_ago: i64) -> NewVisit {
    NewVisit {
        is_bot: true,
        ..visit(url_id, seconds_ago)
    }
}

/// Every counter equals the count it stands for; `key` is the API key whose links are
/// counted too.
async fn counters_match_counts(f: &Fixture, db: &Counter, key: i64, step: &str) {
    assert_eq!(
        f.store.link_total(None).await.unwrap(),
        db.one("SELECT COUNT(*) FROM urls").await,
        "links after {step}"
    );
    assert_eq!(
        f.store.link_total(Some(key)).await.unwrap(),
        db.one(&format!(
            "SELECT COUNT(*) FROM urls WHERE created_by = {key}"
        ))
        .await,
        "the key's links after {step}"
    );
    assert_eq!(
        f.store.tag_total().await.unwrap(),
        db.one("SELECT COUNT(*) FROM tags").await,
        "tags after {step}"
    );
    assert_eq!(
        db.pairs("SELECT id, bot_visits FROM urls").await,
        db.pairs(
            "SELECT u.id, COUNT(v.id) FROM urls u \
             LEFT JOIN url_visits v ON v.url_id = u.id AND v.is_bot GROUP BY u.id"
        )
        .await,
        "links' bot visits after {step}"
    );
    assert_eq!(
        db.quads("SELECT id, links, visits, bot_visits FROM tags")
            .await,
        db.quads(
            "SELECT t.id, COUNT(u.id), \
                 CAST(COALESCE(SUM(u.visit_count), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(u.bot_visits), 0) AS BIGINT) \
             FROM tags t JOIN url_tags ut ON ut.tag_id = t.id JOIN urls u ON u.id = ut.url_id \
             GROUP BY t.id"
        )
        .await,
        "tags' counters after {step}"
    );
}

async fn counters_follow_every_change(backend: Backend) {
    let f = fixture(backend).await;
    let db = Counter::open(&f).await;
    let (key, _) = f.api_key(Role::Editor, "counted").await;
    let (other, _) = f.api_key(Role::Editor, "other").await;
    counters_match_counts(&f, &db, key.id, "nothing").await;

    let new = |slug: &str, tags: &[&str], owner: Option<i64>| NewUrl {
        tags: names(tags),
        created_by: owner,
        ..NewUrl::plain(
            f.slug(slug),
            TargetUrl::parse(&format!("https://example.com/{slug}"), 2048).unwrap(),
            Utc::now(),
        )
    };
    let a = f
        .store
        .create_url(new("a", &["x", "y"], Some(key.id)))
        .await
        .unwrap();
    let b = f
        .store
        .create_url(new("b", &["y"], Some(key.id)))
        .await
        .unwrap();
    let c = f.store.create_url(new("c", &[], None)).await.unwrap();
    f.store
        .create_url(new("d", &["x"], Some(other.id)))
        .await
        .unwrap();
    counters_match_counts(&f, &db, key.id, "creates").await;

    let imported = [
        new("i1", &["z"], Some(key.id)),
        new("i2", &["x", "z"], None),
        new("a", &["w"], Some(key.id)),
    ];
    assert_eq!(f.store.import_urls(&imported).await.unwrap().len(), 2);
    counters_match_counts(&f, &db, key.id, "an import").await;

    let old = 3 * 86_400;
    f.store
        .record_visits(&[
            visit(a.id, 10),
            bot(a.id, 10),
            bot(a.id, old),
            visit(b.id, old),
            bot(b.id, 5),
            bot(c.id, old),
        ])
        .await
        .unwrap();
    counters_match_counts(&f, &db, key.id, "a visit batch").await;
    let a_now = f.store.get_url(&f.slug("a")).await.unwrap();
    assert_eq!((a_now.visit_count, a_now.bot_visits), (3, 2));

    // An import from another system: links with their marks, their visits (bots among them)
    // and clicks known only as counts (no bots: no source counts them).
    let source = "yourls:db/yourls/yourls_";
    let created = f
        .store
        .import_marked_urls(
            source,
            &[
                new("m1", &["x", "m"], Some(key.id)),
                new("m2", &["m"], None),
            ],
            &["k1".into(), "k2".into()],
        )
        .await
        .unwrap();
    let (m1, m2) = (created[0].0, created[1].0);
    counters_match_counts(&f, &db, key.id, "an import's links").await;
    f.store
        .import_visits(source, &[visit(m1, 20), bot(m1, 20), bot(m2, old)], &[])
        .await
        .unwrap();
    let counts = [kurz::store::RollupCount {
        url_id: m2,
        day: Utc::now().date_naive(),
        visits: 4,
        ..Default::default()
    }];
    f.store.import_rollups(source, &counts, &[]).await.unwrap();
    counters_match_counts(&f, &db, key.id, "an import's visits and counts").await;
    let m2_now = f.store.get_url(&f.slug("m2")).await.unwrap();
    assert_eq!((m2_now.visit_count, m2_now.bot_visits), (5, 1));

    // `a` loses y and gains z with its visits; `b` keeps y.
    f.store
        .update_url(
            &f.slug("a"),
            UrlPatch {
                tags: Some(names(&["x", "z"])),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    counters_match_counts(&f, &db, key.id, "a retag").await;

    let before = (Utc::now() - Duration::days(1)).date_naive();
    while !f.store.prune_visits(before, 2).await.unwrap().done {}
    counters_match_counts(&f, &db, key.id, "pruning").await;
    assert_eq!(f.store.get_url(&f.slug("a")).await.unwrap().bot_visits, 1);

    f.store.delete_url(&f.slug("b")).await.unwrap();
    counters_match_counts(&f, &db, key.id, "a deleted link").await;
    f.store.delete_tag(&names(&["z"])[0]).await.unwrap();
    counters_match_counts(&f, &db, key.id, "a deleted tag").await;
    // The last link of y went with `b`: y went too.
    assert!(f.store.get_tag(&names(&["y"])[0], None).await.is_err());
    // a, i1 and the imported m1.
    assert_eq!(f.store.link_total(Some(key.id)).await.unwrap(), 3);
    assert_eq!(f.store.link_total(Some(-1)).await.unwrap(), 0);
}

async fn links_are_found_by_their_whole_target(backend: Backend) {
    let f = fixture(backend).await;
    let (key, _) = f.api_key(Role::Editor, "owner").await;
    let target = "https://example.com/shared?q=1";
    let first = f.create("first", target).await;
    let owned = f.create_owned("owned", target, key.id).await;
    f.create("prefix", "https://example.com/shared").await;
    f.create("longer", "https://example.com/shared?q=10").await;
    let wanted = TargetUrl::parse(target, 2048).unwrap();

    let all = f
        .store
        .find_urls_by_target(&wanted, None, 10)
        .await
        .unwrap();
    let slugs: Vec<&str> = all.iter().map(|u| u.slug.as_str()).collect();
    assert_eq!(slugs, ["first", "owned"], "exact matches, oldest first");
    assert_eq!(all[0].id, first.id);
    let one = f.store.find_urls_by_target(&wanted, None, 1).await.unwrap();
    assert_eq!(one.len(), 1);
    let mine = f
        .store
        .find_urls_by_target(&wanted, Some(key.id), 10)
        .await
        .unwrap();
    assert_eq!(mine.iter().map(|u| u.id).collect::<Vec<_>>(), [owned.id]);
    let none = TargetUrl::parse("https://example.org/", 2048).unwrap();
    assert!(f
        .store
        .find_urls_by_target(&none, None, 10)
        .await
        .unwrap()
        .is_empty());
}

crate::on_both_backends!(
    counters_follow_every_change,
    links_are_found_by_their_whole_target,
);
