//! Geolocation: each file layout kurz reads, visits located before their address is
//! anonymised, countries and cities in the statistics, the `country` filter and rule
//! condition, and a replaced file picked up (by modification time, by SIGHUP, by a reload)
//! while a broken one is refused and the old one keeps serving.
//!
//! The `.mmdb` files are built by `scripts/geo-fixtures.sh` (which `scripts/test.sh` runs)
//! into `target/geo-fixtures/`; see `scripts/geo_fixtures.py` for what they hold.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kurz::config::Settings;
use kurz::geo::{Geo, GeoDatabase, Layout};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};

/// Berlin in the city files (Vienna in city-v2.mmdb), Paris, and an address no file knows.
pub const BERLIN: &str = "203.0.113.7";
const PARIS: &str = "198.51.100.9";
const NOWHERE: &str = "100.64.0.1";

/// A file of `target/geo-fixtures/`; a missing one fails the test with how to build it.
pub fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/geo-fixtures")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: the geolocation tests need the files scripts/geo-fixtures.sh builds \
         (scripts/test.sh runs it; it needs python3-venv and npm)",
        path.display()
    );
    path
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn open(name: &str) -> GeoDatabase {
    GeoDatabase::open(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

#[test]
fn each_layout_maps_its_fields() {
    for (name, layout, database_type, timezone) in [
        (
            "city.mmdb",
            Layout::MaxMindCity,
            "GeoLite2-City",
            Some("Europe/Berlin"),
        ),
        (
            "dbip-city.mmdb",
            Layout::MaxMindCity,
            "DBIP-City-Lite",
            None,
        ),
        (
            "flat-city.mmdb",
            Layout::FlatCity,
            "city ipvAll",
            Some("Europe/Berlin"),
        ),
    ] {
        let db = open(name);
        assert_eq!(db.layout(), layout, "{name}");
        assert_eq!(db.database_type(), database_type);
        let place = db.locate(ip(BERLIN));
        assert_eq!(
            place.country.map(String::from).as_deref(),
            Some("DE"),
            "{name}: {place:?}"
        );
        assert_eq!(place.region.as_deref(), Some("Land Berlin"), "{name}");
        assert_eq!(place.city.as_deref(), Some("Berlin"), "{name}");
        assert_eq!(place.latitude, Some(52.5244), "{name}");
        assert_eq!(place.longitude, Some(13.4105), "{name}");
        assert_eq!(place.timezone.as_deref(), timezone, "{name}");
        // IPv6, and an IPv4-mapped IPv6 address read as IPv4.
        let london = db.locate(ip("2001:db8:1::5"));
        assert_eq!(london.city.as_deref(), Some("London"), "{name}");
        let mapped = db.locate(ip(&format!("::ffff:{BERLIN}")));
        assert_eq!(mapped.city.as_deref(), Some("Berlin"), "{name}");
        assert!(db.locate(ip(NOWHERE)).is_unknown(), "{name}");
    }
    let country = open("country.mmdb");
    assert_eq!(country.layout(), Layout::MaxMindCountry);
    let place = country.locate(ip(PARIS));
    assert_eq!(place.country.unwrap().as_str(), "FR");
    assert_eq!((place.city, place.latitude), (None, None));
}

/// The real CC0 file of ip-location-db (flat `country_code` records).
#[test]
fn the_cc0_country_file_reads_as_the_flat_country_layout() {
    let db = open("cc0-country.mmdb");
    assert_eq!(db.layout(), Layout::FlatCountry);
    assert_eq!(db.database_type(), "country ipvAll");
    assert!(db.build_time().is_some());
    for (address, country) in [
        ("8.8.8.8", "US"),
        ("1.1.1.1", "AU"),
        ("193.99.144.80", "DE"),
    ] {
        let place = db.locate(ip(address));
        assert_eq!(place.country.unwrap().as_str(), country, "{address}");
        assert_eq!(place.city, None);
    }
    assert!(db.locate(ip("10.0.0.1")).is_unknown());
}

#[test]
fn unknown_layouts_and_broken_files_are_refused_clearly() {
    let asn = GeoDatabase::open(&fixture("asn.mmdb"))
        .unwrap_err()
        .to_string();
    assert!(asn.contains("asn.mmdb"), "{asn}");
    assert!(
        asn.contains("`GeoLite2-ASN` is not a layout kurz reads"),
        "{asn}"
    );
    let broken = GeoDatabase::open(&fixture("broken.mmdb"))
        .unwrap_err()
        .to_string();
    assert!(broken.contains("not a valid MaxMind DB"), "{broken}");
    let missing = GeoDatabase::open(Path::new("/nonexistent/geo.mmdb"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("cannot read the file"), "{missing}");
}

/// Clients are told apart by `X-Forwarded-For`, believed from the loopback proxy.
pub fn located(database: PathBuf) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".to_string().try_into().unwrap()];
        s.geo.database = database.display().to_string();
    }
}

pub async fn click_from(app: &TestApp, slug: &str, client: &str) -> String {
    let response = app
        .client
        .get(app.url(&format!("/{slug}")))
        .header("x-forwarded-for", client)
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Firefox/130.0",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn visits_are_located_and_counted_by_country_and_city(backend: Backend) {
    let app = spawn_app_with(backend, located(fixture("city.mmdb"))).await;
    let link = app
        .create_url(json!({"url": "https://example.com/", "slug": "geo", "tags": ["world"]}))
        .await;
    assert_eq!(link.status(), 201);
    for client in [BERLIN, BERLIN, PARIS, NOWHERE] {
        click_from(&app, "geo", client).await;
    }
    app.wait_for_visits(4).await;

    let visits = app.json("/api/urls/geo/visits").await;
    let newest_berlin = visits["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["country"] == "DE")
        .expect("a visit from Germany")
        .clone();
    // Located by the full address, stored anonymised.
    assert_eq!(newest_berlin["client_ip"], "203.0.113.0");
    assert_eq!(newest_berlin["region"], "Land Berlin");
    assert_eq!(newest_berlin["city"], "Berlin");
    assert_eq!(newest_berlin["latitude"], 52.5244);
    assert_eq!(newest_berlin["longitude"], 13.4105);
    assert_eq!(newest_berlin["timezone"], "Europe/Berlin");
    // A click that reaches no link is located too.
    let missed = app
        .client
        .get(app.url("/no-such-link"))
        .header("x-forwarded-for", BERLIN)
        .send()
        .await
        .unwrap();
    assert_eq!(missed.status(), 404);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let orphan = loop {
        let page = app.json("/api/visits/orphan").await;
        if let Some(orphan) = page["items"].get(0) {
            break orphan.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the orphan visit is stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(orphan["country"], "DE", "{orphan}");
    assert_eq!(orphan["city"], "Berlin");
    assert_eq!(orphan["timezone"], "Europe/Berlin");
    assert_eq!(orphan["client_ip"], "203.0.113.0");
    let unknown = &visits["items"][0];
    assert_eq!(unknown["client_ip"], "100.64.0.0");
    for field in [
        "country",
        "region",
        "city",
        "latitude",
        "longitude",
        "timezone",
    ] {
        assert!(unknown[field].is_null(), "{field}: {unknown}");
    }

    for path in ["/api/urls/geo/stats", "/api/tags/world/stats"] {
        let stats = app.json(path).await;
        assert_eq!(
            stats["countries"],
            json!([
                {"value": "DE", "visits": 2},
                // Ties in the order of their value, unknown first (as in every breakdown).
                {"value": null, "visits": 1},
                {"value": "FR", "visits": 1},
            ]),
            "{path}"
        );
        assert_eq!(
            stats["cities"],
            json!([
                {"country": "DE", "city": "Berlin", "visits": 2},
                {"country": "FR", "city": "Paris", "visits": 1},
            ]),
            "{path}"
        );
    }
    let top = app.json("/api/urls/geo/stats?top=1").await;
    assert_eq!(top["countries"], json!([{"value": "DE", "visits": 2}]));

    // The filter, on both lists, in any case, kept in the next page's link.
    let german = app.json("/api/visits?country=de&limit=1").await;
    assert_eq!(german["items"].as_array().unwrap().len(), 1);
    assert_eq!(german["items"][0]["country"], "DE");
    let next = german["next"].as_str().expect("a second page");
    assert!(next.contains("country=DE"), "{next}");
    let second: Value = app
        .client
        .get(next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["country"], "DE");
    assert!(second["next"].is_null());
    let french = app.json("/api/urls/geo/visits?country=FR").await;
    assert_eq!(french["items"].as_array().unwrap().len(), 1);
    assert_eq!(french["items"][0]["city"], "Paris");
}

async fn country_filters_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    for bad in ["DEU", "D", "1A", "d%C3%A9"] {
        for path in ["/api/visits", "/api/urls/none/visits"] {
            let response = app.get(&format!("{path}?country={bad}")).await;
            if path.contains("none") {
                // The link is looked up first.
                assert_eq!(response.status(), 404);
                continue;
            }
            let problem = assert_problem(response, 422).await;
            assert_eq!(problem["errors"][0]["field"], "country", "{bad}: {problem}");
        }
    }
}

/// Without `geo.database` nothing is located, and nothing else changes.
async fn without_a_database_nothing_is_located(backend: Backend) {
    let app = spawn_app(backend).await;
    assert!(!app.geo.is_enabled());
    let slug = app.new_slug("https://example.com/").await;
    app.follow(&slug).await;
    app.wait_for_visits(1).await;
    let visit = &app.json("/api/visits").await["items"][0];
    assert!(
        visit["country"].is_null() && visit["city"].is_null(),
        "{visit}"
    );
    // reqwest sends no user agent: a bot.
    let stats = app.json(&format!("/api/urls/{slug}/stats?bots=true")).await;
    assert_eq!(stats["countries"], json!([{"value": null, "visits": 1}]));
    assert_eq!(stats["cities"], json!([]));
}

fn country_rule(app_target: &str, country: &str) -> Value {
    json!({"target": app_target, "conditions": [{"type": "country", "value": country}]})
}

async fn country_rules_route_by_the_clients_country(backend: Backend) {
    let app = spawn_app_with(backend, located(fixture("city.mmdb"))).await;
    let created = app
        .create_url(json!({
            "url": "https://example.com/world", "slug": "shop",
            "rules": [country_rule("https://example.de/", "de"), country_rule("https://example.fr/", "FR")]
        }))
        .await;
    assert_eq!(created.status(), 201);
    let link: Value = created.json().await.unwrap();
    assert_eq!(link["rules"][0]["conditions"][0]["value"], "DE");
    assert_eq!(
        click_from(&app, "shop", BERLIN).await,
        "https://example.de/"
    );
    assert_eq!(click_from(&app, "shop", PARIS).await, "https://example.fr/");
    assert_eq!(
        click_from(&app, "shop", NOWHERE).await,
        "https://example.com/world"
    );
    app.wait_for_visits(3).await;
    let stats = app.json("/api/urls/shop/stats").await;
    assert_eq!(
        stats["rules"],
        json!([{"rule": 0, "visits": 1}, {"rule": 1, "visits": 1}])
    );
}

/// Without a database a country condition may be created (say, before the file is there) but
/// never holds; a value that is no country code is refused.
async fn country_rules_without_a_database_never_match(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".to_string().try_into().unwrap()];
    })
    .await;
    let created = app
        .create_url(json!({
            "url": "https://example.com/world", "slug": "shop",
            "rules": [country_rule("https://example.de/", "DE")]
        }))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        click_from(&app, "shop", BERLIN).await,
        "https://example.com/world"
    );
    let refused = app
        .create_url(json!({
            "url": "https://example.com/", "rules": [country_rule("https://example.de/", "Germany")]
        }))
        .await;
    let problem = assert_problem(refused, 422).await;
    assert_eq!(
        problem["errors"][0]["field"], "rules[0].conditions[0].value",
        "{problem}"
    );
}

/// Polls until the server's database places `address` in `country` (bounded).
async fn wait_for_country(geo: &Geo, address: &str, country: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = geo.locate(ip(address)).country.map(|c| c.to_string());
        if now.as_deref() == Some(country) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{address} still in {now:?}, not {country}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Replaces `to` with a copy of `from` the way operators should: a rename.
fn replace(from: &Path, to: &Path) {
    let staging = to.with_extension("new");
    std::fs::copy(from, &staging).unwrap();
    std::fs::rename(&staging, to).unwrap();
}

async fn a_replaced_file_is_picked_up_and_a_broken_one_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("GeoLite2-City.mmdb");
    replace(&fixture("city.mmdb"), &live);
    let app = spawn_app_with(backend, {
        let live = live.clone();
        move |s| {
            located(live)(s);
            s.geo.check_interval_secs = 1.try_into().unwrap();
        }
    })
    .await;
    let slug = app.new_slug("https://example.com/").await;
    click_from(&app, &slug, BERLIN).await;

    // A newer file, noticed by its modification time: visits from then on are located by it.
    replace(&fixture("city-v2.mmdb"), &live);
    wait_for_country(&app.geo, BERLIN, "AT", Duration::from_secs(10)).await;
    click_from(&app, &slug, BERLIN).await;
    app.wait_for_visits(2).await;
    let visits = app.json("/api/visits").await;
    assert_eq!(visits["items"][0]["city"], "Vienna");
    assert_eq!(visits["items"][1]["city"], "Berlin");

    // A broken file is refused, by the watcher and by a reload; the previous one serves on.
    replace(&fixture("broken.mmdb"), &live);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.geo.locate(ip(BERLIN)).city.as_deref(), Some("Vienna"));
    let refused = app.geo.reload().unwrap_err().to_string();
    assert!(refused.contains("not a valid MaxMind DB"), "{refused}");
    assert_eq!(app.geo.locate(ip(BERLIN)).city.as_deref(), Some("Vienna"));

    // SIGHUP reads the file at once, whatever its modification time.
    std::fs::copy(fixture("city.mmdb"), &live).unwrap();
    let touched = std::fs::File::options().write(true).open(&live).unwrap();
    touched
        .set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1))
        .unwrap();
    drop(touched);
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_country(&app.geo, BERLIN, "DE", Duration::from_secs(5)).await;
}

/// A configured file that cannot be read stops the start with a message naming it.
#[tokio::test]
async fn a_broken_file_at_start_stops_kurz() {
    let database = crate::common::database::TestDatabase::create(Backend::Sqlite).await;
    for (name, says) in [
        ("broken.mmdb", "not a valid MaxMind DB"),
        ("asn.mmdb", "not a layout kurz reads"),
    ] {
        let mut settings =
            Settings::defaults(kurz::config::Environment::Development).expect("defaults");
        settings.server.port = 0;
        settings.database.url = database.url.clone();
        settings.geo.database = fixture(name).display().to_string();
        let error = match kurz::startup::Application::build(settings).await {
            Ok(_) => panic!("kurz started with {name}"),
            Err(error) => format!("{error:#}"),
        };
        assert!(error.contains(name) && error.contains(says), "{error}");
    }
}

crate::on_both_backends!(visits_are_located_and_counted_by_country_and_city);
crate::on_sqlite!(
    country_filters_are_checked,
    without_a_database_nothing_is_located,
    country_rules_route_by_the_clients_country,
    country_rules_without_a_database_never_match,
    a_replaced_file_is_picked_up_and_a_broken_one_refused,
);
