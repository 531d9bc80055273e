//! The conformance suite of the `Store` trait: the same expectations, run against PostgreSQL
//! and SQLite.

#[path = "../common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use kurz::config::{Environment, Settings};
use kurz::domain::{
    ApiKey, Cursor, MaxVisits, Password, PasswordHash, RedirectStatus, Role, RuleSpec, Rules, Slug,
    SlugPolicy, TargetUrl, Title,
};
use kurz::store::{
    self, CapTake, MigrationState, NewApiKey, NewUrl, NewVisit, PageRequest, StatsOf, StatsQuery,
    Store, StoreError, Unique, UrlFilter, UrlPatch, ValueCount, VisitFilter,
};

use common::database::{Backend, TestDatabase};

mod cancelled;
mod geo;
mod imports;
mod locks;
mod orphans;
mod tags;
mod totals;
mod visit_deletions;
mod webhooks;

struct Fixture {
    store: Arc<dyn Store>,
    policy: SlugPolicy,
    _database: TestDatabase,
}

async fn fixture(backend: Backend) -> Fixture {
    let database = TestDatabase::create(backend).await;
    let mut settings = Settings::defaults(Environment::Development).unwrap();
    settings.database.url = database.url.clone();
    let store = store::connect(&settings.database)
        .await
        .expect("store opens");
    Fixture {
        store,
        policy: settings.slug.policy(),
        _database: database,
    }
}

impl Fixture {
    fn slug(&self, value: &str) -> Slug {
        Slug::parse(value, &self.policy).unwrap()
    }

    /// A link to `https://example.com/` with nothing set, to change with `..`.
    fn plain_url(&self, slug: &str) -> NewUrl {
        NewUrl::plain(
            self.slug(slug),
            TargetUrl::parse("https://example.com/", 2048).unwrap(),
            Utc::now(),
        )
    }

    async fn create(&self, slug: &str, target: &str) -> kurz::store::UrlRecord {
        self.store
            .create_url(NewUrl::plain(
                self.slug(slug),
                TargetUrl::parse(target, 2048).unwrap(),
                Utc::now(),
            ))
            .await
            .expect("created")
    }

    /// A URL created by the API key `owner`.
    async fn create_owned(&self, slug: &str, target: &str, owner: i64) -> kurz::store::UrlRecord {
        self.store
            .create_url(NewUrl {
                created_by: Some(owner),
                ..NewUrl::plain(
                    self.slug(slug),
                    TargetUrl::parse(target, 2048).unwrap(),
                    Utc::now(),
                )
            })
            .await
            .expect("created")
    }

    /// A stored key with this role, and the key in clear.
    async fn api_key(&self, role: Role, name: &str) -> (kurz::store::ApiKeyRecord, ApiKey) {
        let key = ApiKey::generate();
        let record = self
            .store
            .create_api_key(NewApiKey {
                name: name.into(),
                role,
                prefix: key.display_prefix(),
                key_hash: key.hash(),
                created_at: Utc::now(),
            })
            .await
            .expect("key created");
        (record, key)
    }
}

fn visit(url_id: i64, seconds_ago: i64) -> NewVisit {
    NewVisit {
        location: Default::default(),
        url_id,
        visited_at: Utc::now() - Duration::seconds(seconds_ago),
        client_ip: Some("2001:db8::1".parse().unwrap()),
        user_agent: Some("agent".into()),
        referrer: Some("https://ref.example/x".into()),
        referrer_host: Some("ref.example".into()),
        browser: Some("Firefox".into()),
        os: Some("Linux".into()),
        device: Some("Other".into()),
        is_bot: false,
        cap_taken: false,
        rule: None,
    }
}

fn first_page(limit: u32) -> PageRequest {
    PageRequest { after: None, limit }
}

async fn migrations_are_idempotent_and_ping_answers(backend: Backend) {
    let f = fixture(backend).await;
    f.store.migrate().await.unwrap();
    f.store.migrate().await.unwrap();
    f.store.ping().await.unwrap();
}

async fn created_urls_read_back_exactly(backend: Backend) {
    let f = fixture(backend).await;
    // Nanoseconds in, microseconds out, on both backends (PostgreSQL keeps microseconds).
    let created_at = "2026-11-27T10:00:00.123456789Z"
        .parse::<DateTime<Utc>>()
        .unwrap();
    let created = f
        .store
        .create_url(NewUrl {
            title: Some(Title::parse("Hello <b>").unwrap()),
            crawlable: true,
            ..NewUrl::plain(
                f.slug("hello"),
                TargetUrl::parse("https://example.com/a?b=c", 2048).unwrap(),
                created_at,
            )
        })
        .await
        .unwrap();
    assert_eq!(created.slug.as_str(), "hello");
    assert_eq!(created.target.as_str(), "https://example.com/a?b=c");
    assert_eq!(created.title.as_deref(), Some("Hello <b>"));
    assert!(created.crawlable);
    assert_eq!(created.visit_count, 0);
    assert_eq!(
        created.created_at.to_rfc3339(),
        "2026-11-27T10:00:00.123456+00:00"
    );
    let read = f.store.get_url(&f.slug("hello")).await.unwrap();
    assert_eq!(read, created);
}

async fn duplicate_slugs_conflict(backend: Backend) {
    let f = fixture(backend).await;
    f.create("dup", "https://example.com").await;
    let again = f
        .store
        .create_url(NewUrl::plain(
            f.slug("dup"),
            TargetUrl::parse("https://example.org", 2048).unwrap(),
            Utc::now(),
        ))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(Unique::Slug))),
        "{again:?}"
    );
}

async fn missing_urls_are_not_found(backend: Backend) {
    let f = fixture(backend).await;
    let missing = f.slug("missing");
    assert!(matches!(
        f.store.get_url(&missing).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.delete_url(&missing).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.update_url(&missing, UrlPatch::default()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(f.store.resolve(&missing).await.unwrap(), None);
}

/// A fetched title fills only a link without one, and logs a change only when it does.
async fn titles_fill_only_untitled_links(backend: Backend) {
    let f = fixture(backend).await;
    let created = f.create("t", "https://example.com/t").await;
    let fetched = Title::parse("Fetched").unwrap();
    let filled = f.store.fill_title(&f.slug("t"), &fetched).await.unwrap();
    let filled = filled.expect("an untitled link is filled");
    assert_eq!(filled.title.as_deref(), Some("Fetched"));
    assert!(filled.updated_at >= created.updated_at);
    let logged = f.store.last_link_change().await.unwrap();
    let again = Title::parse("Again").unwrap();
    assert!(f
        .store
        .fill_title(&f.slug("t"), &again)
        .await
        .unwrap()
        .is_none());
    assert!(f
        .store
        .fill_title(&f.slug("gone"), &again)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        f.store.last_link_change().await.unwrap(),
        logged,
        "nothing more logged"
    );
    let stored = f.store.get_url(&f.slug("t")).await.unwrap();
    assert_eq!(stored.title.as_deref(), Some("Fetched"));
    assert_eq!(f.store.link_changes_after(0, 10).await.unwrap().len(), 2);
}

async fn patches_change_only_what_they_name(backend: Backend) {
    let f = fixture(backend).await;
    let created = f.create("p", "https://example.com/old").await;
    let patched = f
        .store
        .update_url(
            &f.slug("p"),
            UrlPatch {
                title: Some(Some(Title::parse("New").unwrap())),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.title.as_deref(), Some("New"));
    assert_eq!(patched.target, created.target);
    assert!(patched.updated_at >= created.updated_at);
    let patched = f
        .store
        .update_url(
            &f.slug("p"),
            UrlPatch {
                target: Some(TargetUrl::parse("https://example.com/new", 2048).unwrap()),
                title: Some(None),
                crawlable: Some(true),
                redirect_status: None,
                valid_since: None,
                valid_until: None,
                max_visits: None,
                rules: None,
                forward_query: None,
                tags: None,
                password_hash: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.title, None);
    assert!(patched.crawlable);
    let redirect = f.store.resolve(&f.slug("p")).await.unwrap().unwrap();
    assert_eq!(redirect.target, "https://example.com/new");
    assert_eq!(redirect.url_id, created.id);
}

async fn url_pages_walk_newest_first_without_gaps(backend: Backend) {
    let f = fixture(backend).await;
    for i in 0..10 {
        f.create(&format!("u{i}"), "https://example.com").await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = f
            .store
            .list_urls(PageRequest { after, limit: 3 }, UrlFilter::default())
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|u| u.slug.to_string()));
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    let expected: Vec<String> = (0..10).rev().map(|i| format!("u{i}")).collect();
    assert_eq!(seen, expected);
    // A cursor past the oldest row gives an empty page.
    let empty = f
        .store
        .list_urls(
            PageRequest {
                after: Some(Cursor::after(1)),
                limit: 3,
            },
            UrlFilter::default(),
        )
        .await
        .unwrap();
    assert!(empty.items.is_empty() && empty.next.is_none());
}

async fn visits_are_stored_counted_and_listed(backend: Backend) {
    let f = fixture(backend).await;
    let a = f.create("a", "https://example.com/a").await;
    let b = f.create("b", "https://example.com/b").await;
    let batch: Vec<NewVisit> = vec![visit(a.id, 3), visit(b.id, 2), visit(a.id, 1)];
    assert_eq!(f.store.record_visits(&batch).await.unwrap().len(), 3);
    assert!(f.store.record_visits(&[]).await.unwrap().is_empty());
    assert_eq!(f.store.get_url(&f.slug("a")).await.unwrap().visit_count, 2);
    assert_eq!(f.store.get_url(&f.slug("b")).await.unwrap().visit_count, 1);

    let all = f
        .store
        .list_visits(VisitFilter::default(), first_page(10))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
    let newest = &all.items[0];
    assert_eq!(newest.slug.as_str(), "a");
    assert_eq!(newest.client_ip.as_deref(), Some("2001:db8::1"));
    assert_eq!(newest.user_agent.as_deref(), Some("agent"));
    assert_eq!(newest.referrer_host.as_deref(), Some("ref.example"));
    assert_eq!(newest.browser.as_deref(), Some("Firefox"));
    assert!(!newest.is_bot);

    let only_a = f
        .store
        .list_visits(
            VisitFilter {
                url_id: Some(a.id),
                ..VisitFilter::default()
            },
            first_page(1),
        )
        .await
        .unwrap();
    assert_eq!(only_a.items.len(), 1);
    let rest = f
        .store
        .list_visits(
            VisitFilter {
                url_id: Some(a.id),
                ..VisitFilter::default()
            },
            PageRequest {
                after: only_a.next,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next.is_none());
    let ids: HashSet<i64> = only_a
        .items
        .iter()
        .chain(&rest.items)
        .map(|v| v.id)
        .collect();
    assert_eq!(ids.len(), 2);
}

async fn visits_of_deleted_urls_are_skipped_and_deletes_cascade(backend: Backend) {
    let f = fixture(backend).await;
    let keep = f.create("keep", "https://example.com/keep").await;
    let gone = f.create("gone", "https://example.com/gone").await;
    f.store.record_visits(&[visit(gone.id, 5)]).await.unwrap();
    f.store.delete_url(&f.slug("gone")).await.unwrap();
    let all = f
        .store
        .list_visits(VisitFilter::default(), first_page(10))
        .await
        .unwrap();
    assert!(all.items.is_empty(), "visits go with their URL");

    // A batch queued before the delete still holds a visit of the deleted URL.
    let stored = f
        .store
        .record_visits(&[visit(keep.id, 2), visit(gone.id, 1), visit(keep.id, 0)])
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        f.store.get_url(&f.slug("keep")).await.unwrap().visit_count,
        2
    );
}

async fn crawlable_slugs_are_listed_for_robots(backend: Backend) {
    let f = fixture(backend).await;
    f.create("hidden", "https://example.com").await;
    for slug in ["open1", "open2"] {
        f.create(slug, "https://example.com").await;
        f.store
            .update_url(
                &f.slug(slug),
                UrlPatch {
                    crawlable: Some(true),
                    ..UrlPatch::default()
                },
            )
            .await
            .unwrap();
    }
    let slugs: Vec<String> = f
        .store
        .crawlable_slugs(10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(slugs, ["open1", "open2"]);
    assert_eq!(f.store.crawlable_slugs(1).await.unwrap().len(), 1);
}

async fn concurrent_batches_keep_counts_exact(backend: Backend) {
    let f = fixture(backend).await;
    let url = f.create("busy", "https://example.com").await;
    let mut writers = Vec::new();
    for _ in 0..8 {
        let store = f.store.clone();
        let batch: Vec<NewVisit> = (0..50).map(|i| visit(url.id, i)).collect();
        writers.push(tokio::spawn(
            async move { store.record_visits(&batch).await },
        ));
    }
    for writer in writers {
        assert_eq!(writer.await.unwrap().unwrap().len(), 50);
    }
    assert_eq!(
        f.store.get_url(&f.slug("busy")).await.unwrap().visit_count,
        400
    );
}

fn at(day: u32, hour: u32) -> chrono::DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn day(day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

async fn visit_lists_filter_by_time_and_bot(backend: Backend) {
    let f = fixture(backend).await;
    let url = f.create("t", "https://example.com").await;
    let mut batch = Vec::new();
    for (d, h, bot) in [(1, 10, false), (2, 10, true), (2, 23, false), (3, 0, false)] {
        batch.push(NewVisit {
            location: Default::default(),
            visited_at: at(d, h),
            is_bot: bot,
            ..visit(url.id, 0)
        });
    }
    f.store.record_visits(&batch).await.unwrap();
    let count = |filter: VisitFilter| {
        let store = f.store.clone();
        async move {
            store
                .list_visits(filter, first_page(100))
                .await
                .unwrap()
                .items
                .len()
        }
    };
    let base = VisitFilter {
        url_id: Some(url.id),
        ..VisitFilter::default()
    };
    assert_eq!(count(base).await, 4);
    assert_eq!(
        count(VisitFilter {
            from: Some(at(2, 0)),
            ..base
        })
        .await,
        3
    );
    assert_eq!(
        count(VisitFilter {
            from: Some(at(2, 0)),
            until: Some(at(3, 0)),
            ..base
        })
        .await,
        2
    );
    assert_eq!(
        count(VisitFilter {
            is_bot: Some(true),
            ..base
        })
        .await,
        1
    );
    assert_eq!(
        count(VisitFilter {
            is_bot: Some(false),
            from: Some(at(2, 0)),
            ..VisitFilter::default()
        })
        .await,
        2
    );
}

async fn stats_come_from_rollups_kept_by_each_batch(backend: Backend) {
    let f = fixture(backend).await;
    let url = f.create("s", "https://example.com").await;
    let other = f.create("o", "https://example.com").await;
    let make = |d: u32, browser: &str, referrer: Option<&str>, bot: bool| NewVisit {
        location: Default::default(),
        visited_at: at(d, 12),
        browser: Some(browser.to_owned()),
        device: Some(if bot { "bot" } else { "desktop" }.to_owned()),
        referrer_host: referrer.map(str::to_owned),
        is_bot: bot,
        ..visit(url.id, 0)
    };
    // Two batches touching the same rollup rows, and a visit of another URL.
    f.store
        .record_visits(&[
            make(1, "Firefox", Some("news.example"), false),
            make(1, "Firefox", None, false),
            make(1, "Googlebot", None, true),
        ])
        .await
        .unwrap();
    f.store
        .record_visits(&[
            make(3, "Chrome", Some("news.example"), false),
            make(3, "Firefox", Some("mail.example"), false),
            NewVisit {
                location: Default::default(),
                visited_at: at(3, 12),
                ..visit(other.id, 0)
            },
        ])
        .await
        .unwrap();
    let query = StatsQuery {
        of: StatsOf::Url(url.id),
        from: day(1),
        to: day(4),
        include_bots: false,
        top: 10,
    };
    let stats = f.store.url_stats(query).await.unwrap();
    assert_eq!(stats.visits, 4);
    assert_eq!(stats.bot_visits, 1);
    let days: Vec<i64> = stats.days.iter().map(|d| d.visits).collect();
    assert_eq!(days, [2, 0, 2, 0]);
    assert_eq!(
        stats.browsers,
        [
            ValueCount {
                value: Some("Firefox".into()),
                visits: 3
            },
            ValueCount {
                value: Some("Chrome".into()),
                visits: 1
            },
        ]
    );
    assert_eq!(
        stats.referrer_hosts,
        [
            ValueCount {
                value: Some("news.example".into()),
                visits: 2
            },
            ValueCount {
                value: None,
                visits: 1
            },
            ValueCount {
                value: Some("mail.example".into()),
                visits: 1
            },
        ]
    );
    assert_eq!(
        stats.devices,
        [ValueCount {
            value: Some("desktop".into()),
            visits: 4
        }]
    );

    let with_bots = f
        .store
        .url_stats(StatsQuery {
            include_bots: true,
            ..query
        })
        .await
        .unwrap();
    assert_eq!(with_bots.visits, 5);
    assert_eq!(with_bots.days[0].visits, 3);
    assert!(with_bots
        .browsers
        .iter()
        .any(|c| c.value.as_deref() == Some("Googlebot")));

    let top_one = f
        .store
        .url_stats(StatsQuery { top: 1, ..query })
        .await
        .unwrap();
    assert_eq!(top_one.browsers.len(), 1);
    let one_day = f
        .store
        .url_stats(StatsQuery {
            from: day(3),
            to: day(3),
            ..query
        })
        .await
        .unwrap();
    assert_eq!(one_day.visits, 2);

    // Deleting the URL takes its rollups with it.
    f.store.delete_url(&f.slug("s")).await.unwrap();
    let gone = f.store.url_stats(query).await.unwrap();
    assert_eq!(gone.visits, 0);
}

async fn imports_skip_existing_slugs(backend: Backend) {
    let f = fixture(backend).await;
    f.create("taken", "https://example.com/original").await;
    let new = |slug: &str| {
        NewUrl::plain(
            f.slug(slug),
            TargetUrl::parse(&format!("https://example.com/{slug}"), 2048).unwrap(),
            Utc::now(),
        )
    };
    let batch = vec![new("i1"), new("taken"), new("i2")];
    assert_eq!(f.store.import_urls(&batch).await.unwrap().len(), 2);
    assert_eq!(
        f.store.import_urls(&batch).await.unwrap().len(),
        0,
        "re-running changes nothing"
    );
    assert_eq!(f.store.import_urls(&[]).await.unwrap().len(), 0);
    let taken = f.store.get_url(&f.slug("taken")).await.unwrap();
    assert_eq!(taken.target.as_str(), "https://example.com/original");
    let page = f
        .store
        .list_urls(first_page(10), UrlFilter::default())
        .await
        .unwrap();
    let slugs: Vec<String> = page.items.iter().map(|u| u.slug.to_string()).collect();
    assert_eq!(slugs, ["i2", "i1", "taken"], "imported in order");
}

async fn search_matches_slug_then_host_prefixes(backend: Backend) {
    let f = fixture(backend).await;
    f.create("launch", "https://News.Example.com/a").await;
    f.create("launchpad", "https://shop.example.org/").await;
    f.create("Lunch", "https://launch.example.net/menu").await;
    f.create("other", "https://other.example/").await;
    f.create("a_b", "https://deals.example/").await;
    f.create("axb", "https://deals.example/x").await;
    let slugs = |found: Vec<kurz::store::UrlRecord>| {
        found
            .into_iter()
            .map(|u| u.slug.to_string())
            .collect::<Vec<_>>()
    };
    // Slug prefixes first (bytewise order), then target hosts starting with the text.
    assert_eq!(
        slugs(f.store.search_urls("launch", 10, None).await.unwrap()),
        ["launch", "launchpad", "Lunch"]
    );
    assert_eq!(
        slugs(f.store.search_urls("launch", 2, None).await.unwrap()),
        ["launch", "launchpad"]
    );
    // Hosts are matched in lower case; slugs as typed.
    assert_eq!(
        slugs(f.store.search_urls("NEWS", 10, None).await.unwrap()),
        ["launch"]
    );
    assert_eq!(
        slugs(f.store.search_urls("Lu", 10, None).await.unwrap()),
        ["Lunch"]
    );
    // LIKE wildcards mean nothing here.
    assert_eq!(
        slugs(f.store.search_urls("a_", 10, None).await.unwrap()),
        ["a_b"]
    );
    assert!(f.store.search_urls("%", 10, None).await.unwrap().is_empty());
    assert!(f
        .store
        .search_urls("zzz", 10, None)
        .await
        .unwrap()
        .is_empty());
    // A changed target moves the URL in host search.
    f.store
        .update_url(
            &f.slug("other"),
            UrlPatch {
                target: Some(TargetUrl::parse("https://moved.example/", 2048).unwrap()),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        slugs(f.store.search_urls("moved", 10, None).await.unwrap()),
        ["other"]
    );
    assert!(f
        .store
        .search_urls("other.example", 10, None)
        .await
        .unwrap()
        .is_empty());
}

async fn migration_status_lists_pending_then_applied(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut settings = Settings::defaults(Environment::Development).unwrap();
    settings.database.url = database.url.clone();
    settings.database.run_migrations = false;
    let store = store::connect(&settings.database).await.unwrap();
    let pending = store.migration_status().await.unwrap();
    assert!(pending.len() >= 2, "{pending:?}");
    assert!(pending
        .iter()
        .all(|m| m.state == MigrationState::Pending && m.applied_on.is_none()));
    assert!(pending.windows(2).all(|w| w[0].version < w[1].version));
    assert_eq!(pending[0].description, "create urls and visits");

    let before = Utc::now() - Duration::minutes(5);
    store.migrate().await.unwrap();
    let applied = store.migration_status().await.unwrap();
    assert_eq!(applied.len(), pending.len());
    for (after, was) in applied.iter().zip(&pending) {
        assert_eq!(after.version, was.version);
        assert_eq!(after.description, was.description);
        assert_eq!(after.state, MigrationState::Applied, "{after:?}");
        let on = after.applied_on.expect("applied_on is set");
        assert!(
            on > before && on < Utc::now() + Duration::minutes(5),
            "{on}"
        );
    }
}

async fn urls_oldest_first_pages_in_creation_order(backend: Backend) {
    let f = fixture(backend).await;
    assert!(f
        .store
        .urls_oldest_first(None, 10)
        .await
        .unwrap()
        .is_empty());
    for i in 0..5 {
        f.create(&format!("o{i}"), "https://example.com").await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = f.store.urls_oldest_first(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|u| u.slug.to_string()));
        match page.last() {
            Some(last) if page.len() == 2 => after = Some(last.id),
            _ => break,
        }
    }
    assert_eq!(seen, ["o0", "o1", "o2", "o3", "o4"]);
}

async fn pruning_keeps_visit_counts_and_rollups_consistent(backend: Backend) {
    use chrono::TimeZone;
    let f = fixture(backend).await;
    let a = f.create("pa", "https://example.com/a").await;
    let b = f.create("pb", "https://example.com/b").await;
    let at_ms = |d: u32, h: u32, m: u32, s: u32, ms: i64| {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, s).unwrap() + Duration::milliseconds(ms)
    };
    let on = |url_id: i64, visited_at: chrono::DateTime<Utc>, bot: bool| NewVisit {
        location: Default::default(),
        visited_at,
        is_bot: bot,
        ..visit(url_id, 0)
    };
    // Before the cut (2026-11-03): five visits, the last a moment before midnight.
    // From the cut on: four, the first exactly at midnight.
    let batch = vec![
        on(a.id, at_ms(1, 10, 0, 0, 0), false),
        on(a.id, at_ms(1, 11, 0, 0, 0), true),
        on(b.id, at_ms(2, 9, 0, 0, 0), false),
        on(a.id, at_ms(2, 12, 0, 0, 0), false),
        on(b.id, at_ms(2, 23, 59, 59, 999), false),
        on(a.id, at_ms(3, 0, 0, 0, 0), false),
        on(b.id, at_ms(3, 0, 0, 0, 1), true),
        on(a.id, at_ms(4, 8, 0, 0, 0), false),
        on(b.id, at_ms(4, 9, 0, 0, 0), false),
    ];
    assert_eq!(f.store.record_visits(&batch).await.unwrap().len(), 9);

    let mut deleted = 0;
    let mut calls = 0;
    loop {
        let pruned = f.store.prune_visits(day(3), 2).await.unwrap();
        calls += 1;
        assert!(pruned.visits <= 2);
        deleted += pruned.visits;
        if pruned.done {
            assert!(pruned.visits < 2);
            assert!(
                pruned.rollup_rows > 0,
                "the rollups of the pruned days go too"
            );
            break;
        }
        assert_eq!(pruned.visits, 2);
        assert_eq!(
            pruned.rollup_rows, 0,
            "rollups are deleted by the last batch only"
        );
        assert!(calls < 10, "pruning never finished");
    }
    assert_eq!(deleted, 5);
    assert_eq!(calls, 3);

    // What is left: the visits from the cut on, counted and in the statistics.
    let left = f
        .store
        .list_visits(VisitFilter::default(), first_page(100))
        .await
        .unwrap();
    assert_eq!(left.items.len(), 4);
    assert!(left
        .items
        .iter()
        .all(|v| v.visited_at >= at_ms(3, 0, 0, 0, 0)));
    assert_eq!(f.store.get_url(&f.slug("pa")).await.unwrap().visit_count, 2);
    assert_eq!(f.store.get_url(&f.slug("pb")).await.unwrap().visit_count, 2);
    for (url, bots) in [(&a, 0), (&b, 1)] {
        let stats = f
            .store
            .url_stats(StatsQuery {
                of: StatsOf::Url(url.id),
                from: day(1),
                to: day(4),
                include_bots: true,
                top: 10,
            })
            .await
            .unwrap();
        let days: Vec<i64> = stats.days.iter().map(|d| d.visits).collect();
        assert_eq!(days, [0, 0, 1, 1], "{}", url.slug);
        assert_eq!(stats.visits, 2);
        assert_eq!(stats.bot_visits, bots);
    }

    // Nothing left to prune: one call, nothing deleted, counts unchanged.
    let again = f.store.prune_visits(day(3), 2).await.unwrap();
    assert_eq!(again.visits, 0);
    assert!(again.done);
    assert_eq!(again.rollup_rows, 0);
    assert_eq!(f.store.get_url(&f.slug("pa")).await.unwrap().visit_count, 2);
}

async fn api_keys_are_found_by_hash_until_revoked(backend: Backend) {
    let f = fixture(backend).await;
    let (editor, key) = f.api_key(Role::Editor, "ci").await;
    let (viewer, _) = f.api_key(Role::Viewer, "").await;
    assert_eq!(editor.role, Role::Editor);
    assert_eq!(editor.name, "ci");
    assert_eq!(editor.prefix, key.display_prefix());
    assert_eq!(editor.key_hash, key.hash());
    assert!(editor.revoked_at.is_none());

    let found = f.store.find_active_api_key(&key.hash()).await.unwrap();
    assert_eq!(found.as_ref(), Some(&editor));
    let unknown = ApiKey::generate().hash();
    assert!(f
        .store
        .find_active_api_key(&unknown)
        .await
        .unwrap()
        .is_none());

    let listed = f.store.list_api_keys().await.unwrap();
    assert_eq!(listed, vec![editor.clone(), viewer.clone()], "oldest first");

    let revoked = f.store.revoke_api_key(editor.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(f
        .store
        .find_active_api_key(&key.hash())
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        f.store.revoke_api_key(editor.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.revoke_api_key(9_999).await,
        Err(StoreError::NotFound)
    ));
    let listed = f.store.list_api_keys().await.unwrap();
    assert_eq!(listed.len(), 2, "revoked keys are kept");
    assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
}

async fn urls_record_their_creator_and_lists_filter_by_it(backend: Backend) {
    let f = fixture(backend).await;
    let (alice, _) = f.api_key(Role::Editor, "alice").await;
    let (bob, _) = f.api_key(Role::Editor, "bob").await;
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(
            f.create_owned(&format!("a{i}"), "https://alice.example/", alice.id)
                .await,
        );
        f.create_owned(&format!("b{i}"), "https://bob.example/", bob.id)
            .await;
    }
    let anonymous = f.create("nobody", "https://alice.example/anon").await;
    assert_eq!(mine[0].created_by, Some(alice.id));
    assert_eq!(anonymous.created_by, None);
    assert_eq!(
        f.store.get_url(&f.slug("a0")).await.unwrap().created_by,
        Some(alice.id)
    );

    // Alice's pages hold only her URLs, newest first, and walk to the end.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = f
            .store
            .list_urls(
                PageRequest { after, limit: 2 },
                UrlFilter {
                    owner: Some(alice.id),
                    ..UrlFilter::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|u| u.slug.to_string()));
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["a4", "a3", "a2", "a1", "a0"]);
    let all = f
        .store
        .list_urls(first_page(100), UrlFilter::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 11);

    // Search by slug and by host, limited to the owner.
    let slugs = |found: Vec<kurz::store::UrlRecord>| {
        found
            .into_iter()
            .map(|u| u.slug.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        slugs(f.store.search_urls("b", 10, Some(alice.id)).await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        slugs(f.store.search_urls("a1", 10, Some(alice.id)).await.unwrap()),
        ["a1"]
    );
    assert_eq!(
        f.store
            .search_urls("alice.example", 10, Some(alice.id))
            .await
            .unwrap()
            .len(),
        5,
        "the anonymous URL on the same host is not Alice's"
    );
    assert_eq!(
        f.store
            .search_urls("alice.example", 10, None)
            .await
            .unwrap()
            .len(),
        6
    );

    // Visits of Alice's URLs only.
    let bobs = f.store.get_url(&f.slug("b0")).await.unwrap();
    f.store
        .record_visits(&[
            visit(mine[0].id, 3),
            visit(bobs.id, 2),
            visit(mine[1].id, 1),
        ])
        .await
        .unwrap();
    let visits = f
        .store
        .list_visits(
            VisitFilter {
                owner: Some(alice.id),
                ..VisitFilter::default()
            },
            PageRequest {
                after: None,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(visits.items.len(), 1);
    assert_eq!(visits.items[0].url_id, mine[1].id);
    let rest = f
        .store
        .list_visits(
            VisitFilter {
                owner: Some(alice.id),
                ..VisitFilter::default()
            },
            PageRequest {
                after: visits.next,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|v| v.url_id).collect::<Vec<_>>(),
        [mine[0].id]
    );

    // Imports carry the creator too.
    let imported = NewUrl {
        created_by: Some(bob.id),
        ..NewUrl::plain(
            f.slug("imported"),
            TargetUrl::parse("https://example.com/i", 2048).unwrap(),
            Utc::now(),
        )
    };
    assert_eq!(f.store.import_urls(&[imported]).await.unwrap().len(), 1);
    assert_eq!(
        f.store
            .get_url(&f.slug("imported"))
            .await
            .unwrap()
            .created_by,
        Some(bob.id)
    );
}

/// The writer learns the ids of what it stored; the live stream reads those visits back by id,
/// and the total of all visits follows every insert and delete (prune, deleted URL) in O(1).
async fn stored_ids_read_back_and_totals_follow(backend: Backend) {
    let f = fixture(backend).await;
    let a = f.create("a", "https://example.com/a").await;
    let gone = f.create("gone", "https://example.com/gone").await;
    assert_eq!(f.store.visit_total(None).await.unwrap(), 0);
    let ids = f
        .store
        .record_visits(&[visit(a.id, 3), visit(gone.id, 2), visit(a.id, 1)])
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(f.store.visit_total(None).await.unwrap(), 3);

    let mut asked = ids.clone();
    asked.push(ids[2] + 1000);
    asked.reverse();
    let read = f.store.visits_by_ids(&asked).await.unwrap();
    assert_eq!(read.iter().map(|v| v.id).collect::<Vec<_>>(), ids);
    assert_eq!(read[1].slug.as_str(), "gone");
    assert_eq!(read[0].url_id, a.id);
    let listed = f
        .store
        .list_visits(VisitFilter::default(), first_page(10))
        .await
        .unwrap();
    assert_eq!(
        listed.items.last(),
        read.first(),
        "the same record as the list"
    );
    let too_many: Vec<i64> = (0..5_000).collect();
    assert!(f.store.visits_by_ids(&too_many).await.is_ok());

    f.store.delete_url(&f.slug("gone")).await.unwrap();
    assert_eq!(f.store.visit_total(None).await.unwrap(), 2);
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
    f.store.prune_visits(tomorrow, 100).await.unwrap();
    assert_eq!(f.store.visit_total(None).await.unwrap(), 0);
}

/// An editor's live stream starts from the visits of its own URLs, and each visit read back
/// for the stream names the key that created its URL.
async fn visit_totals_and_records_know_the_owner(backend: Backend) {
    let f = fixture(backend).await;
    let (alice, _) = f.api_key(Role::Editor, "alice").await;
    let (bob, _) = f.api_key(Role::Editor, "bob").await;
    let a = f
        .create_owned("a", "https://alice.example/", alice.id)
        .await;
    let b = f.create_owned("b", "https://bob.example/", bob.id).await;
    let nobody = f.create("n", "https://example.com/").await;
    let ids = f
        .store
        .record_visits(&[
            visit(a.id, 1),
            visit(a.id, 2),
            visit(b.id, 1),
            visit(nobody.id, 1),
        ])
        .await
        .unwrap();
    assert_eq!(f.store.visit_total(None).await.unwrap(), 4);
    assert_eq!(f.store.visit_total(Some(alice.id)).await.unwrap(), 2);
    assert_eq!(f.store.visit_total(Some(bob.id)).await.unwrap(), 1);
    let owners: Vec<Option<i64>> = f
        .store
        .visits_by_ids(&ids)
        .await
        .unwrap()
        .iter()
        .map(|v| v.url_created_by)
        .collect();
    assert_eq!(owners, [Some(alice.id), Some(alice.id), Some(bob.id), None]);
}

/// An editor's visit list walks every visit of its links, newest first, page by page, with
/// the filters applied, however the visits are spread over its links.
async fn owner_visit_pages_walk_every_visit_of_the_owners_links(backend: Backend) {
    let f = fixture(backend).await;
    let (alice, _) = f.api_key(Role::Editor, "alice").await;
    let (bob, _) = f.api_key(Role::Editor, "bob").await;
    let hot = f
        .create_owned("hot", "https://alice.example/hot", alice.id)
        .await;
    let cold = f
        .create_owned("cold", "https://alice.example/cold", alice.id)
        .await;
    let quiet = f
        .create_owned("quiet", "https://alice.example/quiet", alice.id)
        .await;
    let his = f.create_owned("his", "https://bob.example/", bob.id).await;
    let mut batch = Vec::new();
    for i in 0..40 {
        let url = match i % 8 {
            0 => &cold,
            1 | 2 => &his,
            _ => &hot,
        };
        let mut v = visit(url.id, 100 - i);
        v.is_bot = i % 3 == 0;
        batch.push(v);
    }
    let ids = f.store.record_visits(&batch).await.unwrap();
    let mine = |bots: Option<bool>| -> Vec<i64> {
        let mut expected: Vec<i64> = ids
            .iter()
            .zip(&batch)
            .filter(|(_, v)| v.url_id != his.id && bots.is_none_or(|b| v.is_bot == b))
            .map(|(id, _)| *id)
            .collect();
        expected.reverse();
        expected
    };
    for bots in [None, Some(false), Some(true)] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = f
                .store
                .list_visits(
                    VisitFilter {
                        owner: Some(alice.id),
                        is_bot: bots,
                        ..VisitFilter::default()
                    },
                    PageRequest { after, limit: 4 },
                )
                .await
                .unwrap();
            assert!(page
                .items
                .iter()
                .all(|v| v.url_created_by == Some(alice.id)));
            seen.extend(page.items.iter().map(|v| v.id));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, mine(bots), "bots: {bots:?}");
    }
    assert_ne!(quiet.id, hot.id);
}

/// A batch far larger than one statement (the SQLite writer's multi-row chunks, PostgreSQL's
/// COPY) stores every field exactly, in the batch's order, with text that needs escaping,
/// and its tallies (visit counts, rollups, total) come out as a row-by-row count would.
async fn large_batches_store_every_field_exactly_and_tally_once(backend: Backend) {
    let f = fixture(backend).await;
    let urls = [
        f.create("one", "https://example.com/1").await,
        f.create("two", "https://example.com/2").await,
        f.create("three", "https://example.com/3").await,
    ];
    let texts = [
        "tab\there",
        "line\nbreak\r\n",
        "back\\slash \\N",
        "quotes ' \" and ünïcödé ✓",
        "",
    ];
    let first_day = at(1, 0);
    let batch: Vec<NewVisit> = (0..1_001)
        .map(|i: i64| NewVisit {
            location: Default::default(),
            url_id: urls[(i % 3) as usize].id,
            visited_at: first_day + Duration::microseconds(i * 3_600_000_123),
            client_ip: match i % 3 {
                0 => Some("203.0.113.0".parse().unwrap()),
                1 => Some("2001:db8::".parse().unwrap()),
                _ => None,
            },
            user_agent: (i % 4 != 0).then(|| format!("{} #{i}", texts[(i % 5) as usize])),
            referrer: (i % 2 == 0).then(|| texts[(i % 5) as usize].to_owned()),
            referrer_host: (i % 2 == 0).then(|| "ref.example".to_owned()),
            browser: Some(["Firefox", "Chrome"][(i % 2) as usize].to_owned()),
            os: (i % 7 != 0).then(|| "Linux".to_owned()),
            device: Some("desktop".to_owned()),
            is_bot: i % 5 == 0,
            cap_taken: false,
            rule: None,
        })
        .collect();
    let ids = f.store.record_visits(&batch).await.unwrap();
    assert_eq!(ids.len(), batch.len());
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids ascend in batch order"
    );
    let mut read = Vec::new();
    for chunk in ids.chunks(store::MAX_VISITS_BY_IDS) {
        read.extend(f.store.visits_by_ids(chunk).await.unwrap());
    }
    assert_eq!(read.len(), batch.len());
    for ((record, sent), id) in read.iter().zip(&batch).zip(&ids) {
        assert_eq!(record.id, *id);
        assert_eq!(record.url_id, sent.url_id);
        assert_eq!(record.visited_at, sent.visited_at);
        assert_eq!(record.client_ip, sent.client_ip.map(|ip| ip.to_string()));
        assert_eq!(record.user_agent, sent.user_agent);
        assert_eq!(record.referrer, sent.referrer);
        assert_eq!(record.referrer_host, sent.referrer_host);
        assert_eq!(record.browser, sent.browser);
        assert_eq!(record.os, sent.os);
        assert_eq!(record.device, sent.device);
        assert_eq!(record.is_bot, sent.is_bot);
    }
    assert_eq!(f.store.visit_total(None).await.unwrap(), 1_001);
    for (n, url) in urls.iter().enumerate() {
        let sent: Vec<&NewVisit> = batch.iter().filter(|v| v.url_id == url.id).collect();
        let stored = f.store.get_url(&url.slug).await.unwrap();
        assert_eq!(stored.visit_count, sent.len() as i64, "url {n}");
        let stats = f
            .store
            .url_stats(StatsQuery {
                of: StatsOf::Url(url.id),
                from: day(1),
                to: first_day.date_naive() + chrono::Days::new(200),
                include_bots: true,
                top: 10,
            })
            .await
            .unwrap();
        assert_eq!(stats.visits, sent.len() as i64);
        assert_eq!(
            stats.bot_visits,
            sent.iter().filter(|v| v.is_bot).count() as i64
        );
        let per_day: i64 = stats.days.iter().map(|d| d.visits).sum();
        assert_eq!(per_day, sent.len() as i64);
        let firefox = sent
            .iter()
            .filter(|v| v.browser.as_deref() == Some("Firefox"))
            .count() as i64;
        let counted = stats
            .browsers
            .iter()
            .find(|b| b.value.as_deref() == Some("Firefox"))
            .map_or(0, |b| b.visits);
        assert_eq!(counted, firefox);
    }
    // A second batch adds to the same rollup rows and counts.
    f.store.record_visits(&batch[..10]).await.unwrap();
    assert_eq!(f.store.visit_total(None).await.unwrap(), 1_011);
    assert_eq!(
        f.store.get_url(&urls[0].slug).await.unwrap().visit_count,
        334 + 4
    );
}

/// A unique violation is told by its constraint: a key hash stored twice is not a taken slug
/// (see `duplicate_slugs_conflict` for that one).
async fn unique_violations_name_their_constraint(backend: Backend) {
    let f = fixture(backend).await;
    let (key, _) = f.api_key(Role::Viewer, "first").await;
    let twin = f
        .store
        .create_api_key(NewApiKey {
            name: "twin".into(),
            role: Role::Admin,
            prefix: key.prefix.clone(),
            key_hash: key.key_hash.clone(),
            created_at: Utc::now(),
        })
        .await;
    assert!(
        matches!(twin, Err(StoreError::Conflict(Unique::ApiKeyHash))),
        "{twin:?}"
    );
}

/// Every write to a link leaves a change log row with its slug, in order, whichever call made
/// it; a failed write leaves none. Readers page through the log by id, and old rows prune.
async fn every_link_change_is_logged(backend: Backend) {
    let f = fixture(backend).await;
    let start = f.store.last_link_change().await.unwrap();
    assert_eq!(start, 0, "a new database has no changes");
    assert!(f.store.may_have_changed().await.unwrap(), "first ask: yes");
    f.create("one", "https://example.com/1").await;
    f.store
        .update_url(
            &f.slug("one"),
            UrlPatch {
                crawlable: Some(true),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    let batch: Vec<NewUrl> = ["two", "one", "three"]
        .iter()
        .map(|slug| {
            NewUrl::plain(
                f.slug(slug),
                TargetUrl::parse("https://example.com/i", 2048).unwrap(),
                Utc::now(),
            )
        })
        .collect();
    assert_eq!(f.store.import_urls(&batch).await.unwrap().len(), 2);
    f.store.delete_url(&f.slug("two")).await.unwrap();
    // Writes that fail change nothing, so they log nothing.
    assert!(f.store.delete_url(&f.slug("gone")).await.is_err());
    assert!(f
        .store
        .update_url(&f.slug("gone"), UrlPatch::default())
        .await
        .is_err());
    let changes = f.store.link_changes_after(0, 100).await.unwrap();
    let slugs: Vec<&str> = changes.iter().map(|c| c.slug.as_str()).collect();
    assert_eq!(slugs, ["one", "one", "two", "three", "two"]);
    assert!(
        changes.windows(2).all(|w| w[0].id < w[1].id),
        "ordered by id"
    );
    let last = changes.last().unwrap().id;
    assert_eq!(f.store.last_link_change().await.unwrap(), last);
    let page = f.store.link_changes_after(changes[1].id, 2).await.unwrap();
    assert_eq!(page, changes[2..4].to_vec(), "pages after an id");
    assert!(f
        .store
        .link_changes_after(last, 10)
        .await
        .unwrap()
        .is_empty());
    // Visits written meanwhile are no link change.
    let one = f.store.get_url(&f.slug("one")).await.unwrap();
    f.store.record_visits(&[visit(one.id, 1)]).await.unwrap();
    assert_eq!(f.store.last_link_change().await.unwrap(), last);
    assert_eq!(
        f.store
            .prune_link_changes(Utc::now() - Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        f.store
            .prune_link_changes(Utc::now() + Duration::seconds(1))
            .await
            .unwrap(),
        5
    );
    assert_eq!(f.store.last_link_change().await.unwrap(), 0);
}

/// A link's own redirect status: stored on create and import, read back and resolved, changed
/// and cleared by patches, left alone by patches that do not name it.
async fn redirect_statuses_are_stored_and_resolved(backend: Backend) {
    let f = fixture(backend).await;
    let status = |code| Some(RedirectStatus::parse(code).unwrap());
    let new = |slug: &str, redirect_status| NewUrl {
        redirect_status,
        ..NewUrl::plain(
            f.slug(slug),
            TargetUrl::parse("https://example.com/", 2048).unwrap(),
            Utc::now(),
        )
    };
    let created = f.store.create_url(new("perm", status(301))).await.unwrap();
    assert_eq!(created.redirect_status, status(301));
    let resolved = f.store.resolve(&f.slug("perm")).await.unwrap().unwrap();
    assert_eq!(resolved.status, status(301));
    let patch = |redirect_status| UrlPatch {
        redirect_status,
        ..UrlPatch::default()
    };
    let patched = f
        .store
        .update_url(&f.slug("perm"), patch(Some(status(308))))
        .await
        .unwrap();
    assert_eq!(patched.redirect_status, status(308));
    let untouched = f
        .store
        .update_url(&f.slug("perm"), patch(None))
        .await
        .unwrap();
    assert_eq!(untouched.redirect_status, status(308));
    let cleared = f
        .store
        .update_url(&f.slug("perm"), patch(Some(None)))
        .await
        .unwrap();
    assert_eq!(cleared.redirect_status, None);
    assert_eq!(
        f.store
            .resolve(&f.slug("perm"))
            .await
            .unwrap()
            .unwrap()
            .status,
        None
    );
    let batch = [new("i307", status(307)), new("inone", None)];
    assert_eq!(f.store.import_urls(&batch).await.unwrap().len(), 2);
    assert_eq!(
        f.store
            .get_url(&f.slug("i307"))
            .await
            .unwrap()
            .redirect_status,
        status(307)
    );
    assert_eq!(
        f.store
            .get_url(&f.slug("inone"))
            .await
            .unwrap()
            .redirect_status,
        None
    );
}

/// A link's validity window and visit cap: stored on create and import (with the people's
/// visits an export carried), read back and resolved, changed and cleared by patches.
async fn validity_and_caps_are_stored_and_resolved(backend: Backend) {
    let f = fixture(backend).await;
    let at =
        |hours: i64| Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap() + Duration::hours(hours);
    let cap = |n| Some(MaxVisits::parse(n).unwrap());
    let new = |slug: &str, since, until, max_visits, human_visits| NewUrl {
        valid_since: since,
        valid_until: until,
        max_visits,
        human_visits,
        ..NewUrl::plain(
            f.slug(slug),
            TargetUrl::parse("https://example.com/", 2048).unwrap(),
            Utc::now(),
        )
    };
    let created = f
        .store
        .create_url(new("win", Some(at(1)), Some(at(2)), cap(3), 0))
        .await
        .unwrap();
    assert_eq!(
        (created.valid_since, created.valid_until, created.max_visits),
        (Some(at(1)), Some(at(2)), cap(3))
    );
    assert_eq!(created.visits_left(), Some(3));
    let resolved = f.store.resolve(&f.slug("win")).await.unwrap().unwrap();
    assert_eq!(
        (
            resolved.valid_since,
            resolved.valid_until,
            resolved.max_visits
        ),
        (Some(at(1)), Some(at(2)), cap(3))
    );
    let patched = f
        .store
        .update_url(
            &f.slug("win"),
            UrlPatch {
                valid_since: Some(None),
                max_visits: Some(cap(9)),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (patched.valid_since, patched.valid_until, patched.max_visits),
        (None, Some(at(2)), cap(9)),
        "a patch changes what it names only"
    );
    let cleared = f
        .store
        .update_url(
            &f.slug("win"),
            UrlPatch {
                valid_until: Some(None),
                max_visits: Some(None),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            cleared.valid_until,
            cleared.max_visits,
            cleared.visits_left()
        ),
        (None, None, None)
    );
    let batch = [
        new("imp", Some(at(5)), None, cap(4), 3),
        new("plain", None, None, None, 0),
    ];
    assert_eq!(f.store.import_urls(&batch).await.unwrap().len(), 2);
    let imported = f.store.get_url(&f.slug("imp")).await.unwrap();
    assert_eq!(
        (
            imported.valid_since,
            imported.max_visits,
            imported.human_visits
        ),
        (Some(at(5)), cap(4), 3)
    );
    assert_eq!(imported.visits_left(), Some(1));
    let plain = f.store.get_url(&f.slug("plain")).await.unwrap();
    assert_eq!((plain.valid_since, plain.max_visits), (None, None));
}

/// `take_visit` takes units of a cap until none is left, and says why it took none; the visit
/// writer adds to `human_visits` the people's visits that took no unit, never bots'.
async fn caps_are_taken_exactly_and_people_are_counted(backend: Backend) {
    let f = fixture(backend).await;
    let capped = f.create("capped", "https://example.com/").await;
    f.store
        .update_url(
            &f.slug("capped"),
            UrlPatch {
                max_visits: Some(Some(MaxVisits::parse(2).unwrap())),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    let plain = f.create("plain", "https://example.com/").await;
    assert_eq!(f.store.take_visit(capped.id).await.unwrap(), CapTake::Taken);
    assert_eq!(f.store.take_visit(capped.id).await.unwrap(), CapTake::Taken);
    assert_eq!(
        f.store.take_visit(capped.id).await.unwrap(),
        CapTake::Exhausted
    );
    assert_eq!(
        f.store.take_visit(plain.id).await.unwrap(),
        CapTake::Uncapped
    );
    assert_eq!(f.store.take_visit(-5).await.unwrap(), CapTake::Gone);
    let read = f.store.get_url(&f.slug("capped")).await.unwrap();
    assert_eq!((read.human_visits, read.visits_left()), (2, Some(0)));

    // Two people whose clicks took units, one who did not, one bot.
    let mut batch = vec![visit(capped.id, 3), visit(capped.id, 2)];
    batch.iter_mut().for_each(|v| v.cap_taken = true);
    batch.push(visit(capped.id, 1));
    let mut bot = visit(plain.id, 1);
    bot.is_bot = true;
    batch.push(bot);
    batch.push(visit(plain.id, 1));
    f.store.record_visits(&batch).await.unwrap();
    let read = f.store.get_url(&f.slug("capped")).await.unwrap();
    assert_eq!((read.visit_count, read.human_visits), (3, 3));
    let read = f.store.get_url(&f.slug("plain")).await.unwrap();
    assert_eq!((read.visit_count, read.human_visits), (2, 1));
    // Pruning lowers the visit count, never what the cap counts.
    let done = f
        .store
        .prune_visits(Utc::now().date_naive() + chrono::Days::new(1), 100)
        .await
        .unwrap();
    assert_eq!(done.visits, 5);
    let read = f.store.get_url(&f.slug("capped")).await.unwrap();
    assert_eq!((read.visit_count, read.human_visits), (0, 3));
}

/// `active_at` leaves out links before their window, after it, and with their cap reached.
async fn active_lists_leave_out_links_that_do_not_answer(backend: Backend) {
    let f = fixture(backend).await;
    let now = Utc::now();
    let patch = |since: Option<i64>, until: Option<i64>, cap: Option<i64>| UrlPatch {
        valid_since: since.map(|h| Some(now + Duration::hours(h))),
        valid_until: until.map(|h| Some(now + Duration::hours(h))),
        max_visits: cap.map(|n| Some(MaxVisits::parse(n).unwrap())),
        ..UrlPatch::default()
    };
    for (slug, change) in [
        ("open", patch(Some(-1), Some(1), Some(5))),
        ("later", patch(Some(1), None, None)),
        ("over", patch(None, Some(-1), None)),
        ("used", patch(None, None, Some(1))),
        ("plain", UrlPatch::default()),
    ] {
        f.create(slug, "https://example.com/").await;
        f.store.update_url(&f.slug(slug), change).await.unwrap();
    }
    let used = f.store.get_url(&f.slug("used")).await.unwrap();
    assert_eq!(f.store.take_visit(used.id).await.unwrap(), CapTake::Taken);
    let store = &f.store;
    let slugs = |filter| async move {
        let page = store.list_urls(first_page(10), filter).await.unwrap();
        page.items
            .into_iter()
            .map(|u| u.slug.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        slugs(UrlFilter {
            active_at: Some(now),
            ..UrlFilter::default()
        })
        .await,
        ["plain", "open"]
    );
    assert_eq!(slugs(UrlFilter::default()).await.len(), 5);
}

/// Rules and query forwarding: stored on create and import, read back and resolved, replaced
/// and removed by patches; visits keep their rule, and the rule rollup counts them per day
/// until pruning removes the days.
async fn rules_are_stored_resolved_and_counted(backend: Backend) {
    let f = fixture(backend).await;
    let targets = Settings::defaults(Environment::Development)
        .unwrap()
        .target
        .policy("http://127.0.0.1:8080")
        .unwrap();
    let rules = |json: serde_json::Value| {
        let specs: Vec<RuleSpec> = serde_json::from_value(json).unwrap();
        Rules::parse(&specs, &targets).unwrap()
    };
    let two = rules(serde_json::json!([
        {"target": "https://example.com/ios", "conditions": [{"type": "device", "value": "ios"}]},
        {"target": "https://example.com/de", "conditions": [
            {"type": "language", "value": "DE"}, {"type": "ip", "value": "10.0.0.0/8"}]}
    ]));
    let new = |slug: &str, rules: Option<Rules>, forward_query| NewUrl {
        rules,
        forward_query,
        ..NewUrl::plain(
            f.slug(slug),
            TargetUrl::parse("https://example.com/", 2048).unwrap(),
            Utc::now(),
        )
    };
    let created = f
        .store
        .create_url(new("r", two.clone(), true))
        .await
        .unwrap();
    assert_eq!(
        (created.rules.as_ref(), created.forward_query),
        (two.as_ref(), true)
    );
    assert_eq!(
        created.rules.unwrap().specs()[1].conditions[0].value,
        "de",
        "values are kept normalised"
    );
    let resolved = f.store.resolve(&f.slug("r")).await.unwrap().unwrap();
    assert_eq!(
        (resolved.rules, resolved.forward_query),
        (two.clone(), true)
    );
    let one = rules(serde_json::json!([
        {"target": "https://example.com/a", "conditions": [{"type": "query", "value": "a=1"}]}
    ]));
    let patched = f
        .store
        .update_url(
            &f.slug("r"),
            UrlPatch {
                rules: Some(one.clone()),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((patched.rules, patched.forward_query), (one, true));
    let cleared = f
        .store
        .update_url(
            &f.slug("r"),
            UrlPatch {
                rules: Some(None),
                forward_query: Some(false),
                ..UrlPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((cleared.rules, cleared.forward_query), (None, false));
    let batch = [new("ri", two.clone(), true), new("rn", None, false)];
    assert_eq!(f.store.import_urls(&batch).await.unwrap().len(), 2);
    let imported = f.store.get_url(&f.slug("ri")).await.unwrap();
    assert_eq!((imported.rules, imported.forward_query), (two, true));

    // Visits keep their rule; the rule rollup counts them, bots apart.
    let mut visits = vec![
        visit(imported.id, 3),
        visit(imported.id, 2),
        visit(imported.id, 1),
    ];
    visits[0].rule = Some(1);
    visits[1].rule = Some(1);
    visits[1].is_bot = true;
    visits[2].rule = Some(0);
    let mut plain = visit(imported.id, 1);
    plain.rule = None;
    visits.push(plain);
    f.store.record_visits(&visits).await.unwrap();
    let listed = f
        .store
        .list_visits(
            VisitFilter {
                url_id: Some(imported.id),
                ..VisitFilter::default()
            },
            first_page(10),
        )
        .await
        .unwrap();
    let kept: Vec<Option<i16>> = listed.items.iter().map(|v| v.rule).collect();
    assert_eq!(kept, [None, Some(0), Some(1), Some(1)]);
    let today = Utc::now().date_naive();
    let query = |include_bots| StatsQuery {
        of: StatsOf::Url(imported.id),
        from: today - chrono::Days::new(1),
        to: today,
        include_bots,
        top: 5,
    };
    let counts = |stats: kurz::store::UrlStats| -> Vec<(i16, i64)> {
        stats.rules.iter().map(|r| (r.rule, r.visits)).collect()
    };
    assert_eq!(
        counts(f.store.url_stats(query(true)).await.unwrap()),
        [(0, 1), (1, 2)]
    );
    assert_eq!(
        counts(f.store.url_stats(query(false)).await.unwrap()),
        [(0, 1), (1, 1)]
    );
    f.store
        .prune_visits(today + chrono::Days::new(1), 100)
        .await
        .unwrap();
    assert!(f
        .store
        .url_stats(query(true))
        .await
        .unwrap()
        .rules
        .is_empty());
}

/// A link's password hash: stored on create and import, read back exactly, set, kept and
/// removed by patches; `resolve` tells only that there is one; robots.txt never lists a link
/// with one, even one marked crawlable behind the application's back.
async fn password_hashes_are_stored_and_never_crawlable(backend: Backend) {
    let f = fixture(backend).await;
    let hash = |pw: &str| Password::parse(pw.into()).unwrap().hash();
    let (first, second) = (hash("first"), hash("second"));
    let new = |slug: &str, password_hash: Option<PasswordHash>| NewUrl {
        crawlable: true,
        password_hash,
        ..f.plain_url(slug)
    };
    let created = f
        .store
        .create_url(new("locked", Some(first.clone())))
        .await
        .unwrap();
    assert_eq!(created.password_hash.as_ref(), Some(&first));
    assert!(created.password_hash.unwrap().verify("first"));
    let resolved = f.store.resolve(&f.slug("locked")).await.unwrap().unwrap();
    assert!(resolved.protected);
    f.store.create_url(new("open", None)).await.unwrap();
    assert!(
        !f.store
            .resolve(&f.slug("open"))
            .await
            .unwrap()
            .unwrap()
            .protected
    );
    let listed: Vec<String> = f
        .store
        .crawlable_slugs(10)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(listed, ["open"], "a link with a password is never listed");

    let patch = |password_hash| UrlPatch {
        password_hash,
        ..UrlPatch::default()
    };
    let locked = f.slug("locked");
    let changed = f
        .store
        .update_url(&locked, patch(Some(Some(second.clone()))))
        .await
        .unwrap();
    assert_eq!(changed.password_hash.as_ref(), Some(&second));
    let kept = f.store.update_url(&locked, patch(None)).await.unwrap();
    assert_eq!(kept.password_hash.as_ref(), Some(&second));
    let removed = f
        .store
        .update_url(&locked, patch(Some(None)))
        .await
        .unwrap();
    assert_eq!(removed.password_hash, None);
    assert!(!f.store.resolve(&locked).await.unwrap().unwrap().protected);

    let batch = [new("i-locked", Some(first.clone())), new("i-open", None)];
    assert_eq!(f.store.import_urls(&batch).await.unwrap().len(), 2);
    let imported = f.store.get_url(&f.slug("i-locked")).await.unwrap();
    assert_eq!(imported.password_hash.as_ref(), Some(&first));
    let open = f.store.get_url(&f.slug("i-open")).await.unwrap();
    assert_eq!(open.password_hash, None);
}

on_both_backends!(
    titles_fill_only_untitled_links,
    password_hashes_are_stored_and_never_crawlable,
    redirect_statuses_are_stored_and_resolved,
    rules_are_stored_resolved_and_counted,
    validity_and_caps_are_stored_and_resolved,
    caps_are_taken_exactly_and_people_are_counted,
    active_lists_leave_out_links_that_do_not_answer,
    unique_violations_name_their_constraint,
    every_link_change_is_logged,
    large_batches_store_every_field_exactly_and_tally_once,
    owner_visit_pages_walk_every_visit_of_the_owners_links,
    visit_totals_and_records_know_the_owner,
    api_keys_are_found_by_hash_until_revoked,
    urls_record_their_creator_and_lists_filter_by_it,
    stored_ids_read_back_and_totals_follow,
    search_matches_slug_then_host_prefixes,
    imports_skip_existing_slugs,
    visit_lists_filter_by_time_and_bot,
    stats_come_from_rollups_kept_by_each_batch,
    migrations_are_idempotent_and_ping_answers,
    created_urls_read_back_exactly,
    duplicate_slugs_conflict,
    missing_urls_are_not_found,
    patches_change_only_what_they_name,
    url_pages_walk_newest_first_without_gaps,
    visits_are_stored_counted_and_listed,
    visits_of_deleted_urls_are_skipped_and_deletes_cascade,
    crawlable_slugs_are_listed_for_robots,
    concurrent_batches_keep_counts_exact,
    migration_status_lists_pending_then_applied,
    urls_oldest_first_pages_in_creation_order,
    pruning_keeps_visit_counts_and_rollups_consistent,
);
