//! `kurz import --from shlink`: the real binary reading Shlink's REST API, into both backends.
//! Once from Shlink's answers as recorded (`tests/compat/fixtures/shlink`, served by a stub:
//! another domain, Shlink 3's `deviceLongUrls`, a rule kurz cannot evaluate, pages of visits,
//! a 503 on the way), and once from a second kurz serving the Shlink API (whose answers
//! `tests/api/shlink_sdk.rs` checks with Shlink's own SDK), with clicks made while it runs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use kurz::domain::Slug;
use kurz::store::Store;
use serde_json::{json, Value};

use super::common::database::Backend;
use super::imports::{counted, stats_between};
use super::Kurz;

/// The key the stub takes.
const RECORDED_KEY: &str = "recorded-key";

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, \
                      like Gecko) Chrome/131.0.0.0 Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// A Shlink server made of recorded answers.
struct Stub {
    address: String,
    /// Every request's path and query, in order.
    requests: Arc<Mutex<Vec<String>>>,
}

struct Recorded {
    dir: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    /// The second page of `guide`'s visits fails once with a 503.
    failed: AtomicBool,
}

fn problem(status: StatusCode, kind: &str, title: &str, detail: &str) -> Response {
    let body = json!({
        "type": format!("https://shlink.io/api/error/{kind}"),
        "title": title,
        "detail": detail,
        "status": status.as_u16(),
    });
    (
        status,
        [("content-type", "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

async fn answer(
    State(recorded): State<Arc<Recorded>>,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    recorded.requests.lock().unwrap().push(uri.to_string());
    if headers.get("x-api-key").and_then(|k| k.to_str().ok()) != Some(RECORDED_KEY) {
        return problem(
            StatusCode::UNAUTHORIZED,
            "invalid-api-key",
            "Invalid API key",
            "Provided API key does not exist or is invalid.",
        );
    }
    let page = query.get("page").map_or("1", String::as_str);
    let segments: Vec<&str> = rest.split('/').collect();
    let file = match segments.as_slice() {
        ["short-urls"] => format!("short-urls-page-{page}.json"),
        ["short-urls", code, "visits"] => {
            if *code == "guide" && page == "2" && !recorded.failed.swap(true, Ordering::SeqCst) {
                return problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "internal-server-error",
                    "Internal server error",
                    "Try again",
                );
            }
            format!("visits-{code}-{page}.json")
        }
        ["short-urls", code, "redirect-rules"] => format!("redirect-rules-{code}.json"),
        ["visits", "orphan"] => format!("orphan-visits-{page}.json"),
        _ => String::new(),
    };
    match std::fs::read_to_string(recorded.dir.join(&file)) {
        Ok(body) if !file.is_empty() => {
            ([("content-type", "application/json")], body).into_response()
        }
        _ => problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "Requested route does not exist.",
        ),
    }
}

async fn stub() -> Stub {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::new(Recorded {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat/fixtures/shlink"),
        requests: requests.clone(),
        failed: AtomicBool::new(false),
    });
    let app = axum::Router::new()
        .route("/rest/v3/{*rest}", axum::routing::get(answer))
        .with_state(recorded);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Stub { address, requests }
}

/// Runs the binary without holding up the servers this test runs beside it.
fn blocking<T>(run: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(run)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// `kurz import --from shlink` of the Shlink API at `url` with `key`.
fn shlink_import<'a>(url: &'a str, key: &'a str) -> [&'a str; 7] {
    ["import", "--from", "shlink", "--url", url, "--api-key", key]
}

fn rules(shown: &Value) -> Value {
    shown["rules"].clone()
}

async fn shlink_recorded_answers_are_imported_once(backend: Backend) {
    let stub = stub().await;
    let kurz = Kurz::new(backend).await;
    let base = stub.address.clone();
    let import = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = shlink_import(&base, RECORDED_KEY)
            .map(str::to_owned)
            .to_vec();
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    let json = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        blocking(|| kurz.json(&args))
    };

    // A wrong key stops it with Shlink's own words.
    let refused = blocking(|| kurz.fails(&shlink_import(&base, "wrong"), 1));
    assert!(refused.contains("Shlink refused the API key"), "{refused}");
    assert!(
        refused.contains("does not exist or is invalid"),
        "{refused}"
    );

    // A dry run reads everything and writes nothing.
    let dry = json(import(&["--dry-run"]));
    assert_eq!(dry["links"], 5, "{dry}");
    assert_eq!(dry["created"], 3, "{dry}");
    assert_eq!(dry["left_out"], 1);
    assert_eq!(dry["left_out_links"][0]["key"], "promo");
    assert_eq!(dry["invalid"], 1);
    assert_eq!(dry["invalid_links"][0]["key"], "blog/2026");
    assert_eq!(dry["visits"], 10);
    assert_eq!(dry["orphan_visits"], 3);
    assert_eq!(dry["rules_dropped"], 1);
    let store = kurz.store().await;
    assert_eq!(store.visit_total(None).await.unwrap(), 0);
    assert_eq!(store.orphan_visit_total().await.unwrap(), 0);
    assert!(super::slugs(&blocking(|| kurz.json(&["url", "list"]))).is_empty());

    // Its second page of `guide`'s visits failed with a 503, and was asked for again.
    let second_pages = || {
        let requests = stub.requests.lock().unwrap().clone();
        let pages = requests
            .iter()
            .filter(|r| r.starts_with("/rest/v3/short-urls/guide/visits?") && r.contains("page=2&"))
            .count();
        (pages, requests)
    };
    let (pages, requests) = second_pages();
    assert_eq!(pages, 2, "{requests:#?}");
    stub.requests.lock().unwrap().clear();

    let done = json(import(&[]));
    assert_eq!(done["created"], 3, "{done}");
    assert_eq!(done["visits"], 10);
    assert_eq!(done["orphan_visits"], 3);
    assert_eq!(done["rules_dropped"], 1);
    assert!(done["source"]
        .as_str()
        .unwrap()
        .starts_with("shlink:http://127.0.0.1:"));

    // The link as Shlink had it: its times in UTC, its rules by priority, the one on the city
    // left out.
    let spring = blocking(|| kurz.json(&["url", "show", "spring"]));
    assert_eq!(
        spring["url"],
        "https://example.com/spring-launch?ref=shlink"
    );
    assert_eq!(spring["title"], "Spring launch");
    assert_eq!(spring["tags"], json!(["2026", "launch"]));
    assert_eq!(spring["created_at"], "2026-10-01T07:00:00Z");
    assert_eq!(spring["valid_until"], "2027-01-31T22:59:59Z");
    assert_eq!(spring["max_visits"], 100);
    assert_eq!(spring["crawlable"], true);
    assert_eq!(spring["forward_query"], false);
    assert_eq!(spring["visit_count"], 3);
    assert_eq!(
        rules(&spring),
        json!([
            {"target": "https://apps.apple.com/app/example", "conditions": [
                {"type": "device", "value": "ios"},
                {"type": "query", "value": "utm_source=newsletter"}]},
            {"target": "https://example.de/fruehling", "conditions": [
                {"type": "language", "value": "de"}]}
        ])
    );
    // Shlink 3's long URL per device became a rule.
    let app = blocking(|| kurz.json(&["url", "show", "app"]));
    assert_eq!(
        rules(&app),
        json!([{"target": "https://play.google.com/store/apps/details?id=net.example",
                "conditions": [{"type": "device", "value": "android"}]}])
    );
    let guide = blocking(|| kurz.json(&["url", "show", "guide"]));
    assert_eq!(guide["valid_since"], "2026-10-03T00:00:00Z");
    assert_eq!(guide["visit_count"], 7);
    assert_eq!(guide["forward_query"], true);

    // The visits as live ones: browsers from the user agent, Shlink's place and bot flag.
    let record = store
        .get_url(&Slug::for_lookup("spring").unwrap())
        .await
        .unwrap();
    assert_eq!((record.visit_count, record.human_visits), (3, 2));
    let stats = stats_between(
        store.as_ref(),
        "spring",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    .await;
    assert_eq!(stats.bot_visits, 1);
    assert_eq!(
        counted(&stats.browsers),
        [
            (Some("Chrome".into()), 1),
            (Some("Firefox".into()), 1),
            (Some("Googlebot".into()), 1)
        ]
    );
    assert_eq!(
        counted(&stats.countries),
        [(None, 1), (Some("DE".into()), 1), (Some("FR".into()), 1)]
    );
    assert_eq!(
        counted(&stats.referrer_hosts),
        [(None, 2), (Some("news.example.org".into()), 1)]
    );
    let rows = blocking(|| kurz.ok(&["visits", "export", "--url", "guide", "--format", "jsonl"]));
    let rows: Vec<Value> = rows
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 7);
    // Newest first, as exported; the same second three times across Shlink's pages.
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["visited_at"].as_str().unwrap())
        .collect();
    assert_eq!(times[0], "2026-11-06T12:00:00Z");
    assert_eq!(
        times
            .iter()
            .filter(|t| **t == "2026-11-05T09:00:00Z")
            .count(),
        3
    );
    assert_eq!(
        rows[0]["country"],
        Value::Null,
        "an empty location: {}",
        rows[0]
    );
    assert_eq!(rows[1]["city"], "San Francisco");
    assert_eq!(store.orphan_visit_total().await.unwrap(), 3);
    let orphans = blocking(|| kurz.ok(&["visits", "export", "--orphans", "--format", "jsonl"]));
    assert!(orphans.contains("\"type\":\"base_url\""), "{orphans}");
    assert!(orphans.contains("\"path\":\"/wp-login.php\""), "{orphans}");
    assert!(orphans.contains("\"type\":\"invalid_slug\""), "{orphans}");

    // Every page of `guide` was read once.
    let (pages, requests) = second_pages();
    assert_eq!(pages, 1, "{requests:#?}");
    assert!(requests.iter().all(|r| !r.contains("/short-urls/promo/")));

    // Again: nothing new, nothing twice, and no request for a link without visits.
    stub.requests.lock().unwrap().clear();
    let again = json(import(&[]));
    assert_eq!(again["already_imported"], 3, "{again}");
    assert_eq!(again["created"], 0);
    assert_eq!(again["visits"], 0);
    assert_eq!(again["orphan_visits"], 0);
    assert_eq!(store.visit_total(None).await.unwrap(), 10);
    assert_eq!(store.orphan_visit_total().await.unwrap(), 3);
    let requests = stub.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .all(|r| !r.contains("/short-urls/app/visits")),
        "{requests:#?}"
    );
    // Asked from where the last run ended.
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/rest/v3/short-urls/guide/visits?") && r.contains("startDate=")),
        "{requests:#?}"
    );
}

/// Waits until the source kurz has stored `visits` link visits and `orphans` orphan visits,
/// then past the window an import leaves to the next run.
async fn stored(store: &dyn Store, visits: i64, orphans: i64) {
    for _ in 0..100 {
        if store.visit_total(None).await.unwrap() == visits
            && store.orphan_visit_total().await.unwrap() == orphans
        {
            tokio::time::sleep(Duration::from_millis(6_500)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the source did not store {visits} visits and {orphans} orphan visits");
}

async fn a_second_kurz_is_imported_through_its_shlink_api(backend: Backend) {
    let source = Kurz::new(backend).await;
    let created = blocking(|| source.ok(&["apikey", "create", "--role", "admin"]));
    let key = created.lines().last().unwrap().to_owned();
    let (server, _stop) = super::serve(&source).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let shlink = |path: &str| format!("{server}/rest/v3/{path}");
    for body in [
        json!({"longUrl": "https://example.com/launch", "customSlug": "launch", "tags": ["news"],
               "title": "Launch", "maxVisits": 50, "validUntil": "2030-01-01T00:00:00+00:00",
               "crawlable": true, "forwardQuery": false}),
        json!({"longUrl": "https://example.com/plain", "customSlug": "plain"}),
    ] {
        let answer = client
            .post(shlink("short-urls"))
            .header("x-api-key", &key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }
    let answer = client
        .post(shlink("short-urls/launch/redirect-rules"))
        .header("x-api-key", &key)
        .json(
            &json!({"redirectRules": [{"longUrl": "https://example.com/android",
            "conditions": [{"type": "device", "matchKey": null, "matchValue": "android"}]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let click = |path: &'static str, agent: &'static str| {
        let request = client
            .get(format!("{server}/{path}"))
            .header("user-agent", agent)
            .send();
        async move { request.await.unwrap().status().as_u16() }
    };
    for (path, agent) in [
        ("launch", FIREFOX),
        ("launch", FIREFOX),
        ("launch", GOOGLEBOT),
        ("plain", CHROME),
    ] {
        assert_eq!(click(path, agent).await, 302);
    }
    click("", CHROME).await;
    assert_eq!(click("nothing-here", CHROME).await, 404);
    let source_store = source.store().await;
    stored(source_store.as_ref(), 4, 2).await;

    let target = Kurz::new(backend).await;
    let import = || blocking(|| target.json(&shlink_import(&server, &key)));
    let done = import();
    assert_eq!(done["created"], 2, "{done}");
    assert_eq!(done["visits"], 4);
    assert_eq!(done["orphan_visits"], 2);
    assert_eq!(done["rules_dropped"], 0);
    let launch = blocking(|| target.json(&["url", "show", "launch"]));
    let original = blocking(|| source.json(&["url", "show", "launch"]));
    for field in [
        "url",
        "title",
        "tags",
        "rules",
        "max_visits",
        "valid_until",
        "crawlable",
        "forward_query",
        "visit_count",
    ] {
        assert_eq!(launch[field], original[field], "{field}");
    }
    // Whole seconds: Shlink's times have no fraction.
    assert_eq!(
        launch["created_at"].as_str().unwrap()[..19],
        original["created_at"].as_str().unwrap()[..19]
    );
    let store = target.store().await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Days::new(1);
    let mine = stats_between(store.as_ref(), "launch", from, today).await;
    let theirs = stats_between(source_store.as_ref(), "launch", from, today).await;
    assert_eq!(mine.bot_visits, 1);
    assert_eq!(counted(&mine.browsers), counted(&theirs.browsers));
    assert_eq!(counted(&mine.os), counted(&theirs.os));
    assert_eq!(store.orphan_visit_total().await.unwrap(), 2);

    // Again: nothing. Then a new click: only it.
    let again = import();
    assert_eq!(again["visits"], 0, "{again}");
    assert_eq!(again["orphan_visits"], 0);
    assert_eq!(click("plain", CHROME).await, 302);
    click("", CHROME).await;
    stored(source_store.as_ref(), 5, 3).await;
    let newer = import();
    assert_eq!(newer["visits"], 1, "{newer}");
    assert_eq!(newer["orphan_visits"], 1);
    let plain = store
        .get_url(&Slug::for_lookup("plain").unwrap())
        .await
        .unwrap();
    assert_eq!(plain.visit_count, 2);
    assert_eq!(store.visit_total(None).await.unwrap(), 5);

    // An editor's key ("authored short URLs" in Shlink) brings its own links; the orphan
    // visits, which it may not read, are left out with a note, not a failure.
    let editor = blocking(|| source.ok(&["apikey", "create", "--role", "editor"]));
    let editor = editor.lines().last().unwrap().to_owned();
    let answer = client
        .post(shlink("short-urls"))
        .header("x-api-key", &editor)
        .json(&json!({"longUrl": "https://example.com/mine", "customSlug": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let third = Kurz::new(backend).await;
    let run = blocking(|| third.run(&[&shlink_import(&server, &editor)[..], &["--json"]].concat()));
    assert_eq!(run.code, 0, "{run:?}");
    let own: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (own["links"].clone(), own["created"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(own["orphan_visits"], 0);
    assert!(
        run.stderr.contains("orphan visits not imported"),
        "{}",
        run.stderr
    );
}

crate::on_both_backends!(
    shlink_recorded_answers_are_imported_once,
    a_second_kurz_is_imported_through_its_shlink_api,
);
