//! Lock order on PostgreSQL, where writers of one row can wait on each other (SQLite has one
//! writer at a time): a link deleted while a visit batch writes to it.

use std::time::Duration;

use sqlx::Connection;

use super::fixture;
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
