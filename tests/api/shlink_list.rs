//! Shlink's short URL list, `GET /rest/v3/short-urls`: every parameter, Shlink's pagination
//! object with totals, and numbered pages read both ways kurz reads them: with `OFFSET` near the
//! start (the default) and after a key of the page index (`compat.shlink.offset_rows = 0` makes
//! every page but the first start there), which must give the same pages.

use kurz::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::shlink::shlink_problem;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

const ORDER_FIELDS: [&str; 6] = [
    "dateCreated",
    "shortCode",
    "longUrl",
    "title",
    "visits",
    "nonBotVisits",
];

impl TestApp {
    /// `GET /rest/v3/short-urls?{query}` as `key`: the `shortUrls` member of a 200.
    async fn short_urls(&self, key: &str, query: &str) -> Value {
        let response = self
            .shlink(Method::GET, &format!("/short-urls?{query}"), key, None)
            .await;
        assert_eq!(response.status(), 200, "?{query}");
        let body: Value = response.json().await.unwrap();
        body["shortUrls"].clone()
    }

    /// Every short code the list answers for `query` with `itemsPerPage=-1`, and its total.
    async fn all_codes(&self, key: &str, query: &str) -> (Vec<String>, u64) {
        let list = self
            .short_urls(key, &format!("itemsPerPage=-1&{query}"))
            .await;
        let total = list["pagination"]["totalItems"].as_u64().unwrap();
        (codes(&list), total)
    }
}

fn codes(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["shortCode"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut codes: Vec<String>) -> Vec<String> {
    codes.sort();
    codes
}

/// Twelve links `l00`..`l11` made by the admin: `red` on every third, `blue` on every even one,
/// titles on the even ones, `l05` capped at one visit; `l10` expired; then visits: `l03` three,
/// `l05` one (its cap), `l08` two by a bot. Plus `e00`, `e01` made by the editor.
async fn seed(app: &TestApp, admin: &str, editor: &str) {
    for i in 0..12 {
        let mut tags = Vec::new();
        if i % 3 == 0 {
            tags.push("red");
        }
        if i % 2 == 0 {
            tags.push("blue");
        }
        let mut body = json!({
            "longUrl": format!("https://example.com/{}", (b'z' - i as u8) as char),
            "customSlug": format!("l{i:02}"),
            "tags": tags,
        });
        if i % 2 == 0 {
            body["title"] = json!(format!("Title {}", 12 - i));
        }
        if i == 5 {
            body["maxVisits"] = json!(1);
        }
        if i == 10 {
            body["validUntil"] = json!("2020-01-01T00:00:00+00:00");
        }
        let response = app
            .shlink(Method::POST, "/short-urls", admin, Some(body))
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }
    let literal = json!({"longUrl": "https://example.com/50%25off", "customSlug": "pct"});
    assert_eq!(
        app.shlink(Method::POST, "/short-urls", admin, Some(literal))
            .await
            .status(),
        200
    );
    for slug in ["e00", "e01"] {
        let body = json!({"longUrl": "https://example.org/editor", "customSlug": slug});
        assert_eq!(
            app.shlink(Method::POST, "/short-urls", editor, Some(body))
                .await
                .status(),
            200
        );
    }
    for (slug, agent) in [
        ("l03", FIREFOX),
        ("l03", FIREFOX),
        ("l03", FIREFOX),
        ("l05", FIREFOX),
        ("l08", GOOGLEBOT),
        ("l08", GOOGLEBOT),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/{slug}")))
            .header("User-Agent", agent)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
    }
    app.wait_for_visits(6).await;
}

/// The value a short URL is ordered by, comparable across the list.
fn order_value(url: &Value, field: &str) -> (String, i64) {
    match field {
        "dateCreated" => (url["dateCreated"].as_str().unwrap().to_owned(), 0),
        "shortCode" => (url["shortCode"].as_str().unwrap().to_owned(), 0),
        "longUrl" => (url["longUrl"].as_str().unwrap().to_owned(), 0),
        "title" => (url["title"].as_str().unwrap_or("").to_owned(), 0),
        "visits" => (
            String::new(),
            url["visitsSummary"]["total"].as_i64().unwrap(),
        ),
        _ => (
            String::new(),
            url["visitsSummary"]["nonBots"].as_i64().unwrap(),
        ),
    }
}

/// Every order, both ways: the whole list is sorted by its field, and pages of 4 (numbered
/// 1.. past the end) put together are exactly the whole list, with Shlink's pagination object.
async fn pages_cover_the_list_in_every_order(app: &TestApp, admin: &str) {
    for field in ORDER_FIELDS {
        for dir in ["ASC", "DESC"] {
            let order = format!("orderBy={field}-{dir}");
            let whole = app
                .short_urls(admin, &format!("itemsPerPage=-1&{order}"))
                .await;
            let data = whole["data"].as_array().unwrap();
            assert_eq!(data.len(), 15, "{order}");
            for pair in data.windows(2) {
                let (a, b) = (order_value(&pair[0], field), order_value(&pair[1], field));
                if dir == "ASC" {
                    assert!(a <= b, "{order}: {a:?} before {b:?}");
                } else {
                    assert!(a >= b, "{order}: {a:?} before {b:?}");
                }
            }
            let mut paged = Vec::new();
            for page in 1..=5u64 {
                let list = app
                    .short_urls(admin, &format!("page={page}&itemsPerPage=4&{order}"))
                    .await;
                let expected_items = match page {
                    1..=3 => 4,
                    4 => 3,
                    _ => 0,
                };
                assert_eq!(
                    list["pagination"],
                    json!({"currentPage": page, "pagesCount": 4, "itemsPerPage": 4,
                           "itemsInCurrentPage": expected_items, "totalItems": 15}),
                    "{order} page {page}"
                );
                assert_eq!(list["data"].as_array().unwrap().len(), expected_items);
                paged.extend(codes(&list));
            }
            assert_eq!(paged, codes(&whole), "{order}");
        }
    }
    let visits = codes(&app.short_urls(admin, "orderBy=visits-DESC").await);
    assert_eq!(&visits[..3], ["l03", "l08", "l05"]);
    let people = codes(&app.short_urls(admin, "orderBy=nonBotVisits-DESC").await);
    assert_eq!(&people[..2], ["l03", "l05"]);
    // No orderBy: newest first, ten a page.
    let newest = app.short_urls(admin, "").await;
    assert_eq!(newest["pagination"]["itemsPerPage"], 10);
    assert_eq!(codes(&newest)[..3], ["e01", "e00", "pct"]);
}

/// Each filter alone and some together, with their totals.
async fn filters_keep_what_shlink_keeps(app: &TestApp, admin: &str, editor: &str) {
    let l = |ids: &[u32]| -> Vec<String> { ids.iter().map(|i| format!("l{i:02}")).collect() };
    let (red, total) = app.all_codes(admin, "tags[]=red").await;
    assert_eq!((sorted(red), total), (l(&[0, 3, 6, 9]), 4));
    let (any, _) = app.all_codes(admin, "tags[]=red&tags[]=blue").await;
    assert_eq!(sorted(any), l(&[0, 2, 3, 4, 6, 8, 9, 10]));
    let (all, total) = app
        .all_codes(admin, "tags[]=red&tags[]=blue&tagsMode=all")
        .await;
    assert_eq!((sorted(all), total), (l(&[0, 6]), 2));
    let (not_red, total) = app.all_codes(admin, "excludeTags[]=red").await;
    assert_eq!(total, 11);
    assert!(!not_red.contains(&"l03".to_owned()) && not_red.contains(&"e00".to_owned()));
    let (not_both, total) = app
        .all_codes(
            admin,
            "excludeTags[]=red&excludeTags[]=blue&excludeTagsMode=all",
        )
        .await;
    assert_eq!(total, 13);
    assert!(!not_both.contains(&"l06".to_owned()) && not_both.contains(&"l03".to_owned()));
    let (blue_not_red, _) = app.all_codes(admin, "tags[]=blue&excludeTags[]=red").await;
    assert_eq!(sorted(blue_not_red), l(&[2, 4, 8, 10]));

    // Substrings of the slug, target, title or a tag, in any case; wildcards taken literally.
    let (found, _) = app.all_codes(admin, "searchTerm=L1").await;
    assert_eq!(sorted(found), l(&[10, 11]));
    let (found, _) = app.all_codes(admin, "searchTerm=title%204").await;
    assert_eq!(found, l(&[8]));
    let (found, _) = app.all_codes(admin, "searchTerm=EXAMPLE.COM/y").await;
    assert_eq!(found, l(&[1]));
    let (found, _) = app.all_codes(admin, "searchTerm=rE").await;
    assert!(found.len() >= 4 && found.contains(&"l09".to_owned()));
    let (found, _) = app.all_codes(admin, "searchTerm=50%25").await;
    assert_eq!(found, ["pct"]);
    let (found, _) = app.all_codes(admin, "searchTerm=_").await;
    assert!(found.is_empty(), "{found:?}");

    let (active, total) = app.all_codes(admin, "excludeMaxVisitsReached=true").await;
    assert_eq!(total, 14);
    assert!(!active.contains(&"l05".to_owned()));
    let (current, total) = app.all_codes(admin, "excludePastValidUntil=true").await;
    assert_eq!(total, 14);
    assert!(!current.contains(&"l10".to_owned()));

    let (none, total) = app
        .all_codes(admin, "startDate=2999-01-01T00:00:00%2B00:00")
        .await;
    assert_eq!((none.len(), total), (0, 0));
    let (none, _) = app.all_codes(admin, "endDate=2020-01-01").await;
    assert!(none.is_empty());
    let (all, total) = app
        .all_codes(admin, "startDate=2020-01-01&endDate=2999-01-01")
        .await;
    assert_eq!((all.len(), total), (15, 15));

    let (all, _) = app.all_codes(admin, "domain=DEFAULT").await;
    assert_eq!(all.len(), 15);
    let (none, total) = app.all_codes(admin, "domain=other.example").await;
    assert_eq!((none.len(), total), (0, 0));

    // An editor sees its own; an admin may ask for one key's by name (others cannot).
    let (own, total) = app.all_codes(editor, "").await;
    assert_eq!((sorted(own), total), (vec!["e00".into(), "e01".into()], 2));
    let (own, _) = app.all_codes(editor, "apiKeyName=test%20admin").await;
    assert_eq!(own.len(), 2);
    let (by_name, total) = app.all_codes(admin, "apiKeyName=test%20editor").await;
    assert_eq!((by_name.len(), total), (2, 2));
    let (nobody, total) = app.all_codes(admin, "apiKeyName=nobody").await;
    assert_eq!((nobody.len(), total), (0, 0));
}

async fn bad_parameters_are_invalid_data(app: &TestApp, admin: &str) {
    for (query, field) in [
        ("orderBy=clicks-DESC", "orderBy"),
        ("orderBy=title-SIDEWAYS", "orderBy"),
        ("page=0", "page"),
        ("itemsPerPage=many", "itemsPerPage"),
        ("tags[]=red&tagsMode=most", "tagsMode"),
        ("tags[]=Not%20a%20tag!", "tags"),
        ("excludeTags[]=red&excludeTagsMode=few", "excludeTagsMode"),
        ("startDate=yesterday", "startDate"),
        ("endDate=2026-13-01", "endDate"),
        ("excludeMaxVisitsReached=maybe", "excludeMaxVisitsReached"),
    ] {
        let response = app
            .shlink(Method::GET, &format!("/short-urls?{query}"), admin, None)
            .await;
        let problem = shlink_problem(response, 400, "invalid-data").await;
        assert_eq!(problem["invalidElements"], json!([field]), "{query}");
    }
}

async fn the_list_answers_every_parameter(backend: Backend) {
    for offset_rows in [1000, 0] {
        let app = spawn_app_with(backend, |s| {
            s.auth.allow_anonymous = false;
            s.compat.shlink.offset_rows = offset_rows;
        })
        .await;
        let admin = app.api_key(Role::Admin).await;
        let editor = app.api_key(Role::Editor).await;
        seed(&app, &admin, &editor).await;
        pages_cover_the_list_in_every_order(&app, &admin).await;
        filters_keep_what_shlink_keeps(&app, &admin, &editor).await;
        bad_parameters_are_invalid_data(&app, &admin).await;
    }
}

/// A page read after an index key sees links created, deleted and imported since the index was
/// built: the index is rebuilt when the counters it was built against move.
async fn page_indexes_follow_changes(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.compat.shlink.offset_rows = 0).await;
    let admin = app.api_key(Role::Admin).await;
    for i in 0..7 {
        let body = json!({"longUrl": "https://example.com/", "customSlug": format!("p{i}")});
        app.shlink(Method::POST, "/short-urls", &admin, Some(body))
            .await;
    }
    let page = |n: u32| format!("page={n}&itemsPerPage=3");
    assert_eq!(
        codes(&app.short_urls(&admin, &page(2)).await),
        ["p3", "p2", "p1"]
    );
    let body = json!({"longUrl": "https://example.com/", "customSlug": "p7"});
    app.shlink(Method::POST, "/short-urls", &admin, Some(body))
        .await;
    let second = app.short_urls(&admin, &page(2)).await;
    assert_eq!(codes(&second), ["p4", "p3", "p2"]);
    assert_eq!(second["pagination"]["totalItems"], 8);
    assert_eq!(
        app.shlink(Method::DELETE, "/short-urls/p3", &admin, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        codes(&app.short_urls(&admin, &page(2)).await),
        ["p4", "p2", "p1"]
    );
    // A filtered list (no counter holds its total) too.
    let filtered = format!("{}&searchTerm=p", page(3));
    let third = app.short_urls(&admin, &filtered).await;
    assert_eq!(codes(&third), ["p0"]);
    assert_eq!(third["pagination"]["totalItems"], 7);
}

crate::on_both_backends!(
    the_list_answers_every_parameter,
    page_indexes_follow_changes
);
