//! Shared fixtures: a store on either database (or in a temporary directory) and a valid app draft.

use usersync_core::policy::SyncPolicy;
use usersync_store::{
    AppDraft, EventSettings, MasterKey, OktaCredential, OktaDraft, Schedule, SecretInput, Store,
    TargetCredential, TargetDraft,
};
use usersync_testkit::{Backend, DataDir, TestDb};

/// Secret values distinctive enough to search for in raw bytes and text.
pub const OKTA_TOKEN: &str = "00oktaSECRETtoken-6f1e2d3c4b5a";
pub const JIRA_PAT: &str = "jiraPATsecret-NDU2Nzg5MDEyMzQ1";

/// A store on `backend` (a fresh temporary directory, or a fresh PostgreSQL database) with
/// an explicit key (independent of the environment).
pub async fn temp_store(backend: Backend) -> (TestDb, Store) {
    let db = TestDb::new(backend).await;
    let store = db.open_with_key(MasterKey::generate()).await;
    (db, store)
}

/// A SQLite store in a fresh temporary directory with an explicit key, for tests about
/// the data directory's files.
pub async fn temp_sqlite_store() -> (DataDir, Store) {
    let dir = DataDir::new();
    let store = dir.open_with_key(MasterKey::generate()).await;
    (dir, store)
}

/// A valid draft: Okta API token and Jira PAT given as values.
pub fn draft(name: &str) -> AppDraft {
    AppDraft {
        name: name.to_owned(),
        okta: OktaDraft {
            url: "https://example.okta.com".into(),
            credential: OktaCredential::ApiToken {
                token: SecretInput::from_text(OKTA_TOKEN),
            },
            ca_file: None,
        },
        target: TargetDraft {
            kind: "jira".into(),
            url: "https://jira.example.com".into(),
            credential: TargetCredential::Pat {
                token: SecretInput::from_text(JIRA_PAT),
            },
            ca_file: None,
            user_server: None,
        },
        schedule: Schedule::EveryMinutes(60),
        policy: SyncPolicy::default(),
        events: EventSettings::default(),
        notify: usersync_store::NotifySettings::default(),
    }
}
