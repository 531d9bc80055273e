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
