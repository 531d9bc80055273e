//! Imports in the store: links created with their import marks in one transaction, visits and
//! counted clicks added with exactly the tallies live clicks get (counts, tags, rollups,
//! totals, statistics), the marks moved with them, and no webhook delivery for history.

use chrono::{NaiveDate, TimeZone, Utc};
use kurz::domain::{Location, TagName, TargetUrl, WebhookEvent, WebhookSecret};
use kurz::store::{
    ImportMark, NewUrl, NewVisit, NewWebhook, RollupCount, StatsOf, StatsQuery, UrlRecord,
};

use super::orphans::orphan;
use super::{fixture, visit, Backend, Fixture};

const SOURCE: &str = "yourls:127.0.0.1/test/yourls_";

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn query(of: StatsOf, include_bots: bool) -> StatsQuery {
    StatsQuery {
        of,
        from: day(1),
        to: day(5),
        include_bots,
        top: 10,
    }
}

impl Fixture {
    async fn link_tagged(&self, slug: &str, tag: &str) -> UrlRecord {
        self.store
            .create_url(NewUrl {
                tags: vec![TagName::parse(tag, "tags").unwrap()],
                ..NewUrl::plain(
                    self.slug(slug),
                    TargetUrl::parse("https://example.com/", 2048).unwrap(),
                    Utc::now(),
                )
            })
            .await
            .unwrap()
    }
}

/// Clicks of several kinds over several days: browsers, bots, places, referrers.
fn clicks(url_id: i64) -> Vec<NewVisit> {
    let mut visits = Vec::new();
    for i in 0..40u32 {
        let mut v = visit(url_id, 0);
        v.visited_at = Utc
            .with_ymd_and_hms(2026, 11, 1 + i % 4, i % 24, 0, 0)
            .unwrap();
        v.browser = [Some("Firefox"), Some("Chrome"), None][i as usize % 3].map(str::to_owned);
        v.os = [Some("Linux"), Some("Windows")][i as usize % 2].map(str::to_owned);
        v.is_bot = i % 5 == 0;
        v.referrer_host = (i % 4 != 0).then(|| format!("ref{}.example", i % 3));
        if i % 3 != 0 {
            v.location = Location {
                country: Some(["DE", "FR"][i as usize % 2].parse().unwrap()),
                city: (i % 2 == 0).then(|| "Berlin".to_owned()),
                ..Location::default()
            };
        }
        visits.push(v);
    }
    visits
}

async fn imported_visits_count_as_live_ones(backend: Backend) {
    let f = fixture(backend).await;
    let hook = NewWebhook {
        url: "https://hooks.example.com/visits".into(),
        secret: WebhookSecret::parse("0123456789abcdef").unwrap(),
        events: vec![WebhookEvent::Visit],
        created_by: None,
    };
    f.store.create_webhook(hook).await.unwrap();
    let live = f.link_tagged("live", "live-tag").await;
    let imported = f
        .store
        .import_marked_urls(
            SOURCE,
            &[NewUrl {
                tags: vec![TagName::parse("imported-tag", "tags").unwrap()],
                ..f.plain_url("imported")
            }],
            &["imported".to_owned()],
        )
        .await
        .unwrap();
    let [(imported_id, _)] = imported.as_slice() else {
        panic!("one link created: {imported:?}")
    };
    let imported_id = *imported_id;
    let lease = std::time::Duration::from_secs(60);
    // The webhook's only deliveries: the link created by hand (the import creates no event
    // for history, but a link created is a change like any other: see below).
    let before: Vec<_> = f.store.claim_deliveries(100, lease, &[]).await.unwrap();

    f.store.record_visits(&clicks(live.id)).await.unwrap();
    let mark = ImportMark {
        source_id: "imported".into(),
        url_id: imported_id,
        visits_through: Some("40".into()),
    };
    let added = f
        .store
        .import_visits(SOURCE, &clicks(imported_id), std::slice::from_ref(&mark))
        .await
        .unwrap();
    assert_eq!(added, 40);

    // The same statistics, with and without bots.
    for bots in [false, true] {
        let a = f
            .store
            .url_stats(query(StatsOf::Url(live.id), bots))
            .await
            .unwrap();
        let b = f
            .store
            .url_stats(query(StatsOf::Url(imported_id), bots))
            .await
            .unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(a.visits, if bots { 40 } else { 32 });
    }
    // The same counters.
    let a = f.store.get_url(&f.slug("live")).await.unwrap();
    let b = f.store.get_url(&f.slug("imported")).await.unwrap();
    assert_eq!((a.visit_count, a.human_visits), (40, 32));
    assert_eq!((b.visit_count, b.human_visits), (40, 32));
    assert_eq!((a.bot_visits, b.bot_visits), (8, 8));
    let live_tag = f
        .store
        .get_tag(&TagName::parse("live-tag", "tags").unwrap(), None)
        .await
        .unwrap();
    let imported_tag = f
        .store
        .get_tag(&TagName::parse("imported-tag", "tags").unwrap(), None)
        .await
        .unwrap();
    assert_eq!(live_tag.visits, 40);
    assert_eq!(imported_tag.visits, 40);
    assert_eq!((live_tag.bot_visits, imported_tag.bot_visits), (8, 8));
    assert_eq!(f.store.visit_total(None).await.unwrap(), 80);
    let global = f.store.global_stats(day(1), day(5), true).await.unwrap();
    assert_eq!(global.visits, 80);
    assert_eq!(global.bot_visits, 16);

    // The mark moved with the visits.
    assert_eq!(f.store.import_marks(SOURCE).await.unwrap(), vec![mark]);
    assert!(f.store.import_marks("kutt:other").await.unwrap().is_empty());

    // Live visits queued a delivery for the subscriber; imported ones none.
    let after = f.store.claim_deliveries(100, lease, &[]).await.unwrap();
    assert_eq!(
        after.len(),
        1,
        "one delivery (the live batch) after {} before",
        before.len()
    );
}

async fn marked_links_are_created_once_and_counts_add_up(backend: Backend) {
    let f = fixture(backend).await;
    f.store.create_url(f.plain_url("taken")).await.unwrap();
    let batch = [f.plain_url("taken"), f.plain_url("fresh")];
    let ids = ["k1".to_owned(), "k2".to_owned()];
    let created = f
        .store
        .import_marked_urls(SOURCE, &batch, &ids)
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    let fresh = created[0].0;
    // Only the link created is marked; a second run creates nothing.
    let marks = f.store.import_marks(SOURCE).await.unwrap();
    assert_eq!(
        marks,
        vec![ImportMark {
            source_id: "k2".into(),
            url_id: fresh,
            visits_through: None,
        }]
    );
    assert!(f
        .store
        .import_marked_urls(SOURCE, &batch, &ids)
        .await
        .unwrap()
        .is_empty());

    // Counted clicks: the link's counts, its statistics and the totals, without visit rows.
    let count = |d: u32, browser: &str, country: &str, visits: i64, bot_visits: i64| RollupCount {
        url_id: fresh,
        day: day(d),
        browser: browser.into(),
        country: country.into(),
        visits,
        bot_visits,
        ..RollupCount::default()
    };
    let counts = [
        count(1, "Chrome", "DE", 5, 0),
        count(1, "Firefox", "", 3, 1),
        count(2, "", "", 2, 0),
    ];
    let moved = ImportMark {
        visits_through: Some("2026-11-02T23:00:00Z".into()),
        ..marks[0].clone()
    };
    let added = f
        .store
        .import_rollups(SOURCE, &counts, std::slice::from_ref(&moved))
        .await
        .unwrap();
    assert_eq!(added, 10);
    let link = f.store.get_url(&f.slug("fresh")).await.unwrap();
    assert_eq!(
        (link.visit_count, link.human_visits, link.bot_visits),
        (10, 9, 1)
    );
    assert_eq!(f.store.visit_total(None).await.unwrap(), 10);
    let stats = f
        .store
        .url_stats(query(StatsOf::Url(fresh), true))
        .await
        .unwrap();
    assert_eq!(stats.visits, 10);
    assert_eq!(stats.bot_visits, 1);
    let browsers: Vec<(Option<String>, i64)> = stats
        .browsers
        .iter()
        .map(|c| (c.value.clone(), c.visits))
        .collect();
    assert_eq!(
        browsers,
        [
            (Some("Chrome".into()), 5),
            (Some("Firefox".into()), 3),
            (None, 2)
        ]
    );
    let countries: Vec<(Option<String>, i64)> = stats
        .countries
        .iter()
        .map(|c| (c.value.clone(), c.visits))
        .collect();
    // Ties in the order of their value, unknown first.
    assert_eq!(countries, [(None, 5), (Some("DE".into()), 5)]);
    assert_eq!(f.store.import_marks(SOURCE).await.unwrap(), vec![moved]);
}

/// Orphan visits imported (Shlink's) are stored with their rollups as live ones are, move the
/// source's orphan mark in their transaction, and queue no webhook delivery.
async fn imported_orphan_visits_move_their_mark_and_queue_nothing(backend: Backend) {
    use kurz::domain::OrphanKind;
    let f = fixture(backend).await;
    let hook = NewWebhook {
        url: "https://hooks.example.com/orphans".into(),
        secret: WebhookSecret::parse("0123456789abcdef").unwrap(),
        events: vec![WebhookEvent::OrphanVisit],
        created_by: None,
    };
    f.store.create_webhook(hook).await.unwrap();
    assert_eq!(f.store.import_orphan_mark(SOURCE).await.unwrap(), None);
    let orphans = [
        orphan(OrphanKind::BaseUrl, "/", 2, false),
        orphan(OrphanKind::InvalidSlug, "/gone", 1, false),
        orphan(OrphanKind::Regular404, "/wp-login.php", 1, true),
    ];
    let added = f
        .store
        .import_orphan_visits(SOURCE, &orphans, "2026-11-01T00:00:00Z#0")
        .await
        .unwrap();
    assert_eq!(added, 3);
    assert_eq!(
        f.store.import_orphan_mark(SOURCE).await.unwrap().as_deref(),
        Some("2026-11-01T00:00:00Z#0")
    );
    assert_eq!(
        f.store.import_orphan_mark("shlink:other").await.unwrap(),
        None
    );
    // A batch of none moves the mark alone.
    let added = f
        .store
        .import_orphan_visits(SOURCE, &[], "2026-11-02T00:00:00Z#0")
        .await
        .unwrap();
    assert_eq!(added, 0);
    assert_eq!(
        f.store.import_orphan_mark(SOURCE).await.unwrap().as_deref(),
        Some("2026-11-02T00:00:00Z#0")
    );
    assert_eq!(f.store.orphan_visit_total().await.unwrap(), 3);
    let today = Utc::now().date_naive();
    let global = f
        .store
        .global_stats(today - chrono::Days::new(3), today, true)
        .await
        .unwrap();
    assert_eq!((global.orphan_visits, global.orphan_bot_visits), (3, 1));
    let lease = std::time::Duration::from_secs(60);
    assert!(f
        .store
        .claim_deliveries(100, lease, &[])
        .await
        .unwrap()
        .is_empty());
    // Live ones still do.
    f.store.record_orphan_visits(&orphans[..1]).await.unwrap();
    assert_eq!(
        f.store
            .claim_deliveries(100, lease, &[])
            .await
            .unwrap()
            .len(),
        1
    );
}

crate::on_both_backends!(
    imported_visits_count_as_live_ones,
    marked_links_are_created_once_and_counts_add_up,
    imported_orphan_visits_move_their_mark_and_queue_nothing
);
