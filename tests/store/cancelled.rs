//! A write given up half way (its client went away, or the request timed out, and the future
//! was dropped) leaves no transaction open on a pooled connection: the next borrower's
//! statements commit as their own.

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::Utc;
use kurz::config::{Environment, Settings};
use kurz::domain::{ApiKey, Role, Slug, TargetUrl};
use kurz::store::{self, NewApiKey, NewUrl, Store};

use crate::common::database::{Backend, TestDatabase};

crate::on_both_backends!(a_write_dropped_at_any_point_leaves_no_transaction_open);

/// A future that is ready after `polls` polls, each a `yield_now` (which lets the runtime read
/// the sockets in between).
async fn after_polls(polls: u32) {
    for _ in 0..polls {
        tokio::task::yield_now().await;
    }
}

/// With one connection in the pool, a link's creation is dropped after 0, 1, 2, ... polls, so
/// that some drops land between the `BEGIN` sent and its answer read (sqlx 0.8 leaves the
/// server inside that transaction and the connection in the pool: launchbadge/sqlx#4393).
/// After each, a key is created (one statement, no transaction of its own) on the same
/// connection, and a second store on the same database must see it at once.
async fn a_write_dropped_at_any_point_leaves_no_transaction_open(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut settings = Settings::defaults(Environment::Development).unwrap();
    settings.database.url = database.url.clone();
    settings.database.max_connections = NonZeroU32::new(1).unwrap();
    let store: Arc<dyn Store> = store::connect(&settings.database)
        .await
        .expect("store opens");
    let policy = settings.slug.policy();
    let observer = store::connect(&settings.database).await.expect("opens");

    let mut cancelled = 0;
    for polls in 0..400 {
        let new = NewUrl::plain(
            Slug::parse(&format!("c{polls}"), &policy).unwrap(),
            TargetUrl::parse("https://example.com/", 2048).unwrap(),
            Utc::now(),
        );
        tokio::select! {
            biased;
            created = store.create_url(new) => { created.expect("created"); }
            _ = after_polls(polls) => cancelled += 1,
        }

        let name = format!("after {polls} polls");
        let key = ApiKey::generate();
        store
            .create_api_key(NewApiKey {
                name: name.clone(),
                role: Role::Admin,
                prefix: key.display_prefix(),
                key_hash: key.hash(),
                created_at: Utc::now(),
            })
            .await
            .expect("key created");
        let keys = observer.list_api_keys().await.unwrap();
        assert!(
            keys.iter().any(|k| k.name == name),
            "the key created after a creation dropped at poll {polls} is not committed: \
             the pooled connection was left inside that creation's transaction"
        );
    }
    assert!(cancelled > 0, "no creation was dropped half way");
}
