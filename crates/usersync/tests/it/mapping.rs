//! Mapping an administrator can see (issue 20), through the whole engine against the
//! emulators: explicit group-mapping rules into Jira's existing product group
//! `jira-software-users`, and display names and e-mail addresses from templates over
//! custom Okta profile attributes.

use std::collections::BTreeSet;

use pretty_assertions::assert_eq;
use serde_json::json;
use usersync::engine::{Deps, Silent};
use usersync_core::{OktaGroupType, OktaStatus, Rule};
use usersync_sim::jira::SeedUser;
use usersync_sim::okta::NewUser;
use usersync_store::RunStatus;
use usersync_testkit::{DataDir, Sims};

use crate::helpers::{APP, World, assert_status, small_org};

const PRODUCT_GROUP: &str = "jira-software-users";

/// A world whose app maps the org's first two Okta groups (by id) to `jira-software-users`.
async fn mapped_world() -> (World, [(String, String); 2]) {
    usersync::telemetry::init_for_tests();
    let sims = Sims::start(small_org()).await;
    let snapshot = sims.okta.snapshot();
    let mut groups = snapshot
        .groups
        .iter()
        .filter(|g| g.kind == OktaGroupType::OktaGroup)
        .map(|g| (g.id.as_str().to_owned(), g.name.clone()));
    let mapped = [groups.next().unwrap(), groups.next().unwrap()];
    let mut rules = String::new();
    for (id, name) in &mapped {
        rules.push_str(&format!(
            "[[app.policy.group_map]]\nokta_group_id = \"{id}\"\nokta_group_name = \"{name}\"\ntarget_group = \"{PRODUCT_GROUP}\"\n"
        ));
    }
    let app = sims.app(APP).section(&rules).to_string();
    let Sims { okta, jira } = sims;
    let dir = DataDir::new();
    let store = dir.store_with_apps(&app, "test").await;
    let deps = Deps::new(store).with_progress(std::sync::Arc::new(Silent));
    (World::from_parts(okta, jira, deps, dir), mapped)
}

/// The Jira usernames (lower-cased) of the managed members of these Okta groups.
fn managed_members(world: &World, groups: &[&str]) -> BTreeSet<String> {
    let snapshot = world.okta.snapshot();
    let jira = world.jira_users();
    let mut out = BTreeSet::new();
    for group in groups {
        for id in world.okta.members_of(group) {
            let user = snapshot.users.iter().find(|u| u.id == id).unwrap();
            let name = user.login.to_lowercase();
            if jira.contains_key(&name) {
                out.insert(name);
            }
        }
    }
    out
}

#[tokio::test]
async fn mapping_into_an_existing_product_group_converges_removes_only_what_it_added_and_survives_an_okta_rename()
 {
    let (world, [(g1, _), (g2, _)]) = mapped_world().await;
    // Someone else's member of the product group, before usersync ever ran.
    world.jira.add_user(&SeedUser::new("outsider")).unwrap();
    let before = world.jira_members(PRODUCT_GROUP);
    assert!(before.contains("outsider"));

    let first = world.sync().await;
    assert_status(&first, RunStatus::Succeeded);
    let expected = managed_members(&world, &[&g1, &g2]);
    assert!(
        expected.len() >= 2,
        "the mapped groups have members: {expected:?}"
    );
    let members = world.jira_members(PRODUCT_GROUP);
    assert_eq!(members, expected.union(&before).cloned().collect());
    let plan = first.plan.unwrap();
    let mapped_adds: Vec<_> = plan
        .ops
        .iter()
        .filter(|p| {
            p.op.to_string()
                .ends_with(&format!("to group {PRODUCT_GROUP}"))
        })
        .collect();
    assert_eq!(mapped_adds.len(), expected.len());
    assert!(
        mapped_adds
            .iter()
            .all(|p| matches!(p.rule, Rule::GroupMap { .. })),
        "every add names its rule"
    );

    let again = world.sync().await;
    assert_status(&again, RunStatus::Succeeded);
    assert!(again.plan.unwrap().is_empty(), "converged");

    // An administrator adds a managed user who is in neither mapped group by hand; a
    // mapped member leaves Okta's group; the group is renamed in Okta.
    let jira_users = world.jira_users();
    let by_hand = jira_users
        .keys()
        .find(|u| !expected.contains(*u) && !before.contains(*u))
        .expect("a managed user outside the mapped groups")
        .clone();
    world.jira.add_member(PRODUCT_GROUP, &by_hand).unwrap();
    let g2_members = managed_members(&world, &[&g2]);
    let leaver = world
        .okta
        .members_of(&g1)
        .into_iter()
        .find(|id| {
            let login = world
                .okta
                .snapshot()
                .users
                .into_iter()
                .find(|u| &u.id == id)
                .unwrap()
                .login
                .to_lowercase();
            expected.contains(&login) && !g2_members.contains(&login)
        })
        .expect("a member of only the first mapped group");
    let leaver_name = world
        .okta
        .snapshot()
        .users
        .into_iter()
        .find(|u| u.id == leaver)
        .unwrap()
        .login
        .to_lowercase();
    world.okta.remove_member(&g1, leaver.as_str()).unwrap();
    rename_okta_group(&world, &g1, "Renamed in Okta").await;

    let third = world.sync().await;
    assert_status(&third, RunStatus::Succeeded);
    let removals: Vec<String> = third
        .plan
        .unwrap()
        .ops
        .iter()
        .filter(|p| {
            p.op.to_string()
                .contains(&format!("from group {PRODUCT_GROUP}"))
        })
        .map(|p| p.op.to_string())
        .collect();
    assert_eq!(
        removals,
        [format!("remove {leaver_name} from group {PRODUCT_GROUP}")],
        "only the membership usersync added, though the group was renamed"
    );
    let after = world.jira_members(PRODUCT_GROUP);
    assert!(!after.contains(&leaver_name));
    assert!(after.contains(&by_hand), "a membership made by hand stays");
    assert!(
        after.contains("outsider"),
        "a member usersync never added stays"
    );
    assert_eq!(after.len(), members.len() - 1 + 1);

    let fourth = world.sync().await;
    assert_status(&fourth, RunStatus::Succeeded);
    assert!(
        fourth.plan.unwrap().is_empty(),
        "converged after the rename"
    );
    let explained = usersync::engine::explain_user(
        &world.deps,
        APP,
        &expected
            .iter()
            .find(|u| **u != leaver_name)
            .unwrap()
            .clone(),
    )
    .await
    .unwrap()
    .to_string();
    assert!(
        explained.contains("  Attributes: display name"),
        "{explained}"
    );
}

#[tokio::test]
async fn a_mapped_membership_removed_by_hand_is_forgotten_so_granting_it_again_by_hand_is_not_undone()
 {
    let (world, [(g1, _), (g2, _)]) = mapped_world().await;
    assert_status(&world.sync().await, RunStatus::Succeeded);
    let only_first = &managed_members(&world, &[&g1]) - &managed_members(&world, &[&g2]);
    let member = only_first
        .iter()
        .next()
        .expect("a member of the first group only")
        .clone();
    let okta_id = world
        .okta
        .snapshot()
        .users
        .into_iter()
        .find(|u| u.login.to_lowercase() == member)
        .unwrap()
        .id;

    // An administrator takes the membership usersync added away; then the user
    // leaves the mapped Okta group, and a sync sees the membership gone.
    world.jira.remove_member(PRODUCT_GROUP, &member).unwrap();
    world.okta.remove_member(&g1, okta_id.as_str()).unwrap();
    assert_status(&world.sync().await, RunStatus::Succeeded);
    // Later the administrator grants it by hand, for reasons of their own.
    world.jira.add_member(PRODUCT_GROUP, &member).unwrap();

    let next = world.sync().await;

    assert_status(&next, RunStatus::Succeeded);
    let ops: Vec<String> = next
        .plan
        .unwrap()
        .ops
        .iter()
        .map(|p| p.op.to_string())
        .collect();
    assert_eq!(
        ops,
        Vec::<String>::new(),
        "the membership is the administrator's now"
    );
    assert!(world.jira_members(PRODUCT_GROUP).contains(&member));
}

async fn rename_okta_group(world: &World, id: &str, name: &str) {
    reqwest::Client::new()
        .put(format!("{}/api/v1/groups/{id}", world.okta.base_url()))
        .header("Authorization", format!("SSWS {}", world.okta.api_token()))
        .json(&json!({ "profile": { "name": name, "description": "renamed" } }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

const TEMPLATES: &str = "[app.policy.attributes]\n\
    display_name = \"{firstName} {lastName} ({costCenterName})\"\n\
    email = \"{employeeId}@corp.example.com\"\n";

#[tokio::test]
async fn display_names_and_e_mail_come_from_templates_over_custom_profile_attributes() {
    let world = World::with_policy(small_org(), TEMPLATES).await;
    world
        .okta
        .add_user(
            NewUser::new("ada@example.com", "Ada", "Lovelace")
                .attribute("costCenterName", "R&D Berlin")
                .attribute("employeeId", "e1815"),
        )
        .unwrap();
    let outcome = world.sync().await;
    assert_status(&outcome, RunStatus::Succeeded);
    let ada = world
        .jira
        .users()
        .into_iter()
        .find(|u| u.name.eq_ignore_ascii_case("ada@example.com"))
        .expect("ada is created");
    assert_eq!(ada.display_name, "Ada Lovelace (R&D Berlin)");
    assert_eq!(ada.email, "e1815@corp.example.com");

    // A change of the custom attribute in Okta updates the display name, naming why.
    world
        .okta
        .update_profile(
            "ada@example.com",
            [("costCenterName".to_owned(), json!("Research"))].into(),
        )
        .unwrap();
    let outcome = world.sync().await;
    let ops: Vec<String> = outcome
        .plan
        .unwrap()
        .ops
        .iter()
        .filter(|p| p.op.to_string().contains("ada@example.com"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        ops,
        [
            "update user ada@example.com: display name \"Ada Lovelace (R&D Berlin)\" -> \"Ada Lovelace (Research)\" [Update Users: profile or login changed in Okta]"
        ]
    );
    let explained = usersync::engine::explain_user(&world.deps, APP, "ada@example.com")
        .await
        .unwrap()
        .to_string();
    assert!(
        explained.contains("display name \"Ada Lovelace (Research)\": from Display name attribute (Username mapping) \"{firstName} {lastName} ({costCenterName})\""),
        "{explained}"
    );

    let report = usersync::engine::check::check(&world.deps, APP)
        .await
        .unwrap();
    let line = report
        .lines
        .iter()
        .find(|l| l.what.ends_with("profile attributes"))
        .expect("the check reads the profile schema");
    assert!(line.ok, "{line:?}");
}

#[tokio::test]
async fn check_names_template_placeholders_the_orgs_profile_does_not_have() {
    let typo = TEMPLATES.replace("costCenterName", "costCentreName");
    let world = World::with_policy(small_org(), &typo).await;
    world
        .okta
        .add_user(
            NewUser::new("ada@example.com", "Ada", "Lovelace")
                .attribute("costCenterName", "R&D")
                .attribute("employeeId", "e1815")
                .status(OktaStatus::Active),
        )
        .unwrap();
    let report = usersync::engine::check::check(&world.deps, APP)
        .await
        .unwrap();
    assert!(!report.ok);
    let line = report
        .lines
        .iter()
        .find(|l| l.what.ends_with("profile attributes"))
        .unwrap();
    assert!(!line.ok);
    assert!(
        line.detail
            .contains("Display name attribute (Username mapping)")
            && line.detail.contains("has no attribute {costCentreName}"),
        "{line:?}"
    );
    assert!(!line.detail.contains("employeeId"), "{line:?}");
}

#[tokio::test]
async fn a_hostile_template_is_refused_when_the_app_is_saved_naming_the_field() {
    let sims = Sims::start(small_org()).await;
    for (template, expected) in [
        ("{firstName", "never closed"),
        ("{../../etc/passwd}", "not an Okta attribute name"),
        ("{firstName}\u{7}", "control character"),
    ] {
        let section = format!(
            "[app.policy.attributes]\ndisplay_name = {}\n",
            usersync_testkit::toml_string(template)
        );
        let app = sims.app(APP).section(&section).to_string();
        let dir = DataDir::new();
        let store = dir.open().await;
        let drafts = usersync_store::apps_from_toml(&app).unwrap();
        let err = store
            .apply_apps(drafts, "test")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("policy.attributes.display_name") && err.contains(expected),
            "{template:?}: {err}"
        );
    }
}
