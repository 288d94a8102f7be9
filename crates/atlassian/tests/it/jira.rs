//! Contract tests of the Jira client against the Jira emulator: every Target
//! operation, paging across page boundaries on each version's read path,
//! version differences, read-only directory users, dead credentials answered
//! with 200, 429 and 503 handling, and idempotent repeats.

use std::time::Duration;

use pretty_assertions::assert_eq;
use secrecy::SecretString;
use usersync_atlassian::http::{AtlassianAuth, HttpSettings};
use usersync_atlassian::jira::{JiraClient, JiraConfig};
use usersync_atlassian::{Ability, Api, Capability, NewUser, Target, TargetError, UserChanges};
use usersync_core::{Email, GroupName, Username};
use usersync_sim::faults::FaultConfig;
use usersync_sim::jira::{JiraSim, JiraSimConfig, RateLimit, SeedUser};

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

async fn sim(version: &str) -> JiraSim {
    JiraSim::start(JiraSimConfig {
        version: version.into(),
        ..JiraSimConfig::default()
    })
    .await
    .unwrap()
}

fn fast_settings() -> HttpSettings {
    HttpSettings {
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        ..HttpSettings::default()
    }
}

fn basic(sim: &JiraSim, password: &str) -> JiraClient {
    let auth = AtlassianAuth::Basic {
        username: sim.admin_username().into(),
        password: SecretString::from(password),
    };
    JiraClient::new(JiraConfig {
        http: fast_settings(),
        ..JiraConfig::new(sim.base_url(), auth)
    })
    .unwrap()
}

fn client(sim: &JiraSim) -> JiraClient {
    let auth = AtlassianAuth::Bearer(SecretString::from(sim.pat()));
    JiraClient::new(JiraConfig {
        http: fast_settings(),
        ..JiraConfig::new(sim.base_url(), auth)
    })
    .unwrap()
}

fn new_user(name: &str, active: bool) -> NewUser {
    NewUser {
        username: user(name),
        display_name: format!("{name} Example"),
        email: Email::parse(format!("{name}@example.com")).unwrap(),
        active,
    }
}

fn searches(sim: &JiraSim) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.path.contains("/user/search"))
        .count()
}

#[tokio::test]
async fn capabilities_follow_the_version_and_prove_the_credential() {
    let before_8_3 = Ability::added_in("Jira 8.3");
    for (version, set_active) in [
        ("8.2.0", before_8_3),
        ("9.12.0", Ability::REST),
        ("10.3.0", Ability::REST),
    ] {
        let sim = sim(version).await;
        let caps = basic(&sim, sim.admin_password())
            .capabilities()
            .await
            .unwrap();
        assert_eq!(caps.version, version);
        assert_eq!(caps.set_active, set_active, "{version}");
        for c in [
            Capability::ListUsers,
            Capability::RenameUser,
            Capability::ManageMembership,
        ] {
            assert_eq!(caps.via(c), Some(Api::Rest), "{c:?}");
        }
    }
}

#[tokio::test]
async fn a_dead_password_is_unauthenticated_even_when_jira_answers_200() {
    let sim = sim("9.12.0").await;
    let jira = basic(&sim, "wrong-password");
    let err = jira.capabilities().await.unwrap_err();
    assert!(
        matches!(err, TargetError::Unauthenticated { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("AUTHENTICATED_FAILED"), "{err}");
    // serverInfo answered 200 (anonymous data): the header alone told us.
    let first = &sim.requests()[0];
    assert!(
        first.path.ends_with("/serverInfo") && first.status == 200,
        "{first:?}"
    );
}

#[tokio::test]
async fn a_revoked_token_is_unauthenticated_and_a_good_one_works() {
    let sim = sim("9.12.0").await;
    let bad = JiraClient::new(JiraConfig::new(
        sim.base_url(),
        AtlassianAuth::Bearer(SecretString::from("revoked")),
    ))
    .unwrap();
    assert!(matches!(
        bad.whoami().await,
        Err(TargetError::Unauthenticated { .. })
    ));
    assert_eq!(client(&sim).whoami().await.unwrap(), user("admin"));
}

#[tokio::test]
async fn read_all_streams_2500_users_through_user_list_on_10_3() {
    let sim = sim("10.3.0").await;
    sim.add_users("user", 2500, true).unwrap();
    let snapshot = client(&sim).read_all().await.unwrap();
    assert_eq!(snapshot.users.len(), 2501);
    assert_eq!(snapshot.users.iter().filter(|u| !u.active).count(), 833);
    let lists = sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("/user/list"))
        .count();
    assert_eq!(lists, 2, "2,000 per page");
    assert_eq!(searches(&sim), 0);
}

#[tokio::test]
async fn read_all_pages_user_search_past_1000_on_9_12() {
    let sim = sim("9.12.0").await;
    sim.add_users("user", 2500, true).unwrap();
    let snapshot = client(&sim).read_all().await.unwrap();
    assert_eq!(snapshot.users.len(), 2501);
    assert!(snapshot.users.iter().all(|u| u.key.is_some()));
    assert_eq!(searches(&sim), 3, "pages of 1,000, 1,000 and 501");
}

#[tokio::test]
async fn read_all_walks_username_prefixes_where_search_is_capped() {
    // Past each version's cap (1,000 up to 8.5, 100 on 10.0-10.2), not 2,500:
    // the walk costs dozens of searches per capped prefix.
    for (version, count) in [("8.2.0", 1200), ("10.0.0", 350)] {
        let sim = sim(version).await;
        sim.add_users("user", count, true).unwrap();
        sim.add_users("zed", 3, false).unwrap();
        let snapshot = client(&sim).read_all().await.unwrap();
        assert_eq!(snapshot.users.len(), count + 4, "{version}");
        assert_eq!(
            snapshot.users.iter().filter(|u| !u.active).count(),
            count / 3,
            "{version}: inactive users too"
        );
        assert!(
            searches(&sim) > 2,
            "{version}: one capped query was not enough"
        );
    }
}

#[tokio::test]
async fn read_all_reads_groups_and_every_member_including_inactive_ones() {
    let sim = sim("9.12.0").await;
    sim.add_users("dev", 120, true).unwrap();
    sim.add_group("Developers").unwrap();
    for i in 1..=120 {
        sim.add_member("developers", &format!("dev{i:04}")).unwrap();
    }
    let snapshot = client(&sim).read_all().await.unwrap();
    let members = &snapshot.memberships[&group("developers")];
    assert_eq!(members.len(), 120);
    assert!(
        members.contains(&user("DEV0003")),
        "inactive member dev0003 read"
    );
    assert_eq!(
        snapshot.memberships[&group("jira-software-users")].len(),
        121
    );
    assert!(
        snapshot
            .groups
            .iter()
            .any(|g| g.name.as_str() == "Developers")
    );
}

#[tokio::test]
async fn create_user_sends_no_welcome_mail_by_default_and_a_repeat_is_success() {
    let sim = sim("9.12.0").await;
    let jira = client(&sim);
    let created = jira.create_user(&new_user("alice", true)).await.unwrap();
    assert!(
        created
            .key
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("JIRAUSER")
    );
    let again = jira.create_user(&new_user("Alice", true)).await.unwrap();
    assert_eq!(again.key, created.key);
    assert!(sim.notified().is_empty());
    assert_eq!(
        sim.user("alice").unwrap().application_keys,
        vec!["jira-software"]
    );
}

#[tokio::test]
async fn create_user_honours_application_keys_notification_and_inactive() {
    let sim = sim("9.12.0").await;
    let jira = JiraClient::new(JiraConfig {
        application_keys: Some(vec!["jira-servicedesk".into()]),
        notify_new_users: true,
        ..JiraConfig::new(
            sim.base_url(),
            AtlassianAuth::Bearer(SecretString::from(sim.pat())),
        )
    })
    .unwrap();
    let created = jira.create_user(&new_user("bob", false)).await.unwrap();
    assert!(!created.active);
    let stored = sim.user("bob").unwrap();
    assert!(!stored.active);
    assert_eq!(stored.application_keys, vec!["jira-servicedesk"]);
    assert_eq!(sim.notified(), vec!["bob"]);
}

#[tokio::test]
async fn update_set_active_and_rename_change_the_user_and_keep_its_key() {
    let sim = sim("9.12.0").await;
    let jira = client(&sim);
    let created = jira.create_user(&new_user("carol", true)).await.unwrap();
    let changes = UserChanges {
        display_name: Some("Carol C".into()),
        email: Some(Email::parse("carol@corp.example").unwrap()),
    };
    jira.update_user(&user("CAROL"), &changes).await.unwrap();
    jira.set_active(&user("carol"), false).await.unwrap();
    jira.set_active(&user("carol"), false).await.unwrap();
    jira.rename_user(&user("carol"), &user("carol.c"))
        .await
        .unwrap();
    let found = jira.find_user(&user("Carol.C")).await.unwrap().unwrap();
    assert_eq!(found.key, created.key);
    assert_eq!(found.display_name, "Carol C");
    assert_eq!(found.email.unwrap().as_str(), "carol@corp.example");
    assert!(!found.active);
    assert!(jira.find_user(&user("carol")).await.unwrap().is_none());
}

#[tokio::test]
async fn set_active_before_8_3_is_refused_as_unsupported_without_a_request() {
    let sim = sim("8.2.0").await;
    sim.add_user(&SeedUser::new("dave")).unwrap();
    let jira = client(&sim);
    let err = jira.set_active(&user("dave"), false).await.unwrap_err();
    assert!(matches!(err, TargetError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("8.2.0"), "{err}");
    assert!(!sim.requests().iter().any(|r| r.path.contains("/user?")));
    let created = jira.create_user(&new_user("erin", true)).await.unwrap();
    assert_eq!(
        created.key.unwrap().as_str(),
        "erin",
        "pre-8.4 keys are the username"
    );
}

#[tokio::test]
async fn groups_and_memberships_are_idempotent_and_case_insensitive() {
    let sim = sim("9.12.0").await;
    sim.add_user(&SeedUser::new("frank")).unwrap();
    let jira = client(&sim);
    for _ in 0..2 {
        jira.create_group(&group("Ops")).await.unwrap();
        jira.add_member(&group("OPS"), &user("Frank"))
            .await
            .unwrap();
    }
    assert_eq!(sim.members("ops"), vec!["frank"]);
    let groups = jira.user_groups(&user("frank")).await.unwrap();
    assert!(groups.contains(&group("ops")), "{groups:?}");
    for _ in 0..2 {
        jira.remove_member(&group("ops"), &user("frank"))
            .await
            .unwrap();
    }
    assert!(sim.members("ops").is_empty());
    for _ in 0..2 {
        jira.delete_group(&group("ops")).await.unwrap();
        jira.delete_user(&user("frank")).await.unwrap();
    }
    assert!(sim.user("frank").is_none());
    assert!(!sim.groups().iter().any(|g| g.name == "Ops"));
}

#[tokio::test]
async fn read_only_directory_users_are_refused_and_then_reported_managed_elsewhere() {
    let sim = sim("9.12.0").await;
    sim.add_ldap_user(&SeedUser::new("lucy")).unwrap();
    let jira = client(&sim);
    let err = jira.set_active(&user("lucy"), false).await.unwrap_err();
    assert!(
        matches!(err, TargetError::ManagedElsewhere { .. }),
        "{err:?}"
    );
    assert!(sim.user("lucy").unwrap().active);
    let before = sim.request_count();
    let err = jira.set_active(&user("lucy"), false).await.unwrap_err();
    assert!(
        matches!(err, TargetError::ManagedElsewhere { .. }),
        "{err:?}"
    );
    assert_eq!(
        sim.request_count(),
        before,
        "a known read-only user's attributes are refused locally"
    );
    jira.add_member(&group("jira-software-users"), &user("lucy"))
        .await
        .expect("a read-only user may join a group of a writable directory");
    assert!(
        sim.members("jira-software-users")
            .iter()
            .any(|m| m == "lucy")
    );
    let snapshot = jira.read_all().await.unwrap();
    let lucy = snapshot
        .users
        .iter()
        .find(|u| u.username == user("lucy"))
        .unwrap();
    assert!(lucy.managed_elsewhere);
}

#[tokio::test]
async fn a_rate_limited_read_waits_for_retry_after_and_completes() {
    let sim = sim("9.12.0").await;
    sim.add_users("user", 10, false).unwrap();
    sim.set_rate_limit(Some(RateLimit {
        capacity: 2,
        per_second: 20.0,
    }));
    let jira = client(&sim);
    for i in 1..=6 {
        assert!(
            jira.find_user(&user(&format!("user{i:04}")))
                .await
                .unwrap()
                .is_some()
        );
    }
    let limited = sim.requests().iter().filter(|r| r.status == 429).count();
    assert!(limited >= 1, "the limiter answered 429 at least once");
}

#[tokio::test]
async fn a_503_burst_is_retried_and_a_lasting_500_becomes_a_server_error() {
    let sim = sim("9.12.0").await;
    let jira = client(&sim);
    sim.faults().burst_503(2);
    assert_eq!(jira.whoami().await.unwrap(), user("admin"));
    assert_eq!(sim.requests().iter().filter(|r| r.status == 503).count(), 2);
    sim.faults().set(FaultConfig {
        error_rate: 1.0,
        error_status: 500,
        ..FaultConfig::default()
    });
    let err = jira.whoami().await.unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Server {
                status: 500,
                attempts: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn the_configuration_debug_output_hides_the_credential() {
    let config = JiraConfig::new(
        "https://jira.example.com",
        AtlassianAuth::Basic {
            username: "sync".into(),
            password: SecretString::from("s3cr3t-pw"),
        },
    );
    let text = format!("{config:?} {:?}", JiraClient::new(config.clone()).unwrap());
    assert!(!text.contains("s3cr3t-pw"), "{text}");
    let err = JiraClient::new(JiraConfig::new(
        "http://jira.example.com",
        AtlassianAuth::Bearer(SecretString::from("t")),
    ))
    .unwrap_err();
    assert!(err.to_string().contains("base URL"), "{err}");
}
