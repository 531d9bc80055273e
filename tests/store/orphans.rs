//! Orphan visits in the store: written in batches with their rollups, listed newest first with
//! filters, counted per day with link visits, and pruned; the per-day link totals follow every
//! way visits leave.

use chrono::{Days, Duration, NaiveDate, TimeZone, Utc};
use kurz::domain::{Location, OrphanKind};
use kurz::store::{NewOrphanVisit, OrphanFilter, PageRequest};

use super::{first_page, fixture, visit, Backend};

pub(super) fn orphan(kind: OrphanKind, path: &str, days_ago: u64, is_bot: bool) -> NewOrphanVisit {
    NewOrphanVisit {
        kind,
        path: path.into(),
        visited_at: Utc::now() - Duration::days(days_ago as i64),
        client_ip: Some("203.0.113.0".parse().unwrap()),
        user_agent: Some("agent".into()),
        referrer: None,
        referrer_host: None,
        browser: Some("Firefox".into()),
        os: None,
        device: Some("desktop".into()),
        is_bot,
        location: Location {
            country: Some("DE".parse().unwrap()),
            city: Some("Berlin".into()),
            latitude: Some(52.52),
            ..Location::default()
        },
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn orphan_visits_are_written_listed_and_filtered(backend: Backend) {
    let f = fixture(backend).await;
    let batch = [
        orphan(OrphanKind::InvalidSlug, "/a", 0, false),
        orphan(OrphanKind::BaseUrl, "/", 0, true),
        orphan(OrphanKind::Regular404, "/x/y", 1, false),
        orphan(OrphanKind::Expired, "/old", 2, false),
    ];
    let ids = f.store.record_orphan_visits(&batch).await.unwrap();
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(
        f.store.record_orphan_visits(&[]).await.unwrap(),
        Vec::<i64>::new()
    );

    let all = f
        .store
        .list_orphan_visits(OrphanFilter::default(), first_page(10))
        .await
        .unwrap();
    let paths: Vec<&str> = all.items.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["/old", "/x/y", "/", "/a"]);
    let first = &all.items[3];
    assert_eq!(first.kind, OrphanKind::InvalidSlug);
    assert_eq!(first.client_ip.as_deref(), Some("203.0.113.0"));
    assert_eq!(first.device.as_deref(), Some("desktop"));
    assert_eq!(
        first.location.country.map(String::from).as_deref(),
        Some("DE")
    );
    assert_eq!(first.location.city.as_deref(), Some("Berlin"));
    assert_eq!(first.location.latitude, Some(52.52));
    assert_eq!(first.location.timezone, None);

    let only = |filter: OrphanFilter| {
        let store = f.store.clone();
        async move {
            store
                .list_orphan_visits(filter, first_page(10))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|v| v.path)
                .collect::<Vec<_>>()
        }
    };
    let kind = |kind: OrphanKind| OrphanFilter {
        kinds: kind.alone(),
        ..OrphanFilter::default()
    };
    assert_eq!(only(kind(OrphanKind::Regular404)).await, ["/x/y"]);
    let bots = OrphanFilter {
        is_bot: Some(true),
        ..OrphanFilter::default()
    };
    assert_eq!(only(bots).await, ["/"]);
    let since_yesterday = OrphanFilter {
        from: Some(Utc::now() - Duration::hours(36)),
        ..OrphanFilter::default()
    };
    assert_eq!(only(since_yesterday).await, ["/x/y", "/", "/a"]);

    // Keyset pages.
    let page = f
        .store
        .list_orphan_visits(OrphanFilter::default(), first_page(3))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let rest = f
        .store
        .list_orphan_visits(
            OrphanFilter::default(),
            PageRequest {
                after: page.next,
                limit: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].path, "/a");
    assert!(rest.next.is_none());
}

async fn site_stats_count_link_and_orphan_visits_per_day(backend: Backend) {
    let f = fixture(backend).await;
    let kept = f.create("kept", "https://example.com/k").await;
    let gone = f.create("gone", "https://example.com/g").await;
    let mut bot = visit(kept.id, 0);
    bot.is_bot = true;
    f.store
        .record_visits(&[
            visit(kept.id, 0),
            bot,
            visit(gone.id, 0),
            visit(gone.id, 86_400),
        ])
        .await
        .unwrap();
    f.store
        .record_orphan_visits(&[
            orphan(OrphanKind::InvalidSlug, "/a", 0, false),
            orphan(OrphanKind::InvalidSlug, "/b", 0, true),
            orphan(OrphanKind::Expired, "/c", 1, false),
        ])
        .await
        .unwrap();
    let from = today().checked_sub_days(Days::new(2)).unwrap();
    let stats = f.store.global_stats(from, today(), false).await.unwrap();
    assert_eq!((stats.visits, stats.bot_visits), (3, 1));
    assert_eq!((stats.orphan_visits, stats.orphan_bot_visits), (2, 1));
    assert_eq!(stats.days.len(), 3);
    let last = stats.days[2];
    assert_eq!((last.day, last.visits, last.orphan_visits), (today(), 2, 1));
    assert_eq!((stats.days[1].visits, stats.days[1].orphan_visits), (1, 1));
    assert_eq!((stats.days[0].visits, stats.days[0].orphan_visits), (0, 0));
    assert_eq!(stats.orphan_types[0], (OrphanKind::InvalidSlug, 1));
    assert_eq!(stats.orphan_types[1], (OrphanKind::Expired, 1));
    let with_bots = f.store.global_stats(from, today(), true).await.unwrap();
    assert_eq!((with_bots.visits, with_bots.orphan_visits), (4, 3));
    assert_eq!(f.store.orphan_visit_total().await.unwrap(), 3);

    // A deleted link's visits leave the day totals (its rollups' cascade).
    f.store.delete_url(&gone.slug).await.unwrap();
    let stats = f.store.global_stats(from, today(), true).await.unwrap();
    assert_eq!(stats.visits, 2);
    assert_eq!(stats.days[1].visits, 0);
}

async fn pruning_removes_orphans_and_day_totals_before_the_cut(backend: Backend) {
    let f = fixture(backend).await;
    let link = f.create("p", "https://example.com/p").await;
    f.store
        .record_visits(&[visit(link.id, 0), visit(link.id, 3 * 86_400)])
        .await
        .unwrap();
    f.store
        .record_orphan_visits(&[
            orphan(OrphanKind::InvalidSlug, "/new", 0, false),
            orphan(OrphanKind::InvalidSlug, "/old1", 3, false),
            orphan(OrphanKind::BaseUrl, "/", 3, false),
        ])
        .await
        .unwrap();
    let cut = today().checked_sub_days(Days::new(1)).unwrap();
    let first = f.store.prune_orphan_visits(cut, 1).await.unwrap();
    assert_eq!((first.visits, first.done), (1, false));
    let second = f.store.prune_orphan_visits(cut, 10).await.unwrap();
    assert_eq!((second.visits, second.done), (1, true));
    assert_eq!(second.rollup_rows, 2);
    let left = f
        .store
        .list_orphan_visits(OrphanFilter::default(), first_page(10))
        .await
        .unwrap();
    assert_eq!(left.items.len(), 1);
    assert_eq!(f.store.orphan_visit_total().await.unwrap(), 1);

    assert!(f.store.prune_visits(cut, 10).await.unwrap().done);
    let week = today().checked_sub_days(Days::new(6)).unwrap();
    let stats = f.store.global_stats(week, today(), true).await.unwrap();
    assert_eq!((stats.visits, stats.orphan_visits), (1, 1));
    // Far in the past: nothing, not an error.
    let old = Utc
        .with_ymd_and_hms(2001, 1, 1, 0, 0, 0)
        .unwrap()
        .date_naive();
    let empty = f.store.global_stats(old, old, true).await.unwrap();
    assert_eq!((empty.visits, empty.days.len()), (0, 1));
}

crate::on_both_backends!(
    orphan_visits_are_written_listed_and_filtered,
    site_stats_count_link_and_orphan_visits_per_day,
    pruning_removes_orphans_and_day_totals_before_the_cut,
);
