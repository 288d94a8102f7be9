//! Jira before 8.3 cannot deactivate through its REST API; given the application of
//! its "Jira user server" page (`target.user_server`), usersync deactivates and
//! reactivates through the Crowd usermanagement API Jira then serves, and the change
//! shows in Jira's own REST reads. Without it, the run is refused as before.

use pretty_assertions::assert_eq;
use usersync::engine::{Deps, Mode, RunOutcome, Silent, run_sync_once};
use usersync_core::OktaStatus;
use usersync_sim::jira::{JiraSim, JiraSimConfig, UserServerApp};
use usersync_sim::okta::OktaSim;
use usersync_store::{RunStatus, RunTrigger};
use usersync_testkit::{AppToml, DataDir, start_jira};

use crate::helpers::{assert_status, expected, small_org, start_okta};

const APP: &str = "jira-8.2";
const APP_PASSWORD: &str = "user-server-password-5f1c";

struct OldJira {
    okta: OktaSim,
    jira: JiraSim,
    deps: Deps,
    _dir: DataDir,
}

impl OldJira {
    async fn new() -> Self {
        let okta = start_okta(small_org()).await;
        let jira = start_jira(JiraSimConfig {
            version: "8.2.0".into(),
            user_server_app: Some(UserServerApp {
                name: "usersync".into(),
                password: APP_PASSWORD.into(),
            }),
            ..JiraSimConfig::default()
        })
        .await;
        let dir = DataDir::new();
        let app = AppToml::new(APP, &okta.base_url(), okta.api_token(), jira.base_url())
            .jira_user_server("usersync", APP_PASSWORD)
            .to_string();
        let store = dir.store_with_apps(&app, "test").await;
        let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));
        Self {
            okta,
            jira,
            deps,
            _dir: dir,
        }
    }

    async fn sync(&self) -> RunOutcome {
        run_sync_once(&self.deps, APP, RunTrigger::Manual, Mode::Apply)
            .await
            .expect("the run starts")
    }

    /// Whether Jira's REST API reads the user as active.
    async fn active_in_jira_rest(&self, username: &str) -> bool {
        let user: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/rest/api/2/user", self.jira.base_url()))
            .query(&[("username", username)])
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        user["active"]
            .as_bool()
            .expect("Jira names the user's state")
    }

    fn writes(&self) -> Vec<String> {
        self.jira
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

#[tokio::test]
async fn a_jira_8_2_given_its_user_server_application_deactivates_a_suspended_user_and_reactivates_them()
 {
    let world = OldJira::new().await;

    let first = world.sync().await;

    assert_status(&first, RunStatus::Succeeded);
    let (users, _) = expected(&world.okta.snapshot());
    for user in &users {
        assert!(
            world.jira.user(user).is_some_and(|u| u.active),
            "{user} imported and active"
        );
    }
    let snapshot = world.okta.snapshot();
    let suspended = snapshot
        .users
        .iter()
        .find(|u| u.status == OktaStatus::Active)
        .unwrap();
    let username = suspended.login.to_lowercase();
    world
        .okta
        .set_status(suspended.id.as_str(), OktaStatus::Suspended)
        .unwrap();
    world.jira.clear_requests();

    assert_status(&world.sync().await, RunStatus::Succeeded);

    assert!(
        !world.active_in_jira_rest(&username).await,
        "deactivated, as Jira's REST reads it"
    );
    assert!(
        world
            .writes()
            .iter()
            .all(|w| w.starts_with("PUT /rest/usermanagement/1/user?username=")),
        "deactivated through the user-server API: {:?}",
        world.writes()
    );

    world
        .okta
        .set_status(suspended.id.as_str(), OktaStatus::Active)
        .unwrap();
    assert_status(&world.sync().await, RunStatus::Succeeded);
    assert!(world.active_in_jira_rest(&username).await, "reactivated");
    world.jira.clear_requests();
    let again = world.sync().await;
    assert_status(&again, RunStatus::Succeeded);
    assert!(again.plan.as_ref().unwrap().is_empty(), "{:?}", again.plan);
    assert_eq!(
        world.writes(),
        Vec::<String>::new(),
        "a later sync writes nothing"
    );
}

#[tokio::test]
async fn check_says_a_jira_8_2_deactivates_via_its_user_server_api() {
    let world = OldJira::new().await;

    let report = usersync::engine::check::check(&world.deps, APP)
        .await
        .unwrap();

    assert!(report.ok, "{report:?}");
    let line = report
        .lines
        .iter()
        .find(|l| l.what.contains("deactivate"))
        .expect("a line for deactivation");
    assert!(
        line.detail
            .starts_with("supported via Jira's user-server API"),
        "{}",
        line.detail
    );
}

#[tokio::test]
async fn a_wrong_user_server_password_is_refused_naming_the_setting() {
    let okta = start_okta(small_org()).await;
    let jira = start_jira(JiraSimConfig {
        version: "8.2.0".into(),
        user_server_app: Some(UserServerApp {
            name: "usersync".into(),
            password: APP_PASSWORD.into(),
        }),
        ..JiraSimConfig::default()
    })
    .await;
    let dir = DataDir::new();
    let app = AppToml::new(APP, &okta.base_url(), okta.api_token(), jira.base_url())
        .jira_user_server("usersync", "not-the-password")
        .to_string();
    let store = dir.store_with_apps(&app, "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));

    let outcome = run_sync_once(&deps, APP, RunTrigger::Manual, Mode::Apply)
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    let reason = &outcome.reasons[0];
    assert!(reason.contains("target.user_server"), "{reason}");
    assert!(!reason.contains("not-the-password"), "{reason}");
    assert!(
        jira.requests().iter().all(|r| r.method == "GET"),
        "nothing was written"
    );
}
