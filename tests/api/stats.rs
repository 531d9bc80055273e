//! `GET /api/urls/{slug}/stats` and the visit filters, over HTTP.

use chrono::Utc;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, Backend};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

async fn click(
    app: &crate::helpers::TestApp,
    slug: &str,
    user_agent: &str,
    referrer: Option<&str>,
) {
    let mut request = app
        .client
        .get(app.url(&format!("/{slug}")))
        .header("user-agent", user_agent);
    if let Some(referrer) = referrer {
        request = request.header("referer", referrer);
    }
    assert_eq!(request.send().await.unwrap().status(), 302);
}

async fn stats_count_people_by_day_and_breakdown(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    click(&app, &slug, FIREFOX, Some("https://news.example.org/a")).await;
    click(&app, &slug, FIREFOX, None).await;
    click(&app, &slug, GOOGLEBOT, None).await;
    app.wait_for_visits(3).await;

    let stats: Value = app.json(&format!("/api/urls/{slug}/stats")).await;
    let today = Utc::now().date_naive().to_string();
    assert_eq!(stats["slug"], slug.as_str());
    assert_eq!(stats["to"], today.as_str());
    assert_eq!(stats["days"].as_array().unwrap().len(), 30);
    assert_eq!(stats["days"][29]["day"], today.as_str());
    assert_eq!(stats["days"][29]["visits"], 2);
    assert_eq!(stats["total_visits"], 2, "bots are left out: {stats}");
    assert_eq!(stats["bot_visits"], 1);
    assert_eq!(stats["browsers"][0]["value"], "Firefox");
    assert_eq!(stats["browsers"][0]["visits"], 2);
    assert_eq!(stats["os"][0]["value"], "Linux");
    assert_eq!(stats["devices"][0]["value"], "desktop");
    let referrers = stats["referrer_hosts"].as_array().unwrap();
    assert!(referrers
        .iter()
        .any(|r| r["value"] == "news.example.org" && r["visits"] == 1));
    assert!(referrers
        .iter()
        .any(|r| r["value"].is_null() && r["visits"] == 1));

    let with_bots: Value = app
        .json(&format!(
            "/api/urls/{slug}/stats?bots=true&from={today}&to={today}"
        ))
        .await;
    assert_eq!(with_bots["total_visits"], 3);
    assert_eq!(with_bots["days"].as_array().unwrap().len(), 1);
    assert!(with_bots["devices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["value"] == "bot"));
}

async fn stats_reject_bad_ranges(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-11-20&to=2026-11-10", "from"),
        ("from=2000-01-01&to=2026-01-01", "from"),
        ("top=0", "top"),
        ("top=1000", "top"),
        ("bots=maybe", "bots"),
        ("colour=red", "colour"),
    ] {
        let response = app.get(&format!("/api/urls/{slug}/stats?{query}")).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    assert_problem(app.get("/api/urls/nope/stats").await, 404).await;
}

async fn visit_lists_filter_by_bot_and_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let slug = app.new_slug("https://example.com/").await;
    click(&app, &slug, FIREFOX, None).await;
    click(&app, &slug, GOOGLEBOT, None).await;
    click(&app, &slug, FIREFOX, None).await;
    app.wait_for_visits(3).await;

    let bots = app.json(&format!("/api/visits?url={slug}&bot=true")).await;
    let items = bots["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["is_bot"], true);
    assert_eq!(items[0]["browser"], "Googlebot");

    let people = app
        .json(&format!("/api/urls/{slug}/visits?bot=false&limit=1"))
        .await;
    assert_eq!(people["items"].as_array().unwrap().len(), 1);
    let next = people["next"].as_str().unwrap();
    assert!(next.contains("bot=false"), "filters carry over: {next}");
    let rest: Value = app
        .client
        .get(next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["is_bot"], false);

    let today = Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        app.json(&format!("/api/visits?from={today}")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        app.json(&format!("/api/visits?from={tomorrow}")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.json(&format!("/api/visits?to={today}")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let problem = assert_problem(app.get("/api/visits?from=soon").await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "from");
}

// Counting people by day and the breakdowns is each backend's SQL.
crate::on_both_backends!(stats_count_people_by_day_and_breakdown,);

crate::on_sqlite!(stats_reject_bad_ranges, visit_lists_filter_by_bot_and_time,);
