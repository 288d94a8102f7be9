//! One installation the replicas share, on either database: a SQLite data directory every
//! process opens (its `master.key` in it), or a fresh PostgreSQL database of its own
//! (testkit) that each replica reaches through `USERSYNC_DATABASE_URL` from a data
//! directory of its own, all given the same master key through `USERSYNC_MASTER_KEY`,
//! as the README's "High availability" section tells operators to do.

use std::path::Path;
use std::process::Command;

use usersync_store::crypto::{MASTER_KEY_ENV, MASTER_KEY_FILE};
use usersync_store::{DATABASE_URL_ENV, MasterKey, Store};
use usersync_testkit::{Backend, TestDb};

/// The database and master key of one installation.
pub struct Installation {
    db: TestDb,
    /// PostgreSQL's master key, given to every process through `USERSYNC_MASTER_KEY`
    /// (SQLite's is the shared data directory's `master.key`).
    key: Option<String>,
}

impl Installation {
    /// A new, empty installation on `backend`, its schema in place, or `None` (with the
    /// reason printed) when PostgreSQL is not available here and CI is not set; in CI
    /// that fails the test.
    pub async fn new(backend: Backend) -> Option<Installation> {
        if !backend.available() {
            return None;
        }
        let key: [u8; 32] = rand::random();
        let installation = Installation {
            db: TestDb::new(backend).await,
            key: (backend == Backend::Postgres).then(|| hex::encode(key)),
        };
        // Migrated (and on SQLite its master.key written) before any replica starts.
        installation.store().await.close().await;
        Some(installation)
    }

    /// A SQLite installation (always available).
    pub async fn sqlite() -> Installation {
        Installation::new(Backend::Sqlite)
            .await
            .expect("SQLite is always available")
    }

    /// A fresh PostgreSQL database no store has opened yet, for the installation whose
    /// master key is `key`: where `usersync store migrate` copies one.
    pub async fn postgres_for_key(key: &str) -> Installation {
        Installation {
            db: TestDb::new(Backend::Postgres).await,
            key: Some(key.trim().to_owned()),
        }
    }

    /// The data directory: SQLite's, shared; for PostgreSQL, this process's own.
    pub fn data_dir(&self) -> &Path {
        self.db.dir.path()
    }

    /// The master key as its text: what an operator copies to every replica.
    pub fn master_key_text(&self) -> String {
        self.key.clone().unwrap_or_else(|| {
            std::fs::read_to_string(self.data_dir().join(MASTER_KEY_FILE))
                .expect("the data directory's master.key")
        })
    }

    /// The PostgreSQL URL, with the test server's password.
    pub fn database_url(&self) -> Option<String> {
        self.db.postgres.as_ref().map(with_password)
    }

    /// This process's handle on the installation's store.
    pub async fn store(&self) -> Store {
        match &self.key {
            None => self.db.dir.open().await,
            Some(key) => {
                let key = MasterKey::parse(key, "the test's key").expect("a well-formed key");
                self.db.open_with_key(key).await
            }
        }
    }

    /// The store, with the apps of `toml` applied.
    pub async fn store_with_apps(&self, toml: &str) -> Store {
        let store = self.store().await;
        usersync_testkit::apply_apps(&store, toml, "test").await;
        store
    }

    /// Points `command` (the usersync binary) at this installation: SQLite through the
    /// shared data directory; PostgreSQL through its URL and the key, with `local` as
    /// the process's own data directory.
    pub fn configure(&self, command: &mut Command, local: &Path) {
        command
            .env_remove(DATABASE_URL_ENV)
            .env_remove(MASTER_KEY_ENV);
        match (self.database_url(), &self.key) {
            (Some(url), Some(key)) => {
                command
                    .env("USERSYNC_DATA_DIR", local)
                    .env(DATABASE_URL_ENV, url)
                    .env(MASTER_KEY_ENV, key);
            }
            _ => {
                command.env("USERSYNC_DATA_DIR", self.data_dir());
            }
        }
    }

    /// The usersync binary with `args`, pointed at this installation, run to its end.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_command(args).output().expect("the binary runs")
    }

    /// The usersync binary with `args`, pointed at this installation, not yet started.
    pub fn cli_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_usersync"));
        command.args(args);
        self.configure(&mut command, &self.db.dir.path().join("cli"));
        command
    }
}

/// The URL of the test's database with the test server's password, which the URL's
/// `Display` hides: the server's URL from the environment with the database's path.
fn with_password(url: &usersync_store::DatabaseUrl) -> String {
    let shown = url::Url::parse(&url.to_string()).expect("a database URL");
    let server = std::env::var(usersync_testkit::TEST_POSTGRES_URL_ENV).expect("the test server");
    let mut full = url::Url::parse(&server).expect("the test server's URL");
    full.set_path(shown.path());
    full.to_string()
}
