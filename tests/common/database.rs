//! A fresh database for each test: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `TEST_DATABASE_URL`, dropped when the test ends.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("kurz.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                static COUNTER: AtomicU32 = AtomicU32::new(0);
                let admin = admin_url();
                let name = format!(
                    "kurz_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    nanoid::nanoid!(
                        6,
                        &"abcdefghijklmnopqrstuvwxyz0123456789"
                            .chars()
                            .collect::<Vec<_>>()
                    )
                );
                let mut connection =
                    sqlx::PgConnection::connect(&admin)
                        .await
                        .unwrap_or_else(|error| {
                            panic!(
                        "PostgreSQL is not reachable at {admin} ({error}). The PostgreSQL tests \
                         never skip: start a server, or point TEST_DATABASE_URL at one, e.g. \
                         TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
                    )
                        });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut connection)
                    .await
                    .expect("CREATE DATABASE for a test");
                let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the clean-up.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for clean-up");
            runtime.block_on(async move {
                if let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut connection)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Writes one test per backend for each listed `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::database::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::database::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Writes one test, on SQLite, for each listed `async fn(Backend)`: for behaviour that does not
/// depend on the database (input checks, auth, CSRF, limits, streams, the OpenAPI document...).
/// That both backends store and read alike is the store conformance suite's job (tests/store);
/// a second run on PostgreSQL would prove nothing more. Tests whose outcome does depend on the
/// backend use [`on_both_backends!`] instead.
#[macro_export]
macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::database::Backend::Sqlite).await
                }
            }
        )*
    };
}
