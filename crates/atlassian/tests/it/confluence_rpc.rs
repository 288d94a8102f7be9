//! The Confluence client across releases: which API each ability goes through
//! (REST where the release has it, JSON-RPC before), every JSON-RPC method it uses
//! against the emulator's 7.19 profile, the fallback when a REST endpoint answers
//! 404, and JSON-RPC refusals typed exactly as REST's.

use serde_json::Value;
use usersync_atlassian::http::AtlassianAuth;
use usersync_atlassian::{Ability, Api, Capability, Target, TargetError, UserChanges};
use usersync_sim::confluence::{ConfluenceSimConfig, RecordedRequest, SeedUser};
use usersync_sim::faults::{FaultConfig, PathFault};

use super::{client, client_with, group, new_user, sim, start, user};

const RPC: &str = "/rpc/json-rpc/confluenceservice-v2";

/// The JSON-RPC methods called, in order.
fn rpc_methods(log: &[RecordedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| r.path == RPC)
        .filter_map(|r| r.body.as_ref()?.get("method")?.as_str().map(str::to_owned))
        .collect()
}

/// The REST writes sent, as `METHOD path`.
fn rest_writes(log: &[RecordedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| r.method != "GET" && r.path != RPC)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn each_ability_goes_through_rest_from_its_release_and_json_rpc_before() {
    let rest = Some(Api::Rest);
    let rpc = Some(Api::JsonRpc);
    for (version, set_active, list, membership, update) in [
        ("7.19.0", rpc, rpc, rpc, rpc),
        ("8.5.0", rest, rest, rpc, rpc),
        ("9.2.0", rest, rest, rest, rpc),
        ("10.3.0", rest, rest, rest, rest),
    ] {
        let sim = sim(version).await;
        let caps = client(&sim).capabilities().await.unwrap();
        assert_eq!(caps.version, version);
        let via = |c| caps.via(c);
        assert_eq!(
            (
                via(Capability::SetActive),
                via(Capability::ListUsers),
                via(Capability::ManageMembership),
                via(Capability::UpdateUser)
            ),
            (set_active, list, membership, update),
            "{version}"
        );
        assert_eq!(caps.rename_user, Ability::NEVER);
        assert!(
            sim.requests()
                .iter()
                .any(|r| r.path == "/rest/api/user/current")
        );
    }
}

#[tokio::test]
async fn on_7_19_every_write_goes_through_json_rpc_and_a_full_read_sees_it() {
    let sim = sim("7.19.0").await;
    let client = client(&sim);
    let mut inactive = new_user("ivy");
    inactive.active = false;
    client.create_user(&new_user("hank")).await.unwrap();
    client.create_user(&inactive).await.unwrap();
    let changes = UserChanges {
        display_name: Some("Hank Renamed".into()),
        email: None,
    };
    client.update_user(&user("hank"), &changes).await.unwrap();
    client.create_group(&group("wiki-editors")).await.unwrap();
    client
        .add_member(&group("wiki-editors"), &user("hank"))
        .await
        .unwrap();
    client
        .add_member(&group("wiki-editors"), &user("ivy"))
        .await
        .unwrap();
    client
        .remove_member(&group("wiki-editors"), &user("ivy"))
        .await
        .unwrap();
    client.set_active(&user("hank"), false).await.unwrap();
    client.set_active(&user("hank"), true).await.unwrap();

    let hank = sim.user("hank").unwrap();
    assert_eq!(
        (hank.display_name.as_str(), hank.email.as_str()),
        ("Hank Renamed", "hank@example.com")
    );
    assert!(hank.active && !sim.user("ivy").unwrap().active);
    assert_eq!(sim.members("wiki-editors"), vec!["hank".to_owned()]);

    let snapshot = client.read_all().await.unwrap();
    let ivy = snapshot
        .users
        .iter()
        .find(|u| u.username == user("ivy"))
        .unwrap();
    assert!(!ivy.active);
    let hank = snapshot
        .users
        .iter()
        .find(|u| u.username == user("hank"))
        .unwrap();
    assert_eq!(hank.display_name, "Hank Renamed");
    assert!(hank.active && hank.key.is_some());
    assert!(snapshot.memberships[&group("wiki-editors")].contains(&user("hank")));

    client.delete_user(&user("ivy")).await.unwrap();
    client.delete_group(&group("wiki-editors")).await.unwrap();
    assert!(sim.user("ivy").is_none());
    assert!(!sim.groups().contains(&"wiki-editors".to_owned()));

    let log = sim.requests();
    assert_eq!(
        rest_writes(&log),
        Vec::<String>::new(),
        "7.19 has no REST writes"
    );
    let mut methods = rpc_methods(&log);
    methods.sort();
    methods.dedup();
    assert_eq!(
        methods,
        [
            "addGroup",
            "addUser",
            "addUserToGroup",
            "deactivateUser",
            "editUser",
            "getActiveUsers",
            "getUser",
            "reactivateUser",
            "removeGroup",
            "removeUser",
            "removeUserFromGroup"
        ]
    );
}

#[tokio::test]
async fn on_8_5_and_9_2_only_what_rest_lacks_goes_through_json_rpc_and_on_10_3_nothing_does() {
    for (version, expected) in [
        // `editUser` replaces both fields, so the current ones are read first.
        (
            "8.5.0",
            vec!["getUser", "editUser", "addGroup", "addUserToGroup"],
        ),
        ("9.2.0", vec!["getUser", "editUser"]),
        ("10.3.0", vec![]),
    ] {
        let sim = sim(version).await;
        let client = client(&sim);
        client.create_user(&new_user("jane")).await.unwrap();
        let changes = UserChanges {
            display_name: Some("Jane Changed".into()),
            email: None,
        };
        client.update_user(&user("jane"), &changes).await.unwrap();
        client.set_active(&user("jane"), false).await.unwrap();
        client.create_group(&group("team")).await.unwrap();
        client
            .add_member(&group("team"), &user("jane"))
            .await
            .unwrap();
        client.read_all().await.unwrap();

        assert_eq!(
            sim.user("jane").unwrap().display_name,
            "Jane Changed",
            "{version}"
        );
        assert_eq!(sim.members("team"), vec!["jane".to_owned()], "{version}");
        let log = sim.requests();
        assert_eq!(rpc_methods(&log), expected, "{version}");
        assert!(
            rest_writes(&log).contains(&"POST /rest/api/admin/user".to_owned()),
            "{version}: {:?}",
            rest_writes(&log)
        );
    }
}

#[tokio::test]
async fn a_rest_endpoint_answering_404_is_done_through_json_rpc_instead() {
    // "Doesn't work in 8.5.16": a release whose disable endpoint is missing.
    let sim = start(ConfluenceSimConfig {
        version: "8.5.0".into(),
        faults: FaultConfig {
            path_faults: vec![PathFault {
                path_contains: "/disable".into(),
                status: 404,
                remaining: None,
            }],
            ..FaultConfig::default()
        },
        ..ConfluenceSimConfig::default()
    })
    .await;
    sim.add_user("kim", "Kim", "kim@example.com");
    sim.add_user("lee", "Lee", "lee@example.com");
    let client = client(&sim);
    client.set_active(&user("kim"), false).await.unwrap();
    assert!(!sim.user("kim").unwrap().active);
    assert_eq!(rpc_methods(&sim.requests()), ["deactivateUser"]);
    client.set_active(&user("lee"), false).await.unwrap();
    assert!(!sim.user("lee").unwrap().active);
    let log = sim.requests();
    let rest_tries = log.iter().filter(|r| r.path.ends_with("/disable")).count();
    assert_eq!(rest_tries, 1, "the missing endpoint is remembered");
    assert_eq!(rpc_methods(&log), ["deactivateUser", "deactivateUser"]);
}

/// The variant of an error, to compare REST's and JSON-RPC's.
fn kind(result: Result<(), TargetError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => format!("{e:?}")
            .split([' ', '{', '('])
            .next()
            .unwrap()
            .to_owned(),
    }
}

#[tokio::test]
async fn json_rpc_refusals_are_the_same_typed_errors_as_rest_refusals() {
    let mut kinds: Vec<Vec<String>> = Vec::new();
    for version in ["7.19.0", "10.3.0"] {
        let sim = start(ConfluenceSimConfig {
            version: version.into(),
            ldap_users: vec![SeedUser::named("ldap.user")],
            licence_seats: Some(3),
            ..ConfluenceSimConfig::default()
        })
        .await;
        sim.add_user("lou", "Lou", "lou@example.com");
        sim.add_user("reader", "Reader", "reader@example.com");
        sim.set_password("reader", "pw-r");
        sim.set_active("reader", true);
        let admin = client(&sim);
        let reader = client_with(
            &sim,
            AtlassianAuth::Basic {
                username: "reader".into(),
                password: "pw-r".to_owned().into(),
            },
        );
        let row = vec![
            kind(admin.set_active(&user("ldap.user"), false).await),
            kind(admin.set_active(&user("ghost"), false).await),
            kind(admin.create_user(&new_user("mia")).await.map(drop)),
            kind(reader.create_group(&group("g")).await),
            kind(admin.create_user(&new_user("lou")).await.map(drop)),
            kind(admin.create_group(&group("confluence-users")).await),
            kind(admin.delete_user(&user("ghost")).await),
            kind(admin.delete_group(&group("ghosts")).await),
        ];
        assert!(sim.user("ldap.user").unwrap().active && sim.user("mia").is_none());
        kinds.push(row);
    }
    assert_eq!(
        kinds[0],
        [
            "ManagedElsewhere",
            "NotFound",
            "NoLicenceSeat",
            "Forbidden",
            "ok",
            "ok",
            "ok",
            "ok"
        ],
        "7.19 (JSON-RPC)"
    );
    assert_eq!(kinds[0], kinds[1], "10.3 (REST) types them alike");
}

#[tokio::test]
async fn json_rpc_calls_with_basic_auth_ask_for_basic_authentication() {
    let sim = sim("7.19.0").await;
    let basic = client_with(
        &sim,
        AtlassianAuth::Basic {
            username: "admin".into(),
            password: "admin".to_owned().into(),
        },
    );
    basic.create_group(&group("basic-made")).await.unwrap();
    let call = sim.requests().into_iter().find(|r| r.path == RPC).unwrap();
    assert_eq!(call.query.as_deref(), Some("os_authType=basic"));
    assert_eq!(call.authorization.as_deref(), Some("Basic"));
    let body = call.body.unwrap();
    assert_eq!(
        (body["jsonrpc"].as_str(), body["method"].as_str()),
        (Some("2.0"), Some("addGroup"))
    );
    assert!(body["id"].is_u64() && body["params"] == Value::from(vec!["basic-made"]));
}

#[tokio::test]
async fn renaming_is_refused_on_every_release_without_a_request() {
    let sim = sim("7.19.0").await;
    let client = client(&sim);
    client.capabilities().await.unwrap();
    let before = sim.request_count();
    let err = client
        .rename_user(&user("admin"), &user("root"))
        .await
        .unwrap_err();
    assert!(matches!(err, TargetError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("rename"), "{err}");
    assert_eq!(sim.request_count(), before);
}

#[tokio::test]
async fn a_missing_json_rpc_service_says_to_turn_the_remote_api_on_and_other_refusals_keep_their_message()
 {
    let sim = start(ConfluenceSimConfig {
        version: "7.19.0".into(),
        faults: FaultConfig {
            path_faults: vec![PathFault {
                path_contains: "/rpc/json-rpc/".into(),
                status: 404,
                remaining: Some(1),
            }],
            ..FaultConfig::default()
        },
        ..ConfluenceSimConfig::default()
    })
    .await;
    let client = client(&sim);
    let err = client.create_group(&group("g")).await.unwrap_err();
    assert!(matches!(err, TargetError::Unsupported { .. }), "{err}");
    assert!(
        err.to_string().contains("7.19.0") && err.to_string().contains("Remote API"),
        "{err}"
    );

    let mut nameless = new_user("nina");
    nameless.display_name = " ".into();
    let err = client.create_user(&nameless).await.unwrap_err();
    assert!(matches!(err, TargetError::Rejected { .. }), "{err}");
    assert!(err.to_string().contains("a full name"), "{err}");
}
