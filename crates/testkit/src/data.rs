//! A store in a temporary data directory that lives as long as the value, opened
//! as the product opens it, optionally holding apps applied from TOML.

use std::path::Path;

use tempfile::TempDir;
use usersync_store::{MasterKey, Store, apps_from_toml};

/// A temporary data directory, removed when dropped.
#[derive(Debug)]
pub struct DataDir {
    dir: TempDir,
}

impl DataDir {
    /// # Panics
    /// When no temporary directory can be made.
    #[must_use]
    pub fn new() -> Self {
        Self {
            dir: TempDir::new().expect("a temporary data directory"),
        }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Opens the store here with the master key from the environment or the directory.
    ///
    /// # Panics
    /// When the store does not open.
    pub async fn open(&self) -> Store {
        Store::open(self.path()).await.expect("the store opens")
    }

    /// Opens the store here with an explicit key (independent of the environment).
    ///
    /// # Panics
    /// When the store does not open.
    pub async fn open_with_key(&self, key: MasterKey) -> Store {
        Store::open_with_key(self.path(), key)
            .await
            .expect("the store opens")
    }

    /// Opens the store and applies the apps of `toml` as `actor`.
    ///
    /// # Panics
    /// When the store does not open or refuses the apps.
    pub async fn store_with_apps(&self, toml: &str, actor: &str) -> Store {
        let store = self.open().await;
        apply_apps(&store, toml, actor).await;
        store
    }
}

impl Default for DataDir {
    fn default() -> Self {
        Self::new()
    }
}

/// Applies the apps of `toml` to `store` as `actor`.
///
/// # Panics
/// When the TOML does not parse or the store refuses an app.
pub async fn apply_apps(store: &Store, toml: &str, actor: &str) {
    let drafts = apps_from_toml(toml).expect("the app TOML parses");
    store
        .apply_apps(drafts, actor)
        .await
        .expect("the app is valid");
}
