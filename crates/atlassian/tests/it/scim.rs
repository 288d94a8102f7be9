//! Contract tests of the SCIM client against the SCIM emulator (both profiles) and
//! against `scim2-server`, a SCIM server nobody here wrote: discovery, the proof
//! that a URL is a SCIM service, paging, idempotent creates, typed SCIM errors,
//! ETags, and each Atlassian Cloud quirk.

use pretty_assertions::assert_eq;
use secrecy::SecretString;
use usersync_atlassian::http::AtlassianAuth;
use usersync_atlassian::scim::{Features, ScimClient, ScimConfig, ScimProfile};
use usersync_atlassian::{NewUser, ScimType, Target, TargetError, UserChanges};
use usersync_core::{Email, GroupName, Username};
use usersync_sim::scim::{Profile, ScimSim, ScimSimConfig};
use usersync_testkit::ScimServer;

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn group(name: &str) -> GroupName {
    GroupName::parse(name).unwrap()
}

fn new_user(name: &str, email: &str) -> NewUser {
    NewUser {
        username: user(name),
        display_name: format!("{name} Example"),
        email: Email::parse(email).unwrap(),
        active: true,
        external_id: Some(format!("00u{name}")),
    }
}

async fn sim(profile: Profile) -> ScimSim {
    ScimSim::start(ScimSimConfig {
        profile,
        ..ScimSimConfig::default()
    })
    .await
    .unwrap()
}

fn client(base: &str, token: &str, profile: ScimProfile) -> ScimClient {
    let auth = AtlassianAuth::Bearer(SecretString::from(token.to_owned()));
    ScimClient::new(ScimConfig::new(base, auth, profile)).unwrap()
}

fn client_of(sim: &ScimSim) -> ScimClient {
    let profile = if sim.base_url().contains("/directory/") {
        ScimProfile::AtlassianCloud
    } else {
        ScimProfile::Generic
    };
    client(sim.base_url(), sim.token(), profile)
}

#[tokio::test]
async fn discovery_reads_what_the_service_provider_config_advertises() {
    let generic = sim(Profile::Generic).await;
    let features = client_of(&generic).features().await.unwrap();
    assert_eq!(
        features,
        Features {
            patch: true,
            filter: true,
            etag: true,
            page_size: 200
        }
    );
    let cloud = sim(Profile::AtlassianCloud).await;
    let features = client_of(&cloud).features().await.unwrap();
    assert_eq!(
        features,
        Features {
            patch: true,
            filter: true,
            etag: false,
            page_size: 100
        }
    );
}

#[tokio::test]
async fn a_url_that_is_not_a_scim_service_is_refused_by_the_capability_check() {
    let config = usersync_sim::jira::JiraSimConfig::default();
    let pat = config.pat.clone();
    let jira = usersync_sim::jira::JiraSim::start(config).await.unwrap();
    // A Jira URL pasted with a token Jira accepts: the URL is what is wrong.
    let err = client(jira.base_url(), &pat, ScimProfile::Generic)
        .capabilities()
        .await
        .unwrap_err();
    assert!(matches!(err, TargetError::NotTheProduct { .. }), "{err}");
    assert!(err.to_string().contains("/ServiceProviderConfig"), "{err}");
}

#[tokio::test]
async fn a_wrong_token_is_unauthenticated() {
    let sim = sim(Profile::Generic).await;
    let err = client(sim.base_url(), "wrong", ScimProfile::Generic)
        .capabilities()
        .await
        .unwrap_err();
    assert!(matches!(err, TargetError::Unauthenticated { .. }), "{err}");
}

#[tokio::test]
async fn a_user_is_created_with_the_okta_id_as_external_id_and_creating_it_again_is_success() {
    let sim = sim(Profile::Generic).await;
    let c = client_of(&sim);
    let created = c
        .create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap();
    assert_eq!(created.username.as_str(), "ada");
    assert_eq!(
        sim.user("ada").unwrap().external_id.as_deref(),
        Some("00uada")
    );
    let again = client_of(&sim)
        .create_user(&new_user("ADA", "ada@example.com"))
        .await
        .unwrap();
    assert_eq!(again.username.as_str(), "ada");
    assert_eq!(sim.users().len(), 1);
}

#[tokio::test]
async fn renaming_a_user_to_a_taken_user_name_is_a_typed_uniqueness_error() {
    let sim = sim(Profile::Generic).await;
    sim.add_user("ada", "ada@example.com", true).unwrap();
    sim.add_user("bob", "bob@example.com", true).unwrap();
    let err = client_of(&sim)
        .rename_user(&user("ada"), &user("bob"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Scim {
                status: 409,
                scim_type: ScimType::Uniqueness,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_full_read_pages_by_start_index_and_sees_every_user_and_membership() {
    let sim = sim(Profile::Generic).await;
    for i in 0..450 {
        sim.add_user(
            &format!("u{i:03}"),
            &format!("u{i:03}@example.com"),
            i % 3 != 0,
        )
        .unwrap();
    }
    sim.add_group("staff", &["u001", "u449"]).unwrap();
    let snapshot = client_of(&sim).read_all().await.unwrap();
    assert_eq!(snapshot.users.len(), 450);
    assert_eq!(snapshot.users.iter().filter(|u| !u.active).count(), 150);
    let members: Vec<_> = snapshot.memberships[&group("staff")]
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect();
    assert_eq!(members, vec!["u001".to_owned(), "u449".to_owned()]);
    let starts: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.target.contains("/Users?"))
        .map(|r| {
            r.target
                .split("startIndex=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(starts, vec!["1", "201", "401"]);
}

#[tokio::test]
async fn a_stale_etag_is_answered_412_and_the_write_is_retried_with_the_fresh_version() {
    let sim = sim(Profile::Generic).await;
    sim.add_user("ada", "ada@example.com", true).unwrap();
    let c = client_of(&sim);
    c.read_all().await.unwrap(); // remembers version 1
    // Someone else changes ada: her version moves on.
    client_of(&sim)
        .update_user(
            &user("ada"),
            &UserChanges {
                display_name: Some("Ada L".into()),
                email: None,
            },
        )
        .await
        .unwrap();
    sim.clear_requests();
    c.set_active(&user("ada"), false).await.unwrap();
    assert!(!sim.user("ada").unwrap().active);
    let statuses: Vec<(String, u16)> = sim
        .requests()
        .into_iter()
        .map(|r| (r.method, r.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("PATCH".into(), 412),
            ("GET".into(), 200),
            ("PATCH".into(), 200)
        ]
    );
}

#[tokio::test]
async fn membership_is_changed_with_group_patch_by_user_id() {
    let sim = sim(Profile::Generic).await;
    sim.add_user("ada", "ada@example.com", true).unwrap();
    let c = client_of(&sim);
    c.create_group(&group("devs")).await.unwrap();
    c.add_member(&group("devs"), &user("ada")).await.unwrap();
    c.add_member(&group("devs"), &user("ada")).await.unwrap();
    assert_eq!(sim.members("devs").unwrap(), vec!["ada".to_owned()]);
    assert_eq!(
        c.user_groups(&user("ada")).await.unwrap(),
        vec![group("devs")]
    );
    c.remove_member(&group("devs"), &user("ada")).await.unwrap();
    assert_eq!(sim.members("devs").unwrap(), Vec::<String>::new());
    c.delete_group(&group("devs")).await.unwrap();
    assert!(sim.groups().is_empty());
}

#[tokio::test]
async fn atlassian_cloud_refuses_an_unverified_email_domain_with_a_typed_error() {
    let sim = sim(Profile::AtlassianCloud).await;
    let err = client_of(&sim)
        .create_user(&new_user("eve", "eve@elsewhere.test"))
        .await
        .unwrap_err();
    match &err {
        TargetError::UnverifiedDomain { email, domain } => {
            assert_eq!(
                (email.as_str(), domain.as_str()),
                ("eve@elsewhere.test", "elsewhere.test")
            );
        }
        other => panic!("expected UnverifiedDomain, got {other}"),
    }
    assert!(err.to_string().contains("verify the domain"), "{err}");
}

#[tokio::test]
async fn atlassian_cloud_is_read_in_pages_of_at_most_100() {
    let sim = sim(Profile::AtlassianCloud).await;
    for i in 0..230 {
        sim.add_user(
            &format!("u{i:03}@example.com"),
            &format!("u{i:03}@example.com"),
            true,
        )
        .unwrap();
    }
    assert_eq!(client_of(&sim).read_all().await.unwrap().users.len(), 230);
    let lists: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.target.contains("/Users?"))
        .collect();
    assert_eq!(lists.len(), 3);
    assert!(
        lists
            .iter()
            .all(|r| r.target.contains("count=100") && r.status == 200),
        "{lists:?}"
    );
}

#[tokio::test]
async fn atlassian_cloud_user_deletion_removes_the_record_and_deactivates_the_account() {
    let sim = sim(Profile::AtlassianCloud).await;
    sim.add_user("ada@example.com", "ada@example.com", true)
        .unwrap();
    let c = client_of(&sim);
    c.delete_user(&user("ada@example.com")).await.unwrap();
    assert!(sim.users().is_empty());
    assert_eq!(
        sim.deactivated_accounts(),
        vec!["ada@example.com".to_owned()]
    );
    c.delete_user(&user("ada@example.com")).await.unwrap(); // gone already: success
}

#[tokio::test]
async fn atlassian_cloud_lookups_filter_only_on_attributes_it_allows() {
    let sim = sim(Profile::AtlassianCloud).await;
    sim.add_user("ada@example.com", "ada@example.com", true)
        .unwrap();
    sim.add_group("devs", &[]).unwrap();
    let c = client_of(&sim);
    assert!(
        c.find_user(&user("ada@example.com"))
            .await
            .unwrap()
            .is_some()
    );
    c.add_member(&group("devs"), &user("ada@example.com"))
        .await
        .unwrap();
    let filters: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.target.contains("filter="))
        .map(|r| r.target)
        .collect();
    assert!(
        filters.iter().any(|f| f.contains("userName"))
            && filters.iter().any(|f| f.contains("displayName")),
        "{filters:?}"
    );
    assert!(
        sim.requests().iter().all(|r| r.status < 400),
        "{:?}",
        sim.requests()
    );
}

#[test]
fn scim_types_are_read_from_their_rfc_names() {
    assert_eq!(
        ScimType::parse(Some("invalidFilter")),
        ScimType::InvalidFilter
    );
    assert_eq!(ScimType::parse(Some("tooMany")), ScimType::TooMany);
    assert_eq!(ScimType::parse(Some("mutability")), ScimType::Mutability);
    assert_eq!(ScimType::parse(None), ScimType::Unspecified);
    assert_eq!(
        ScimType::parse(Some("weird")),
        ScimType::Other("weird".into())
    );
}

#[tokio::test]
async fn scim2_server_answers_the_client_contract() {
    let Some(server) = ScimServer::start() else {
        return;
    };
    let c = client(server.base_url(), server.token(), ScimProfile::Generic);
    let caps = c.capabilities().await.unwrap();
    assert!(caps.version.starts_with("SCIM 2.0"), "{}", caps.version);
    c.create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap();
    c.create_user(&new_user("ada", "ada@example.com"))
        .await
        .unwrap();
    c.create_user(&new_user("bob", "bob@example.com"))
        .await
        .unwrap();
    let err = c.rename_user(&user("ada"), &user("bob")).await.unwrap_err();
    assert!(
        matches!(
            err,
            TargetError::Scim {
                status: 409,
                scim_type: ScimType::Uniqueness,
                ..
            }
        ),
        "{err}"
    );
    c.create_group(&group("devs")).await.unwrap();
    c.add_member(&group("devs"), &user("ada")).await.unwrap();
    c.set_active(&user("ada"), false).await.unwrap();
    let fresh = client(server.base_url(), server.token(), ScimProfile::Generic);
    let snapshot = fresh.read_all().await.unwrap();
    let ada = snapshot
        .users
        .iter()
        .find(|u| u.username.as_str() == "ada")
        .unwrap();
    assert!(!ada.active);
    assert_eq!(snapshot.memberships[&group("devs")].len(), 1);
    fresh
        .remove_member(&group("devs"), &user("ada"))
        .await
        .unwrap();
    fresh.delete_user(&user("bob")).await.unwrap();
    let snapshot = client(server.base_url(), server.token(), ScimProfile::Generic)
        .read_all()
        .await
        .unwrap();
    assert!(snapshot.memberships[&group("devs")].is_empty());
    assert_eq!(snapshot.users.len(), 1);
}

/// Adds `names` to group `devs` all at once through one client (four requests in
/// flight, as the engine's lanes do) on a service with `features`; the members after.
async fn concurrent_adds(features: usersync_sim::scim::Features, names: &[String]) -> Vec<String> {
    let sim = ScimSim::start(ScimSimConfig {
        features: Some(features),
        ..ScimSimConfig::default()
    })
    .await
    .unwrap();
    let c = client_of(&sim);
    c.create_group(&group("devs")).await.unwrap();
    for name in names {
        c.create_user(&new_user(name, &format!("{name}@example.com")))
            .await
            .unwrap();
    }
    let adds = names.iter().map(|name| {
        let (c, name) = (&c, user(name));
        async move { c.add_member(&group("devs"), &name).await }
    });
    for result in futures::future::join_all(adds).await {
        result.unwrap();
    }
    let mut members = sim.members("devs").unwrap();
    members.sort();
    members
}

#[tokio::test]
async fn members_added_to_one_group_at_once_are_all_kept_where_the_member_list_is_put_whole() {
    let names: Vec<String> = (0..24).map(|i| format!("user{i:02}")).collect();
    for etag in [false, true] {
        let features = usersync_sim::scim::Features {
            patch: false,
            etag,
            max_results: 100,
        };
        let members = concurrent_adds(features, &names).await;
        assert_eq!(
            members.len(),
            names.len(),
            "etag {etag}: a read-modify-PUT lost the adds of another: {members:?}"
        );
    }
}
