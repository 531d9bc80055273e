//! Shlink's visit deletions and overview: `DELETE /short-urls/{shortCode}/visits` (counters,
//! the visit cap starting again, roles), `DELETE /visits/orphan`, and `GET /visits` from the
//! counters (an editor's own links, no orphans for it).

use std::time::Duration;

use kurz::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_locked_app, Backend, TestApp};
use crate::shlink_calls::{click, rest, rest_json, shlink_problem, FIREFOX, GOOGLEBOT};

/// Creates `slug` through Shlink's API with this key.
async fn shorten(app: &TestApp, key: &str, slug: &str, extra: Value) -> Value {
    let mut body = json!({"longUrl": format!("https://example.com/{slug}"), "customSlug": slug});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = rest(app, Method::POST, "/short-urls", key, Some(body)).await;
    assert_eq!(response.status(), 200, "creating {slug}");
    response.json().await.unwrap()
}

/// Waits until the orphan visits stored are `count`.
async fn wait_for_orphans(app: &TestApp, count: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = app.store.orphan_visit_total().await.unwrap();
        if stored == count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{stored} orphan visits, not {count}, after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn summary(total: i64, bots: i64) -> Value {
    json!({"total": total, "nonBots": total - bots, "bots": bots})
}

async fn a_short_urls_visits_are_deleted_with_their_counts(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    shorten(
        &app,
        &admin,
        "capped",
        json!({"maxVisits": 1, "tags": ["t"]}),
    )
    .await;
    shorten(&app, &admin, "other", json!({"tags": ["t"]})).await;
    assert_eq!(click(&app, "capped", FIREFOX).await, 302);
    assert_eq!(click(&app, "capped", GOOGLEBOT).await, 302);
    assert_eq!(click(&app, "other", FIREFOX).await, 302);
    app.wait_for_visits(3).await;
    assert_eq!(
        click(&app, "capped", FIREFOX).await,
        410,
        "the cap of one person is reached"
    );

    let deleted = rest(
        &app,
        Method::DELETE,
        "/short-urls/capped/visits",
        &admin,
        None,
    )
    .await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(
        deleted.json::<Value>().await.unwrap(),
        json!({"deletedVisits": 2})
    );
    let link = rest_json(&app, "/short-urls/capped", &admin).await;
    assert_eq!(link["visitsSummary"], summary(0, 0));
    let other = rest_json(&app, "/short-urls/other", &admin).await;
    assert_eq!(
        other["visitsSummary"],
        summary(1, 0),
        "other links keep theirs"
    );
    let tags = rest_json(&app, "/tags/stats", &admin).await;
    assert_eq!(tags["tags"]["data"][0]["visitsSummary"], summary(1, 0));
    let overview = rest_json(&app, "/visits", &admin).await;
    assert_eq!(overview["visits"]["nonOrphanVisits"], summary(1, 0));
    // The cap counts from zero again, on this server at once.
    assert_eq!(click(&app, "capped", FIREFOX).await, 302);
    app.wait_for_visits(2).await;

    // `domain` as the other short URL routes take it.
    let own = url::Url::parse(&app.address).unwrap();
    let authority = format!("{}:{}", own.host_str().unwrap(), own.port().unwrap());
    for domain in ["DEFAULT", authority.as_str()] {
        let response = rest(
            &app,
            Method::DELETE,
            &format!("/short-urls/capped/visits?domain={domain}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(response.status(), 200, "{domain}");
    }
    let elsewhere = rest(
        &app,
        Method::DELETE,
        "/short-urls/capped/visits?domain=s.example",
        &admin,
        None,
    )
    .await;
    let problem = shlink_problem(elsewhere, 400, "invalid-data").await;
    assert_eq!(problem["invalidElements"], json!(["domain"]));
    let missing = rest(
        &app,
        Method::DELETE,
        "/short-urls/nope/visits",
        &admin,
        None,
    )
    .await;
    let problem = shlink_problem(missing, 404, "short-url-not-found").await;
    assert_eq!(problem["shortCode"], "nope");
}

async fn visit_deletions_follow_the_keys_roles(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let editor = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    shorten(&app, &admin, "admins", json!({})).await;
    shorten(&app, &editor, "editors", json!({})).await;
    assert_eq!(click(&app, "admins", FIREFOX).await, 302);
    assert_eq!(click(&app, "editors", FIREFOX).await, 302);
    app.wait_for_visits(2).await;

    // An editor: its own link's visits; another's link is not found for it.
    let others = rest(
        &app,
        Method::DELETE,
        "/short-urls/admins/visits",
        &editor,
        None,
    )
    .await;
    shlink_problem(others, 404, "short-url-not-found").await;
    let own = rest(
        &app,
        Method::DELETE,
        "/short-urls/editors/visits",
        &editor,
        None,
    )
    .await;
    assert_eq!(own.json::<Value>().await.unwrap()["deletedVisits"], 1);
    // A viewer reads but does not write.
    let viewers = rest(
        &app,
        Method::DELETE,
        "/short-urls/admins/visits",
        &viewer,
        None,
    )
    .await;
    let problem = shlink_problem(viewers, 403, "").await;
    assert_eq!(problem["title"], "Forbidden");
    let anonymous = app
        .client
        .delete(app.url("/rest/v3/short-urls/admins/visits"))
        .send()
        .await
        .unwrap();
    shlink_problem(anonymous, 401, "missing-authentication").await;
    let link = rest_json(&app, "/short-urls/admins", &admin).await;
    assert_eq!(
        link["visitsSummary"]["total"], 1,
        "nothing deleted for them"
    );
}

async fn the_overview_and_orphan_deletion_count_from_counters(backend: Backend) {
    let app = spawn_locked_app(backend).await;
    let admin = app.api_key(Role::Admin).await;
    let editor = app.api_key(Role::Editor).await;
    let viewer = app.api_key(Role::Viewer).await;
    shorten(&app, &admin, "admins", json!({})).await;
    shorten(&app, &editor, "editors", json!({})).await;
    assert_eq!(click(&app, "admins", FIREFOX).await, 302);
    assert_eq!(click(&app, "admins", GOOGLEBOT).await, 302);
    assert_eq!(click(&app, "editors", GOOGLEBOT).await, 302);
    app.wait_for_visits(3).await;
    assert_eq!(click(&app, "missing-one", FIREFOX).await, 404);
    assert_eq!(click(&app, "missing-two", GOOGLEBOT).await, 404);
    assert_eq!(click(&app, "", FIREFOX).await, 200);
    wait_for_orphans(&app, 3).await;

    let overview = rest_json(&app, "/visits", &admin).await;
    assert_eq!(
        overview,
        json!({"visits": {"nonOrphanVisits": summary(3, 2), "orphanVisits": summary(3, 1)}})
    );
    assert_eq!(rest_json(&app, "/visits", &viewer).await, overview);
    // An editor: its own links' visits, and no orphans (they are no one's).
    assert_eq!(
        rest_json(&app, "/visits", &editor).await,
        json!({"visits": {"nonOrphanVisits": summary(1, 1), "orphanVisits": summary(0, 0)}})
    );

    let viewers = rest(&app, Method::DELETE, "/visits/orphan", &viewer, None).await;
    shlink_problem(viewers, 403, "").await;
    let editors = rest(&app, Method::DELETE, "/visits/orphan", &editor, None).await;
    assert_eq!(
        editors.json::<Value>().await.unwrap(),
        json!({"deletedVisits": 0}),
        "an editor's key sees no orphans, so deletes none"
    );
    wait_for_orphans(&app, 3).await;
    let admins = rest(&app, Method::DELETE, "/visits/orphan", &admin, None).await;
    assert_eq!(admins.status(), 200);
    assert_eq!(
        admins.json::<Value>().await.unwrap(),
        json!({"deletedVisits": 3}),
        "today's orphans too"
    );
    let overview = rest_json(&app, "/visits", &admin).await;
    assert_eq!(overview["visits"]["orphanVisits"], summary(0, 0));
    assert_eq!(overview["visits"]["nonOrphanVisits"], summary(3, 2));
    let listed = app
        .with_key(Method::GET, "/api/visits/orphan", &admin)
        .send()
        .await
        .unwrap();
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["items"], json!([]), "{listed}");
}

crate::on_both_backends!(
    a_short_urls_visits_are_deleted_with_their_counts,
    visit_deletions_follow_the_keys_roles,
    the_overview_and_orphan_deletion_count_from_counters,
);
