//! Lock order on PostgreSQL, where writers of one row can wait on each other (SQLite has one
//! writer at a time): a link deleted while a visit batch writes to it, and a link deleted or
//! retagged while one of its tags is deleted.

use std::time::Duration;

use chrono::Utc;
use kurz::domain::{TagName, TargetUrl};
use kurz::store::{NewUrl, StoreError, UrlPatch};
use sqlx::Connection;

use super::{fixture, Fixture};
use crate::common::database::Backend;

/// A visit batch has stored a visit of the link (its foreign key check holds the link's row
/// with `KEY SHARE`) when the link is deleted; the batch then adds to the link's counter, as
/// the visit writer does next. Neither may wait for the other in a cycle: the deletion waits
/// for the batch, then deletes the link and its visits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_deleted_under_a_visit_batch_waits_for_it_without_deadlock() {
    let f = fixture(Backend::Postgres).await;
    let record = f.create("busy", "https://example.com/").await;
    let mut batch = sqlx::PgConnection::connect(&f._database.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut batch).await.unwrap();
    sqlx::query("INSERT INTO url_visits (url_id, visited_at) VALUES ($1, now())")
        .bind(record.id)
        .execute(&mut batch)
        .await
        .unwrap();

    let store = f.store.clone();
    let slug = f.slug("busy");
    let deletion = tokio::spawn(async move { store.delete_url(&slug).await });
    // Let the deletion reach the link's row.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counted = tokio::time::timeout(
        Duration::from_secs(10),
        sqlx::query("UPDATE urls SET visit_count = visit_count + 1 WHERE id = $1")
            .bind(record.id)
            .execute(&mut batch),
    )
    .await
    .expect("the batch is not left waiting");
    counted.expect("the batch is not a deadlock's victim");
    sqlx::query("COMMIT").execute(&mut batch).await.unwrap();

    deletion
        .await
        .unwrap()
        .expect("the deletion succeeds once the batch committed");
    assert!(f.store.get_url(&f.slug("busy")).await.is_err());
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM url_visits")
        .fetch_one(&mut batch)
        .await
        .unwrap();
    assert_eq!(left, 0, "the link's visits went with it");
}

/// Which change of a tagged link meets the tag's deletion.
#[derive(Clone, Copy)]
enum LinkChange {
    Delete,
    Retag,
}

/// The tag `old` is being deleted (its row held as the `DELETE` holds it before cascading to
/// its `url_tags`) when the link carrying it is changed; the deletion then cascades. The link's
/// change waits for the tag instead of holding the link's `url_tags` row the cascade needs.
async fn a_tagged_link_changed_while_its_tag_is_deleted(change: LinkChange) -> Fixture {
    let f = fixture(Backend::Postgres).await;
    let tags = ["old", "kept"].map(|name| TagName::parse(name, "tags").unwrap());
    f.store
        .create_url(NewUrl {
            tags: tags.to_vec(),
            ..NewUrl::plain(
                f.slug("tagged"),
                TargetUrl::parse("https://example.com/", 2048).unwrap(),
                Utc::now(),
            )
        })
        .await
        .unwrap();
    let mut deletion = sqlx::PgConnection::connect(&f._database.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut deletion).await.unwrap();
    sqlx::query("SELECT id FROM tags WHERE name = 'old' FOR UPDATE")
        .execute(&mut deletion)
        .await
        .unwrap();

    let store = f.store.clone();
    let slug = f.slug("tagged");
    let kept = tags[1].clone();
    let changed = tokio::spawn(async move {
        match change {
            LinkChange::Delete => store.delete_url(&slug).await,
            LinkChange::Retag => {
                let patch = UrlPatch {
                    tags: Some(vec![kept]),
                    ..UrlPatch::default()
                };
                store.update_url(&slug, patch).await.map(drop)
            }
        }
    });
    // Let the link's change reach the tag.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deleted = tokio::time::timeout(
        Duration::from_secs(10),
        sqlx::query("DELETE FROM tags WHERE name = 'old'").execute(&mut deletion),
    )
    .await
    .expect("the tag's deletion is not left waiting");
    deleted.expect("the tag's deletion is not a deadlock's victim");
    sqlx::query("COMMIT").execute(&mut deletion).await.unwrap();
    let outcome: Result<(), StoreError> = changed.await.unwrap();
    outcome.expect("the link's change succeeds once the tag is gone");
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_deleted_while_its_tag_is_deleted_waits_for_it_without_deadlock() {
    let f = a_tagged_link_changed_while_its_tag_is_deleted(LinkChange::Delete).await;
    assert!(f.store.get_url(&f.slug("tagged")).await.is_err());
    let tags: Vec<(String, i64)> = sqlx::query_as("SELECT name, links FROM tags")
        .fetch_all(&connect(&f).await)
        .await
        .unwrap();
    assert!(tags.is_empty(), "the last link's tags go with it: {tags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_retagged_while_its_tag_is_deleted_waits_for_it_without_deadlock() {
    let f = a_tagged_link_changed_while_its_tag_is_deleted(LinkChange::Retag).await;
    let record = f.store.get_url(&f.slug("tagged")).await.unwrap();
    let shown: Vec<String> = record.tags.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["kept"]);
    let tags: Vec<(String, i64)> = sqlx::query_as("SELECT name, links FROM tags")
        .fetch_all(&connect(&f).await)
        .await
        .unwrap();
    assert_eq!(tags, [("kept".to_owned(), 1)]);
}

async fn connect(f: &Fixture) -> sqlx::PgPool {
    sqlx::PgPool::connect(&f._database.url).await.unwrap()
}

/// Which write queues an event for an endpoint being deleted.
#[derive(Clone, Copy)]
enum Announced {
    LinkDeleted,
    VisitBatch,
}

/// A webhook endpoint is being deleted (uncommitted) when a change it subscribes to is
/// written: the change waits for the deletion and queues nothing for the endpoint, instead of
/// failing on the deliveries' foreign key once the endpoint is gone (a 500 on `DELETE
/// /api/urls/{slug}`, or a visit batch that would not store).
async fn an_event_for_an_endpoint_being_deleted(announced: Announced) {
    use kurz::domain::{WebhookEvent, WebhookSecret};
    use kurz::store::NewWebhook;

    let f = fixture(Backend::Postgres).await;
    let record = f.create("hooked", "https://example.com/").await;
    let endpoint = f
        .store
        .create_webhook(NewWebhook {
            url: "https://hooks.example/in".into(),
            secret: WebhookSecret::parse("0123456789abcdef").unwrap(),
            events: vec![WebhookEvent::LinkDeleted, WebhookEvent::Visit],
            created_by: None,
        })
        .await
        .unwrap();
    let mut deletion = sqlx::PgConnection::connect(&f._database.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut deletion).await.unwrap();
    sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(endpoint.id)
        .execute(&mut deletion)
        .await
        .unwrap();

    let store = f.store.clone();
    let slug = f.slug("hooked");
    let written = tokio::spawn(async move {
        match announced {
            Announced::LinkDeleted => store.delete_url(&slug).await,
            Announced::VisitBatch => store
                .record_visits(&[super::visit(record.id, 1)])
                .await
                .map(drop),
        }
    });
    // Let the change reach the endpoint's row.
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::query("COMMIT").execute(&mut deletion).await.unwrap();
    let outcome: Result<(), StoreError> = tokio::time::timeout(Duration::from_secs(10), written)
        .await
        .expect("the change is not left waiting")
        .unwrap();
    outcome.expect("the change succeeds without the deleted endpoint");
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries")
        .fetch_one(&mut deletion)
        .await
        .unwrap();
    assert_eq!(queued, 0, "nothing is queued for the deleted endpoint");
    if let Announced::VisitBatch = announced {
        let stored: i64 = sqlx::query_scalar("SELECT visit_count FROM urls WHERE id = $1")
            .bind(record.id)
            .fetch_one(&mut deletion)
            .await
            .unwrap();
        assert_eq!(stored, 1, "the visit is stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_deleted_while_its_webhook_endpoint_is_deleted_queues_nothing_for_it() {
    an_event_for_an_endpoint_being_deleted(Announced::LinkDeleted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_batch_stored_while_its_webhook_endpoint_is_deleted_queues_nothing_for_it() {
    an_event_for_an_endpoint_being_deleted(Announced::VisitBatch).await;
}
