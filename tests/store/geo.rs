//! Visit locations in the store: stored and read back with the visit, filtered on, counted in
//! the geo rollup (countries and cities of a link or a tag), pruned with the other rollups and
//! deleted with the link.

use chrono::{NaiveDate, TimeZone, Utc};
use kurz::domain::{Location, TagName};
use kurz::store::{CityCount, NewUrl, NewVisit, StatsOf, StatsQuery, ValueCount, VisitFilter};

use super::{first_page, fixture, visit, Backend};

fn place(country: &str, region: &str, city: &str, lat: f64, lon: f64, tz: &str) -> Location {
    Location {
        country: Some(country.parse().unwrap()),
        region: Some(region.into()),
        city: Some(city.into()),
        latitude: Some(lat),
        longitude: Some(lon),
        timezone: Some(tz.into()),
    }
}

fn berlin() -> Location {
    place(
        "DE",
        "Land Berlin",
        "Berlin",
        52.5244,
        13.4105,
        "Europe/Berlin",
    )
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn located(url_id: i64, d: u32, location: Location, is_bot: bool) -> NewVisit {
    NewVisit {
        location,
        is_bot,
        visited_at: Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap(),
        ..visit(url_id, 0)
    }
}

fn query(of: StatsOf, top: u32, include_bots: bool) -> StatsQuery {
    StatsQuery {
        of,
        from: day(1),
        to: day(4),
        include_bots,
        top,
    }
}

fn count(value: Option<&str>, visits: i64) -> ValueCount {
    ValueCount {
        value: value.map(str::to_owned),
        visits,
    }
}

fn city(country: &str, city: &str, visits: i64) -> CityCount {
    CityCount {
        country: Some(country.into()),
        city: Some(city.into()),
        visits,
    }
}

async fn locations_are_stored_filtered_and_counted(backend: Backend) {
    let f = fixture(backend).await;
    let tag = TagName::parse("world", "tags").unwrap();
    let a = f
        .store
        .create_url(NewUrl {
            tags: vec![tag.clone()],
            ..f.plain_url("geo-a")
        })
        .await
        .unwrap();
    let b = f.create("geo-b", "https://example.com/b").await;
    let paris = place(
        "FR",
        "Île-de-France",
        "Paris",
        48.8534,
        2.3488,
        "Europe/Paris",
    );
    let batch = vec![
        located(a.id, 1, berlin(), false),
        located(a.id, 2, berlin(), false),
        located(a.id, 2, berlin(), true),
        located(a.id, 3, paris.clone(), false),
        located(a.id, 3, Location::default(), false),
        // A country file's location: no city.
        located(
            a.id,
            3,
            Location {
                country: Some("DE".parse().unwrap()),
                ..Location::default()
            },
            false,
        ),
        located(b.id, 1, paris.clone(), false),
    ];
    let ids = f.store.record_visits(&batch).await.unwrap();
    assert_eq!(ids.len(), 7);

    // Every field reads back exactly.
    let stored = f.store.visits_by_ids(&ids).await.unwrap();
    for (visit, sent) in stored.iter().zip(&batch) {
        assert_eq!(visit.location, sent.location);
    }

    // The country filter, alone and with the others, keyset-paginated.
    let germany = VisitFilter {
        country: Some("DE".parse().unwrap()),
        ..VisitFilter::default()
    };
    let page = f.store.list_visits(germany, first_page(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.next.is_some());
    let rest = f
        .store
        .list_visits(
            germany,
            kurz::store::PageRequest {
                after: page.next,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest
        .items
        .iter()
        .chain(&page.items)
        .all(|v| v.location.country.unwrap().as_str() == "DE"));
    let french_b = VisitFilter {
        country: Some("FR".parse().unwrap()),
        url_id: Some(b.id),
        ..VisitFilter::default()
    };
    let page = f.store.list_visits(french_b, first_page(10)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].url_id, b.id);
    let german_people = VisitFilter {
        is_bot: Some(false),
        ..germany
    };
    let page = f
        .store
        .list_visits(german_people, first_page(10))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);

    // Countries (unknown included) and known cities, of the link and of its tag.
    let stats = f
        .store
        .url_stats(query(StatsOf::Url(a.id), 10, false))
        .await
        .unwrap();
    assert_eq!(
        stats.countries,
        [count(Some("DE"), 3), count(None, 1), count(Some("FR"), 1)]
    );
    assert_eq!(
        stats.cities,
        [city("DE", "Berlin", 2), city("FR", "Paris", 1)]
    );
    let with_bots = f
        .store
        .url_stats(query(StatsOf::Url(a.id), 1, true))
        .await
        .unwrap();
    assert_eq!(with_bots.countries, [count(Some("DE"), 4)]);
    assert_eq!(with_bots.cities, [city("DE", "Berlin", 3)]);
    let tag_id = f.store.get_tag(&tag, None).await.unwrap().id;
    let tagged = f
        .store
        .url_stats(query(
            StatsOf::Tag {
                id: tag_id,
                owner: None,
            },
            10,
            false,
        ))
        .await
        .unwrap();
    assert_eq!(tagged.countries, stats.countries);

    // Pruning the first two days takes their geo rollup rows too.
    loop {
        if f.store.prune_visits(day(3), 100).await.unwrap().done {
            break;
        }
    }
    let pruned = f
        .store
        .url_stats(query(StatsOf::Url(a.id), 10, true))
        .await
        .unwrap();
    assert_eq!(
        pruned.countries,
        // Ties in the order of their value, unknown ('') first.
        [count(None, 1), count(Some("DE"), 1), count(Some("FR"), 1)]
    );
    assert_eq!(pruned.cities, [city("FR", "Paris", 1)]);

    // Deleting a link deletes its rows.
    f.store.delete_url(&f.slug("geo-b")).await.unwrap();
    let gone = f
        .store
        .url_stats(query(StatsOf::Url(b.id), 10, true))
        .await
        .unwrap();
    assert_eq!(gone.countries, []);
}

crate::on_both_backends!(locations_are_stored_filtered_and_counted);
