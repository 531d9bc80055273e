//! The HTML explorer in a real headless Chromium: forms submitted by explorer.js, the
//! search-as-you-type pickers, the confirm dialog, and what the pages show. Each test runs its
//! own kurz (SQLite, development defaults: the explorer is on) and its own chromedriver.
//!
//! Screenshots of the main pages are taken on every run and written under the target
//! directory; `KURZ_UPDATE_SCREENSHOTS=1 cargo test --test browser` writes them to
//! `docs/images/` instead, for the documentation.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod driver;
mod passwords;
mod shlink_web;
mod webhooks;

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use kurz::domain::Slug;
use kurz::store::NewVisit;
use serde_json::json;

use driver::{eventually, Browser, STEP_TIMEOUT};
use helpers::{spawn_app, Backend, TestApp};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
/// Visits `seed_visits` writes.
const SEEDED: usize = 19;
const SCRIPT_TITLE: &str = "<script>alert(1)</script> launch";

/// Where a screenshot goes: `docs/images/` when asked for, else the target directory.
fn screenshot_path(name: &str) -> PathBuf {
    let update = std::env::var("KURZ_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    let dir = if update {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/images")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    dir.join(name)
}

/// A few other URLs, so that the pickers have more than one answer to "brow".
async fn create_neighbours(app: &TestApp) {
    for (slug, target, title) in [
        ("brownies", "https://recipes.example/brownies", "Brownies"),
        ("bro", "https://example.org/bro", "Short one"),
        ("news", "https://browserbench.example/news", "Benchmarks"),
    ] {
        let response = app
            .create_url(json!({ "url": target, "slug": slug, "title": title }))
            .await;
        assert_eq!(response.status(), 201, "creating {slug}");
    }
}

/// Visits of `slug` over the last two weeks, written straight to the store, for the chart.
async fn seed_visits(app: &TestApp, slug: &str) {
    let url_id = app
        .store
        .resolve(&Slug::for_lookup(slug).expect("a slug"))
        .await
        .expect("resolved")
        .expect("the URL exists")
        .url_id;
    let people = [
        ("Firefox", "Linux", "desktop", Some("news.example")),
        ("Chrome", "Windows", "desktop", Some("search.example")),
        ("Mobile Safari", "iOS", "mobile", None),
        ("Chrome Mobile", "Android", "mobile", Some("social.example")),
    ];
    // Oldest first, as clicks arrive: the explorer lists visits newest first by arrival.
    let days_ago = [13, 12, 9, 9, 9, 8, 6, 6, 5, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1];
    let visits: Vec<NewVisit> = days_ago
        .iter()
        .enumerate()
        .map(|(i, days)| {
            let (browser, os, device, referrer) = people[i % people.len()];
            NewVisit {
                location: Default::default(),
                url_id,
                visited_at: Utc::now()
                    - chrono::Duration::days(*days)
                    - chrono::Duration::minutes(7 * (days_ago.len() - i) as i64),
                client_ip: Some("2001:db8::1".parse().expect("an IP")),
                user_agent: Some(format!("{browser} (seeded)")),
                referrer: referrer.map(|host| format!("https://{host}/")),
                referrer_host: referrer.map(str::to_owned),
                browser: Some(browser.into()),
                os: Some(os.into()),
                device: Some(device.into()),
                is_bot: false,
                cap_taken: false,
                rule: None,
            }
        })
        .collect();
    assert_eq!(visits.len(), SEEDED);
    let stored = app
        .store
        .record_visits(&visits)
        .await
        .expect("visits seeded");
    assert_eq!(stored.len(), visits.len());
}

/// Types `query` into a picker's search box and waits for the result for `slug`.
async fn pick(browser: &Browser, search_box: &str, query: &str, slug: &str) {
    browser.type_into(search_box, query).await;
    browser
        .wait_for(&format!(r#".results button.result[data-slug="{slug}"]"#))
        .await;
}

/// Types `query` into the tag search box and waits for the result for `tag`.
async fn pick_tag(browser: &Browser, query: &str, tag: &str) -> String {
    browser.type_into("#tag-search", query).await;
    let result = format!(r#".results button.result[data-tag="{tag}"]"#);
    browser.wait_for(&result).await;
    result
}

/// Waits for the error a form shows (its `output.error`), and returns it.
async fn form_error(browser: &Browser, form: &str) -> String {
    let output = format!("{form} output.error");
    eventually(&format!("the error of {form}"), STEP_TIMEOUT, || async {
        let text = browser.text(&output).await;
        (!text.is_empty()).then_some(text)
    })
    .await
}

/// The rows of the recent visits table, each as its cells' text.
async fn recent_visit_rows(browser: &Browser) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for row in browser.find_all("#recent-visits tbody tr").await {
        let mut cells = Vec::new();
        for cell in row
            .find_all(fantoccini::Locator::Css("td"))
            .await
            .expect("cells")
        {
            cells.push(cell.text().await.expect("a cell's text"));
        }
        rows.push(cells);
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_goes_from_creation_to_deletion_in_the_explorer() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = Browser::start(&app.address).await;
    create_neighbours(&app).await;

    // Create through the form: explorer.js posts JSON and opens the new URL's page.
    browser.open("/api/urls").await;
    browser.wait_for("#create-url").await;
    browser
        .type_into(
            "#create-url input[name=url]",
            "https://example.com/from-the-browser",
        )
        .await;
    browser
        .type_into("#create-url input[name=slug]", "browser-made")
        .await;
    browser
        .type_into("#create-url input[name=title]", SCRIPT_TITLE)
        .await;
    browser.click("#create-url input[name=crawlable]").await;
    browser
        .find("#create-url select[name=redirect_status]")
        .await
        .select_by_value("301")
        .await
        .expect("the redirect status is chosen");
    browser
        .set_value("#create-url input[name=valid_until]", "2030-01-02T03:04")
        .await;
    browser
        .type_into("#create-url input[name=max_visits]", "500")
        .await;
    browser.click("#create-url input[name=forward_query]").await;
    browser
        .type_into("#create-url input[name=tags]", "launch demo")
        .await;
    browser
        .type_into(
            "#create-url textarea[name=rules]",
            r#"[{"target": "https://example.com/ios", "conditions": [{"type": "device", "value": "iOS"}]}]"#,
        )
        .await;
    browser.click("#create-url button[type=submit]").await;
    browser.wait_for("#edit-url").await;
    browser.wait_for_location("/api/urls/browser-made").await;
    assert_eq!(browser.text("h1").await, "URL browser-made");
    let title = browser.client.title().await.expect("the document title");
    assert!(title.contains("browser-made"), "document title: {title}");
    assert!(browser.text("#short-url").await.ends_with("/browser-made"));

    // The title is shown as text: in the field as typed, no script ran, no dialog opened.
    assert_eq!(browser.dialog().await, None, "a dialog opened");
    assert_eq!(
        browser.value("#edit-url input[name=title]").await,
        SCRIPT_TITLE
    );
    assert_eq!(
        browser.value("#edit-url input[name=url]").await,
        "https://example.com/from-the-browser"
    );
    assert!(browser
        .find("#edit-url input[name=crawlable]")
        .await
        .is_selected()
        .await
        .expect("checkbox state"));
    assert_eq!(
        browser
            .value("#edit-url select[name=redirect_status]")
            .await,
        "301"
    );
    let stored = app.json("/api/urls/browser-made").await;
    assert_eq!(stored["redirect_status"], 301);
    assert_eq!(stored["valid_until"], "2030-01-02T03:04:00Z");
    assert_eq!(stored["valid_since"], serde_json::Value::Null);
    assert_eq!(stored["max_visits"], 500);
    assert_eq!(stored["forward_query"], true);
    assert_eq!(stored["tags"], json!(["demo", "launch"]));
    assert_eq!(
        stored["rules"],
        serde_json::json!([{"target": "https://example.com/ios",
                            "conditions": [{"type": "device", "value": "ios"}]}])
    );
    assert!(browser
        .value("#edit-url textarea[name=rules]")
        .await
        .contains("\"value\": \"ios\""));
    assert_eq!(
        browser.value("#edit-url input[name=valid_until]").await,
        "2030-01-02T03:04",
        "the browser drops zero seconds"
    );
    assert_eq!(
        browser.value("#edit-url input[name=max_visits]").await,
        "500"
    );
    assert_eq!(browser.text("#visits-left").await, "500 left of the cap");
    assert!(browser.text("#json").await.contains(SCRIPT_TITLE));
    let scripts = browser
        .client
        .execute("return document.scripts.length;", vec![])
        .await
        .expect("script count");
    assert_eq!(scripts, json!(1), "only explorer.js is on the page");
    // The QR code is drawn: the explorer's CSP lets the image in, and it loaded.
    let qr_width = eventually("the QR code", STEP_TIMEOUT, || async {
        let width = browser
            .client
            .execute(
                "const img = document.querySelector('#qr-code img'); \
                 return img.complete ? img.naturalWidth : null;",
                vec![],
            )
            .await
            .expect("the QR code's width");
        (!width.is_null()).then_some(width)
    })
    .await;
    assert_eq!(qr_width, json!(300), "the QR code's SVG did not load");
    browser.find("#no-visits").await;

    // Find it again with the search box, and open it from the results.
    browser.open("/api/urls").await;
    pick(&browser, "#url-search", "brow", "browser-made").await;
    let shown: Vec<String> = {
        let mut slugs = Vec::new();
        for button in browser.find_all(".results button.result").await {
            slugs.push(
                button
                    .attr("data-slug")
                    .await
                    .expect("data-slug")
                    .unwrap_or_default(),
            );
        }
        slugs
    };
    assert!(
        shown.contains(&"brownies".to_owned()) && shown.contains(&"news".to_owned()),
        "results for brow: {shown:?}"
    );
    assert!(!shown.contains(&"bro".to_owned()), "results: {shown:?}");
    browser
        .screenshot(&screenshot_path("explorer-urls.png"))
        .await;
    browser
        .click(r#".results button.result[data-slug="browser-made"]"#)
        .await;
    browser.wait_for_location("/api/urls/browser-made").await;
    browser.wait_for("#edit-url").await;

    // Follow the short link, then watch the visit show up on the page.
    let response = app
        .client
        .get(app.url("/browser-made"))
        .header("user-agent", FIREFOX)
        .send()
        .await
        .expect("short link followed");
    assert_eq!(response.status(), 301, "the status chosen in the form");
    assert_eq!(
        response.headers()["location"],
        "https://example.com/from-the-browser"
    );
    // The page reads the count and the visit list one after the other, while the visit writer
    // may commit in between: wait until both show the visit.
    let rows = eventually(
        "one row in #recent-visits and a count of 1",
        Duration::from_secs(10),
        || async {
            browser.client.refresh().await.ok()?;
            let rows = recent_visit_rows(&browser).await;
            let shown: serde_json::Value =
                serde_json::from_str(&browser.text("#json").await).ok()?;
            let counted = shown["visit_count"] == 1;
            (rows.len() == 1 && counted).then_some(rows)
        },
    )
    .await;
    assert_eq!(rows[0][1], "Firefox", "row: {:?}", rows[0]);
    // No geolocation file here: the location column says so.
    assert_eq!(rows[0][5], "-", "row: {:?}", rows[0]);
    assert_eq!(rows[0][6], "no", "row: {:?}", rows[0]);

    // A visit to a neighbour, which the visits filter below must leave out.
    assert_eq!(app.follow("brownies").await.status(), 302);
    app.wait_for_visits(2).await;

    // Past days' visits for the chart and one more click today, then the URL page's screenshot.
    seed_visits(&app, "browser-made").await;
    let response = app
        .client
        .get(app.url("/browser-made"))
        .header("user-agent", SAFARI)
        .send()
        .await
        .expect("short link followed");
    assert_eq!(response.status(), 301);
    app.wait_for_visits(2 + SEEDED + 1).await;
    browser.client.refresh().await.expect("page reloaded");
    browser.wait_for("#daily-chart").await;
    let bars = browser.find_all("#daily-chart rect").await;
    assert_eq!(bars.len(), 30, "one bar per day");
    let mut tall = 0;
    for bar in &bars {
        let height: f64 = bar
            .attr("height")
            .await
            .expect("height")
            .unwrap_or_default()
            .parse()
            .expect("a number");
        tall += usize::from(height > 0.0);
    }
    assert!(tall >= 8, "{tall} days with visits drawn");
    let rows = recent_visit_rows(&browser).await;
    assert_eq!(rows.len(), 10, "the ten most recent visits");
    assert_eq!(rows[0][1], "Safari", "newest first: {:?}", rows[0]);
    browser
        .screenshot(&screenshot_path("explorer-url.png"))
        .await;

    // The visits page: pick the URL, the filter form submits itself.
    browser.open("/api/visits").await;
    pick(&browser, "#visit-url-search", "brow", "browser-made").await;
    browser
        .screenshot(&screenshot_path("explorer-visits.png"))
        .await;
    browser
        .click(r#".results button.result[data-slug="browser-made"]"#)
        .await;
    browser
        .wait_for_location("/api/visits?url=browser-made")
        .await;
    browser.wait_for("#json").await;
    let listed = browser.text("#json").await;
    assert!(listed.contains("browser-made"), "{listed}");
    assert!(!listed.contains("brownies"), "filter ignored: {listed}");
    assert_eq!(browser.value("#visit-url-search").await, "browser-made");
    assert_eq!(
        browser.value("#visit-filter input[name=url]").await,
        "browser-made"
    );

    // Edit the title: the page reloads with the new one.
    browser.open("/api/urls/browser-made").await;
    browser
        .type_into("#edit-url input[name=title]", "Renamed in the browser")
        .await;
    browser
        .find("#edit-url select[name=redirect_status]")
        .await
        .select_by_value("")
        .await
        .expect("back to the server's default");
    browser
        .set_value("#edit-url input[name=valid_since]", "2026-01-01T00:00")
        .await;
    browser
        .set_value("#edit-url input[name=valid_until]", "")
        .await;
    browser
        .type_into("#edit-url input[name=max_visits]", "")
        .await;
    browser
        .set_value("#edit-url textarea[name=rules]", "")
        .await;
    browser.click("#edit-url input[name=forward_query]").await;
    browser.click("#edit-url button[type=submit]").await;
    eventually("the new title on the page", STEP_TIMEOUT, || async {
        let json = browser
            .client
            .find(fantoccini::Locator::Css("#json"))
            .await
            .ok()?;
        let text = json.text().await.ok()?;
        text.contains("Renamed in the browser").then_some(())
    })
    .await;
    assert_eq!(
        browser.value("#edit-url input[name=title]").await,
        "Renamed in the browser"
    );
    let stored = app.json("/api/urls/browser-made").await;
    assert_eq!(stored["title"], "Renamed in the browser");
    assert_eq!(stored["redirect_status"], serde_json::Value::Null);
    assert_eq!(stored["valid_since"], "2026-01-01T00:00:00Z");
    assert_eq!(stored["valid_until"], serde_json::Value::Null);
    assert_eq!(stored["max_visits"], serde_json::Value::Null);
    assert_eq!(stored["rules"], serde_json::json!([]));
    assert_eq!(stored["forward_query"], false);

    // Delete: confirm the dialog, land on the list, and the URL is gone.
    browser.click("#delete-url button[type=submit]").await;
    let question = eventually("the confirm dialog", STEP_TIMEOUT, || async {
        browser.dialog().await
    })
    .await;
    assert_eq!(question, "Delete browser-made and all its visits?");
    browser
        .client
        .accept_alert()
        .await
        .expect("dialog accepted");
    browser.wait_for_location("/api/urls").await;
    browser.wait_for("#create-url").await;
    assert_eq!(app.get("/api/urls/browser-made").await.status(), 404);

    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_shows_api_errors_and_keeps_a_url_when_deletion_is_cancelled() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = Browser::start(&app.address).await;
    app.new_url("https://example.com/taken").await;
    let taken = app.json("/api/urls").await["items"][0]["slug"]
        .as_str()
        .expect("a slug")
        .to_owned();

    // A taken slug: the API's problem is shown in the form, and the page stays.
    browser.open("/api/urls").await;
    browser.wait_for("#create-url").await;
    browser
        .type_into("#create-url input[name=url]", "https://example.com/other")
        .await;
    browser
        .type_into("#create-url input[name=slug]", &taken)
        .await;
    browser.click("#create-url button[type=submit]").await;
    let error = form_error(&browser, "#create-url").await;
    assert!(error.contains("slug"), "error shown: {error}");
    assert_eq!(browser.location().await, "/api/urls");

    // Rules that are not JSON, then rules the API refuses: each error is shown in the form.
    browser
        .type_into("#create-url input[name=slug]", "ruled")
        .await;
    browser
        .type_into("#create-url textarea[name=rules]", "[{oops")
        .await;
    browser.click("#create-url button[type=submit]").await;
    let error = eventually("the rules' JSON error", STEP_TIMEOUT, || async {
        let text = browser.text("#create-url output.error").await;
        text.starts_with("rules: not JSON").then_some(text)
    })
    .await;
    assert!(error.starts_with("rules: not JSON"), "{error}");
    browser
        .type_into(
            "#create-url textarea[name=rules]",
            r#"[{"target": "https://example.com/", "conditions": [{"type": "device", "value": "fridge"}]}]"#,
        )
        .await;
    browser.click("#create-url button[type=submit]").await;
    eventually("the API's rules error", STEP_TIMEOUT, || async {
        let text = browser.text("#create-url output.error").await;
        text.starts_with("rules[0].conditions[0].value:")
            .then_some(())
    })
    .await;
    assert_eq!(app.get("/api/urls/ruled").await.status(), 404);

    // Cancelling the confirm dialog deletes nothing.
    browser.open(&format!("/api/urls/{taken}")).await;
    browser.wait_for("#delete-url").await;
    browser.click("#delete-url button[type=submit]").await;
    eventually("the confirm dialog", STEP_TIMEOUT, || async {
        browser.dialog().await
    })
    .await;
    browser
        .client
        .dismiss_alert()
        .await
        .expect("dialog dismissed");
    assert_eq!(browser.location().await, format!("/api/urls/{taken}"));
    assert_eq!(app.get(&format!("/api/urls/{taken}")).await.status(), 200);

    // A search with no match says so.
    browser.open("/api/urls").await;
    browser.type_into("#url-search", "zzz").await;
    let empty = browser.wait_for(".results li.muted").await;
    assert_eq!(empty.text().await.expect("text"), "No URL matches.");

    browser.close().await;
}

/// The URL page shows a click as it is stored, through its live list (Server-Sent Events).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_url_page_shows_visits_arriving_live() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = Browser::start(&app.address).await;
    let slug = app.new_slug("https://example.com/watched-live").await;
    browser.open(&format!("/api/urls/{slug}")).await;
    eventually("the live list to connect", STEP_TIMEOUT, || async {
        (browser.text("#live-status").await.contains("live")).then_some(())
    })
    .await;
    assert_eq!(browser.text("#live-total").await, "0");
    let response = app
        .client
        .get(app.url(&format!("/{slug}")))
        .header("user-agent", FIREFOX)
        .send()
        .await
        .expect("a click");
    assert_eq!(response.status(), 302);
    let row = browser.wait_for("#live-visits li.visit").await;
    let text = row.text().await.expect("the row's text");
    assert!(
        text.contains("Firefox") && text.contains("desktop"),
        "{text}"
    );
    assert_eq!(browser.text("#live-total").await, "1");
    browser.close().await;
}

/// The `data-*` attribute `name` of every element matching `css`, in page order.
async fn attrs(browser: &Browser, css: &str, name: &str) -> Vec<String> {
    let mut values = Vec::new();
    for element in browser.find_all(css).await {
        values.push(element.attr(name).await.expect(name).unwrap_or_default());
    }
    values
}

/// The slugs in the JSON answer shown on the page.
async fn listed_slugs(browser: &Browser) -> Vec<String> {
    let shown: serde_json::Value =
        serde_json::from_str(&browser.text("#json").await).expect("the page's JSON");
    shown["items"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|url| url["slug"].as_str().expect("a slug").to_owned())
        .collect()
}

/// Tags in the explorer: set in the create form, shown on the link's page, the URL list
/// filtered by picking tags from a bounded search box, a tag renamed and deleted on its page,
/// and a link's tags cleared in its edit form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_set_shown_filtered_and_renamed_in_the_explorer() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = Browser::start(&app.address).await;
    // More tags starting with "camp" than the search box asks for.
    for i in 0..15 {
        let response = app
            .create_url(json!({
                "url": format!("https://example.com/campaign/{i}"),
                "slug": format!("camp{i:02}"),
                "tags": [format!("campaign-{i:02}")],
            }))
            .await;
        assert_eq!(response.status(), 201);
    }
    let response = app
        .create_url(json!({ "url": "https://example.com/other", "slug": "other",
                            "tags": ["launch"] }))
        .await;
    assert_eq!(response.status(), 201);

    // Create with tags typed as text: a bad name is the API's error, named, in the form.
    browser.open("/api/urls").await;
    browser.wait_for("#create-url").await;
    browser
        .type_into("#create-url input[name=url]", "https://example.com/tagged")
        .await;
    browser
        .type_into("#create-url input[name=slug]", "tagged")
        .await;
    browser
        .type_into("#create-url input[name=tags]", "Launch")
        .await;
    browser.click("#create-url button[type=submit]").await;
    let error = form_error(&browser, "#create-url").await;
    assert!(error.starts_with("tags[0]:"), "{error}");
    browser
        .type_into("#create-url input[name=tags]", "spring, launch  q4")
        .await;
    browser.click("#create-url button[type=submit]").await;
    browser.wait_for_location("/api/urls/tagged").await;
    browser.wait_for("#edit-url").await;
    assert_eq!(
        app.json("/api/urls/tagged").await["tags"],
        json!(["launch", "q4", "spring"])
    );
    let mut shown = Vec::new();
    for tag in browser.find_all("#url-tags a.tag").await {
        shown.push((
            tag.text().await.expect("a tag's text"),
            tag.attr("href").await.expect("href").unwrap_or_default(),
        ));
    }
    assert_eq!(
        shown,
        [
            ("launch".to_owned(), "/api/urls?tag=launch".to_owned()),
            ("q4".to_owned(), "/api/urls?tag=q4".to_owned()),
            ("spring".to_owned(), "/api/urls?tag=spring".to_owned()),
        ]
    );
    assert_eq!(
        browser.value("#edit-url input[name=tags]").await,
        "launch q4 spring"
    );

    // A prefix shows at most the ten results the box asks for, never every tag.
    browser.open("/api/urls").await;
    pick_tag(&browser, "camp", "campaign-00").await;
    let found = attrs(&browser, "#tag-filter .results button.result", "data-tag").await;
    assert_eq!(found.len(), 10, "{found:?}");
    assert!(found.iter().all(|tag| tag.starts_with("campaign-")));

    // Pick a tag: the list is filtered by it; pick another: links with any of the two.
    let launch = pick_tag(&browser, "la", "launch").await;
    browser.click(&launch).await;
    browser.wait_for_location("/api/urls?tag=launch").await;
    browser.wait_for("#json").await;
    assert_eq!(listed_slugs(&browser).await, ["tagged", "other"]);
    assert_eq!(
        attrs(&browser, "#tag-filter .tag.chosen", "data-tag").await,
        ["launch"]
    );
    pick_tag(&browser, "q", "q4").await;
    browser
        .find("#tag-search")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("Enter");
    browser
        .wait_for_location("/api/urls?tag=launch&tag=q4")
        .await;
    browser.wait_for("#json").await;
    assert_eq!(listed_slugs(&browser).await, ["tagged", "other"]);
    assert_eq!(
        attrs(&browser, "#tag-filter .tag.chosen", "data-tag").await,
        ["launch", "q4"]
    );
    // All of them: only the link with both.
    browser.click("#tag-match-switch").await;
    browser
        .wait_for_location("/api/urls?tag=launch&tag=q4&tags=all")
        .await;
    browser.wait_for("#json").await;
    assert_eq!(listed_slugs(&browser).await, ["tagged"]);
    assert!(browser
        .text("#tag-filter")
        .await
        .contains("Links with all of"));
    pick_tag(&browser, "sp", "spring").await;
    browser
        .screenshot(&screenshot_path("explorer-tag-filter.png"))
        .await;
    // Removing a tag from the filter.
    browser
        .click(r#"#tag-filter .tag.chosen[data-tag="launch"] a.remove"#)
        .await;
    browser.wait_for_location("/api/urls?tag=q4").await;
    browser.wait_for("#json").await;
    assert_eq!(listed_slugs(&browser).await, ["tagged"]);
    browser.click("#tag-filter-clear").await;
    browser.wait_for_location("/api/urls").await;

    // The tags page: find a tag, rename it on its page.
    browser.open("/api/tags").await;
    let launch = pick_tag(&browser, "lau", "launch").await;
    browser.click(&launch).await;
    browser.wait_for_location("/api/tags/launch").await;
    assert_eq!(browser.text("#tag-links").await, "2 links");
    // A taken name: the API's 409 is shown in the form, and the page stays.
    browser
        .type_into("#rename-tag input[name=name]", "q4")
        .await;
    browser.click("#rename-tag button[type=submit]").await;
    let error = form_error(&browser, "#rename-tag").await;
    assert!(error.contains("q4"), "error shown: {error}");
    assert_eq!(browser.location().await, "/api/tags/launch");
    browser
        .type_into("#rename-tag input[name=name]", "launch-2026")
        .await;
    browser.click("#rename-tag button[type=submit]").await;
    browser.wait_for_location("/api/tags/launch-2026").await;
    browser.wait_for("#rename-tag").await;
    assert_eq!(browser.text("h1").await, "Tag launch-2026");
    browser
        .screenshot(&screenshot_path("explorer-tag.png"))
        .await;
    assert_eq!(
        app.json("/api/urls/other").await["tags"],
        json!(["launch-2026"])
    );
    assert_eq!(app.get("/api/tags/launch").await.status(), 404);
    // Delete it: the links stay, without it.
    browser.click("#delete-tag button[type=submit]").await;
    let question = eventually("the confirm dialog", STEP_TIMEOUT, || async {
        browser.dialog().await
    })
    .await;
    assert_eq!(
        question,
        "Take the tag launch-2026 from every link? The links stay."
    );
    browser
        .client
        .accept_alert()
        .await
        .expect("dialog accepted");
    browser.wait_for_location("/api/tags").await;
    assert_eq!(app.json("/api/urls/other").await["tags"], json!([]));
    assert_eq!(
        app.json("/api/urls/tagged").await["tags"],
        json!(["q4", "spring"])
    );

    // An empty tags field clears the link's tags.
    browser.open("/api/urls/tagged").await;
    browser.type_into("#edit-url input[name=tags]", "").await;
    browser.click("#edit-url button[type=submit]").await;
    eventually("no tags on the page", STEP_TIMEOUT, || async {
        let shown = browser
            .client
            .find(fantoccini::Locator::Css("#url-tags"))
            .await
            .ok()?;
        (shown.text().await.ok()? == "No tags.").then_some(())
    })
    .await;
    assert_eq!(app.json("/api/urls/tagged").await["tags"], json!([]));
    assert_eq!(browser.value("#edit-url input[name=tags]").await, "");

    browser.close().await;
}
