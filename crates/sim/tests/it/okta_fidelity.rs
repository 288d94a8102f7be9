//! Fidelity against things not written here: Okta's OpenAPI schemas (validated by
//! `openapi-schema-validator` in Python) and Okta's official Python SDK; plus the org
//! generator's determinism and size.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};
use usersync_core::snapshot::OktaStatus;
use usersync_sim::okta::{NewUser, OktaSim, OktaSimConfig, OrgSpec};

use usersync_testkit::shared_file;

use super::{Org, spec, start};

fn python_script(name: &str) -> String {
    format!("{}/tests/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Fails (never skips) with the install command when python3 or a module is missing.
fn require_python(module: &str, package: &str) {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python3 with the {module} module is needed: run `python3 -m pip install {package}` (or bash scripts/test.sh, which installs it)"
    );
}

async fn case(org: &Org, name: &str, schema: &str, path: &str) -> Value {
    let body = org.json(path).await;
    let array = body.is_array();
    json!({"name": name, "schema": schema, "array": array, "body": body})
}

#[tokio::test]
async fn responses_validate_against_okta_s_openapi_schemas() {
    require_python(
        "openapi_schema_validator",
        "openapi-schema-validator pyyaml",
    );
    let Some(spec_path) = shared_file("reference/okta/openapi/management-minimal.yaml") else {
        return;
    };
    let org = start(Some(OrgSpec {
        everyone_group: true,
        ..spec(40, 6)
    }))
    .await;
    let user = org.sim.snapshot().users[0].id.clone();
    let group = org.sim.snapshot().groups[0].id.clone();
    org.sim
        .add_user(
            NewUser::new("schema.user@example.com", "Schema", "User").attribute("department", "QA"),
        )
        .unwrap();
    org.sim.login("schema.user@example.com").unwrap();
    org.sim
        .add_member(group.as_str(), "schema.user@example.com")
        .unwrap();
    let hook = json!({"name": "h", "events": {"type": "EVENT_TYPE", "items": ["user.lifecycle.create"]},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": {"uri": "https://example.com/hook", "headers": [{"key": "X-A", "value": "b"}],
        "authScheme": {"type": "HEADER", "key": "Authorization", "value": "s"}}}});
    assert_eq!(
        org.send(Method::POST, "/api/v1/eventHooks", Some(hook))
            .await
            .status(),
        200
    );
    let mut cases = vec![
        case(&org, "list users", "User", "/api/v1/users").await,
        case(
            &org,
            "search users",
            "User",
            "/api/v1/users?search=status%20eq%20%22DEPROVISIONED%22",
        )
        .await,
        case(&org, "get user", "User", &format!("/api/v1/users/{user}")).await,
        case(
            &org,
            "user's groups",
            "Group",
            &format!("/api/v1/users/{user}/groups"),
        )
        .await,
        case(
            &org,
            "list groups with stats",
            "Group",
            "/api/v1/groups?expand=stats",
        )
        .await,
        case(
            &org,
            "get group",
            "Group",
            &format!("/api/v1/groups/{group}"),
        )
        .await,
        case(
            &org,
            "group members",
            "User",
            &format!("/api/v1/groups/{group}/users"),
        )
        .await,
        case(&org, "system log", "LogEvent", "/api/v1/logs").await,
        case(&org, "event hooks", "EventHook", "/api/v1/eventHooks").await,
    ];
    let missing = org
        .get("/api/v1/users/nobody")
        .await
        .json::<Value>()
        .await
        .unwrap();
    cases.push(json!({"name": "404", "schema": "Error", "array": false, "body": missing}));
    let mut child = Command::new("python3")
        .arg(python_script("okta_openapi_check.py"))
        .arg(&spec_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(cases).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schema violations:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all 10 cases valid"), "{stdout}");
}

#[tokio::test]
async fn okta_s_python_sdk_pages_through_users_and_groups_and_creates_a_user() {
    require_python("okta", "okta==3.4.6");
    let org = start(Some(OrgSpec {
        users: 230,
        groups: 130,
        seed: 9,
        ..OrgSpec::default()
    }))
    .await;
    let snapshot = org.sim.snapshot();
    let visible: Vec<String> = snapshot
        .users
        .iter()
        .filter(|u| u.status != OktaStatus::Deprovisioned)
        .map(|u| u.id.as_str().to_owned())
        .collect();
    let base = org.sim.base_url();
    let token = org.sim.api_token().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(python_script("okta_sdk_check.py"))
            .args([&base, &token, "50"])
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "the SDK failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(seen["users"], visible.len());
    assert_eq!(
        seen["user_ids"],
        json!(visible),
        "the SDK saw exactly the non-DEPROVISIONED users"
    );
    assert_eq!(seen["user_pages"], visible.len().div_ceil(50));
    assert_eq!(seen["groups"], 131, "130 and Everyone");
    assert_eq!(seen["group_pages"], 3);
    let first = seen["first_group"].as_str().unwrap();
    // Everyone as it was read: the user the SDK created afterwards joined it since.
    assert_eq!(seen["members"], org.sim.members_of(first).len() - 1);
    assert_eq!(seen["created_status"], "ACTIVE");
    assert_eq!(seen["created_id"], seen["fetched_id"]);
    assert_eq!(org.sim.user_count(), 231);
    let requests = org.sim.requests();
    assert!(requests.iter().any(|r| r.method == "POST"
        && r.path.starts_with("/api/v1/users?activate=true")
        && r.status == 200));
    assert!(
        requests.iter().all(|r| r.status == 200),
        "no request failed: {requests:?}"
    );
}

#[tokio::test]
async fn the_generator_is_deterministic_and_builds_a_10k_org_with_realistic_shape() {
    let spec = OrgSpec {
        users: 10_000,
        groups: 200,
        memberships_per_user: 5.0,
        seed: 77,
        ..OrgSpec::default()
    };
    let started = Instant::now();
    let a = OktaSim::start(OktaSimConfig {
        org: Some(spec.clone()),
        ..OktaSimConfig::default()
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let b = OktaSim::start(OktaSimConfig {
        org: Some(spec),
        ..OktaSimConfig::default()
    })
    .await
    .unwrap();
    let (sa, sb) = (a.snapshot(), b.snapshot());
    assert_eq!(sa, sb, "the same spec gives the same org");
    assert_eq!(
        (sa.users.len(), sa.groups.len()),
        (10_000, 201),
        "and Everyone"
    );
    let memberships = a.membership_count() - 10_000;
    assert!(
        (40_000..=60_000).contains(&memberships),
        "about 5 per user: {memberships}"
    );
    let logins: std::collections::BTreeSet<_> =
        sa.users.iter().map(|u| u.login.to_lowercase()).collect();
    assert_eq!(logins.len(), 10_000, "logins are unique");
    for status in [
        OktaStatus::Active,
        OktaStatus::Suspended,
        OktaStatus::Deprovisioned,
        OktaStatus::Staged,
    ] {
        assert!(
            sa.users.iter().any(|u| u.status == status),
            "{status:?} present"
        );
    }
    let active = sa
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active)
        .count();
    assert!(active > 8_000, "most users are active: {active}");
    let sizes: Vec<usize> = sa.memberships.iter().map(|(_, m)| m.len()).collect();
    assert!(
        sizes.contains(&0) && sizes.iter().max().unwrap() > &1_000,
        "long-tailed group sizes"
    );
    assert!(
        sa.groups
            .iter()
            .any(|g| g.kind == usersync_core::snapshot::OktaGroupType::AppGroup)
    );
    assert!(
        sa.users[0].attribute("department").is_some() && sa.users[0].attribute("email").is_some()
    );
    assert!(
        elapsed.as_secs() < 60,
        "a 10k org builds quickly even in a debug build: {elapsed:?}"
    );
    let other = OktaSim::start(OktaSimConfig {
        org: Some(OrgSpec {
            seed: 78,
            users: 50,
            ..OrgSpec::default()
        }),
        ..OktaSimConfig::default()
    })
    .await
    .unwrap();
    assert_ne!(
        other.snapshot().users[0].id,
        sa.users[0].id,
        "another seed, another org"
    );
}

#[tokio::test]
async fn paging_a_large_org_reads_every_user_exactly_once() {
    let org = start(Some(OrgSpec {
        users: 3_000,
        groups: 10,
        seed: 4,
        ..OrgSpec::default()
    }))
    .await;
    let (plain, pages) = org.all_pages("/api/v1/users").await;
    let (deprovisioned, _) = org
        .all_pages("/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22")
        .await;
    assert_eq!(plain.len() + deprovisioned.len(), 3_000);
    assert_eq!(pages, plain.len().div_ceil(200));
    assert_eq!(
        org.sim.request_count(),
        pages + deprovisioned.len().div_ceil(200).max(1)
    );
}

#[tokio::test]
async fn okta_s_python_sdk_creates_verifies_replaces_and_deletes_an_event_hook() {
    require_python("okta", "okta==3.4.6");
    let org = start(None).await;
    let base = org.sim.base_url();
    let token = org.sim.api_token().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(python_script("okta_event_hooks_check.py"))
            .args([&base, &token])
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "the SDK failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(seen["created_status"], "ACTIVE");
    assert_eq!(seen["created_verification"], "UNVERIFIED");
    assert_eq!(seen["auth_value_hidden"], true, "the secret is write-only");
    assert_eq!(seen["listed"], json!([seen["id"]]));
    assert_eq!(seen["verified"], "VERIFIED");
    assert_eq!(seen["receiver_auth"], json!(["sdk-hook-secret"]));
    assert_eq!(
        seen["replaced_items"],
        json!(["user.session.start", "user.lifecycle.suspend"])
    );
    assert_eq!(seen["deactivated_status"], "INACTIVE");
    assert!(org.sim.event_hooks().is_empty(), "deleted");
}

#[tokio::test]
async fn okta_s_python_sdk_reads_the_user_profile_schema_with_base_and_custom_attributes() {
    require_python("okta", "okta==3.4.6");
    let org = start(None).await;
    org.sim
        .add_user(
            NewUser::new("ada@example.com", "Ada", "Lovelace")
                .attribute("costCenterName", "R&D")
                .attribute("badgeNumber", 1815)
                .attribute("department", "Engineering"),
        )
        .unwrap();
    let base = org.sim.base_url();
    let token = org.sim.api_token().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(python_script("okta_schema_check.py"))
            .args([&base, &token])
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "the SDK failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(seen["name"], "user");
    assert_eq!(seen["custom"], json!(["badgeNumber", "costCenterName"]));
    assert_eq!(
        seen["custom_types"],
        json!({"badgeNumber": "integer", "costCenterName": "string"})
    );
    let base_names: Vec<&str> = seen["base"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for standard in [
        "login",
        "email",
        "firstName",
        "lastName",
        "displayName",
        "department",
    ] {
        assert!(base_names.contains(&standard), "{standard}: {base_names:?}");
    }
    assert_eq!(
        seen["required"],
        json!(["login", "firstName", "lastName", "email"])
    );
    let other = org.sim.base_url() + "/api/v1/meta/schemas/user/oty1nope";
    let status = reqwest::Client::new()
        .get(other)
        .header("Authorization", format!("SSWS {}", org.sim.api_token()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404, "only the default schema exists");
}
