//! `on_pool!`, the one way the store's files run a statement on whichever backend a
//! `SqlStore` opened. Declared first in `store/mod.rs`, so that every file of the store has it.

/// Runs `$body` with `$pool` bound to the store's pool, whichever backend it is: the body is
/// written once and compiled once per database.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.db() {
            $crate::store::sql::Db::Postgres(pg) => {
                let $pool = &pg.pool;
                $body
            }
            $crate::store::sql::Db::Sqlite(lite) => {
                let $pool = &lite.pool;
                $body
            }
        }
    };
}

/// Opens a transaction on `pool` in a task of its own, so that dropping the caller (its client
/// went away, its request timed out) cannot stop it between the `BEGIN` sent and its answer
/// read. sqlx 0.8 would leave the server inside that transaction and put the connection back
/// in the pool, where the next borrower's statements would run in it, uncommitted
/// (launchbadge/sqlx#4393; `tests/store/cancelled.rs`). A transaction begun for a dropped
/// caller is dropped in its task, which rolls it back.
pub(crate) async fn begin<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
) -> Result<sqlx::Transaction<'static, DB>, sqlx::Error> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin().await })
        .await
        .map_err(|failed| sqlx::Error::Io(std::io::Error::other(failed)))?
}
