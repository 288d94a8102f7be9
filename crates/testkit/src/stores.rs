//! A throw-away store on either database, so one test body runs against SQLite and
//! PostgreSQL alike ([`on_both_stores!`](crate::on_both_stores)).
//!
//! PostgreSQL comes from `USERSYNC_TEST_POSTGRES_URL` (a server where the user may create
//! databases; `scripts/test.sh` starts a throw-away cluster and sets it). Each store gets a
//! database of its own, so tests run in parallel; the cluster is thrown away at the end.
//! When the variable is unset, PostgreSQL tests fail with `CI` set and skip otherwise
//! ([`needed`](crate::needed)).

use std::sync::atomic::{AtomicU32, Ordering};

use usersync_store::{DatabaseUrl, MasterKey, Store};

use crate::DataDir;

/// The variable naming the PostgreSQL server the tests may create databases on.
pub const TEST_POSTGRES_URL_ENV: &str = "USERSYNC_TEST_POSTGRES_URL";

/// Which database a test's store lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Whether this backend can run here: PostgreSQL needs `USERSYNC_TEST_POSTGRES_URL`
    /// (under the rule of [`needed`](crate::needed): required in CI, skipped elsewhere).
    #[must_use]
    pub fn available(self) -> bool {
        match self {
            Self::Sqlite => true,
            Self::Postgres => crate::needed(
                "a PostgreSQL server for the store's PostgreSQL tests",
                test_server().is_some(),
                &format!(
                    "run scripts/test.sh, which starts one, or set {TEST_POSTGRES_URL_ENV} to \
                     postgres://user@host:port/postgres (a user that may create databases)"
                ),
            ),
        }
    }
}

fn test_server() -> Option<String> {
    std::env::var(TEST_POSTGRES_URL_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A fresh, empty PostgreSQL database on the test server.
///
/// # Panics
/// When `USERSYNC_TEST_POSTGRES_URL` is unset or the server refuses.
pub async fn fresh_postgres_database() -> DatabaseUrl {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = test_server().expect("USERSYNC_TEST_POSTGRES_URL is set");
    let server =
        DatabaseUrl::parse(&server).expect("USERSYNC_TEST_POSTGRES_URL is a postgres:// URL");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "usersync_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    usersync_store::database::create_database(&server, &name)
        .await
        .expect("the test PostgreSQL server creates a database")
}

/// Where a test's store lives: always a temporary data directory (SQLite's database,
/// or PostgreSQL's master key file), plus a database of its own for PostgreSQL.
#[derive(Debug)]
pub struct TestDb {
    pub dir: DataDir,
    pub postgres: Option<DatabaseUrl>,
}

impl TestDb {
    /// A new place for a store on `backend` (a fresh database for PostgreSQL).
    ///
    /// # Panics
    /// As [`fresh_postgres_database`].
    pub async fn new(backend: Backend) -> Self {
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_postgres_database().await),
        };
        Self {
            dir: DataDir::new(),
            postgres,
        }
    }

    /// Opens the store here with an explicit key.
    ///
    /// # Panics
    /// When the store does not open.
    pub async fn open_with_key(&self, key: MasterKey) -> Store {
        match &self.postgres {
            Some(url) => Store::open_postgres_with_key(url, key, Some(self.dir.path()))
                .await
                .expect("the PostgreSQL store opens"),
            None => self.dir.open_with_key(key).await,
        }
    }

    /// Opens the store here with the key from the environment or the data directory.
    ///
    /// # Panics
    /// When the store does not open.
    pub async fn open(&self) -> Store {
        Store::open_selected(self.postgres.as_ref(), self.dir.path())
            .await
            .expect("the store opens")
    }
}

/// Runs each named `async fn name(backend: Backend)` as two tests, `name::on_sqlite` and
/// `name::on_postgres` (skipped, or failed in CI, without `USERSYNC_TEST_POSTGRES_URL`).
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn on_sqlite() {
                    super::$name($crate::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn on_postgres() {
                    if $crate::Backend::Postgres.available() {
                        super::$name($crate::Backend::Postgres).await;
                    }
                }
            }
        )+
    };
}
