//! Incremental sync (issue 17): after a full sync, a cycle reads only what changed
//! in Okta, goes through the same plan, guard and apply, and ends where a full
//! sync would; the full reconcile follows when a cycle could not see everything.

use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use usersync::engine::{Mode, RunOutcome, Want, run_sync_once, sync_cycle};
use usersync_core::OktaStatus;
use usersync_store::{RunFilter, RunStatus, RunTrigger, SyncKind};
use usersync_testkit::small_org;

use crate::helpers::{APP, World};

/// Limits high enough that random churn is never held.
pub const NO_HOLDS: &str =
    "[app.policy.limits]\nmax_destructive = 100000\nmax_destructive_percent = 100.0\n";

/// A world whose checkpoints have no margin: every change comes after the last
/// cycle started, so request counts are exact. `margin_secs` > 0 makes every cycle
/// read again what earlier ones handled (duplicates).
pub async fn world(users: usize, groups: usize, seed: u64, margin_secs: i64) -> World {
    let mut world = World::with_policy(small_org(users, groups, seed), NO_HOLDS).await;
    world.deps = world
        .deps
        .clone()
        .with_incremental_margin(chrono::Duration::seconds(margin_secs));
    world
}

pub async fn cycle(world: &World, want: Want) -> RunOutcome {
    sync_cycle(&world.deps, APP, RunTrigger::Scheduled, want)
        .await
        .expect("the cycle starts")
}

pub fn kind(outcome: &RunOutcome) -> SyncKind {
    outcome.sync.as_ref().expect("a cycle says its kind").kind
}

/// Panics unless a full sync now would change nothing: the target is where a
/// fresh full sync leaves it.
pub async fn assert_a_full_sync_changes_nothing(world: &World, context: &str) {
    let dry = run_sync_once(&world.deps, APP, RunTrigger::Manual, Mode::DryRun)
        .await
        .unwrap();
    let plan = dry.plan.expect("a plan");
    let ops: Vec<String> = plan.ops.iter().map(|p| p.op.to_string()).collect();
    assert!(
        ops.is_empty(),
        "{context}: a full sync would still do {ops:?}"
    );
}

/// An OKTA_GROUP (the groups the default policy syncs) with members.
fn okta_group_with_members(
    okta: &usersync_core::OktaSnapshot,
) -> (&usersync_core::OktaGroupId, usersync_core::Members<'_>) {
    okta.groups
        .iter()
        .filter(|g| g.kind == usersync_core::OktaGroupType::OktaGroup)
        .find_map(|g| {
            okta.memberships
                .get(&g.id)
                .filter(|m| !m.is_empty())
                .map(|m| (&g.id, m))
        })
        .expect("an Okta group with members")
}

fn okta_requests(world: &World) -> Vec<String> {
    world
        .okta
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn an_incremental_cycle_reads_only_what_changed_within_the_request_budget() {
    let world = world(100, 6, 17, 0).await;
    let first = cycle(&world, Want::Auto).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    assert_eq!(kind(&first), SyncKind::Full, "no checkpoint yet: full");

    world.okta.clear_requests();
    let idle = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&idle), SyncKind::Incremental);
    assert_eq!(idle.status, RunStatus::Succeeded, "{:?}", idle.reasons);
    assert!(idle.plan.as_ref().unwrap().is_empty());
    let requests = okta_requests(&world);
    assert!(requests.len() <= 3, "a no-change cycle sent {requests:#?}");

    // Five changes: two suspensions, a profile change, a member added, one removed.
    let okta = world.okta.snapshot();
    let active: Vec<_> = okta
        .users
        .iter()
        .filter(|u| u.status == OktaStatus::Active)
        .collect();
    world
        .okta
        .set_status(active[0].id.as_str(), OktaStatus::Suspended)
        .unwrap();
    world
        .okta
        .set_status(active[1].id.as_str(), OktaStatus::Suspended)
        .unwrap();
    world
        .okta
        .update_profile(
            active[2].id.as_str(),
            BTreeMap::from([("lastName".to_owned(), "Renamed".into())]),
        )
        .unwrap();
    let (group, members) = okta_group_with_members(&okta);
    let outsider = active[3..]
        .iter()
        .find(|u| !members.contains(&u.id))
        .expect("someone outside the group");
    world
        .okta
        .add_member(group.as_str(), outsider.id.as_str())
        .unwrap();
    let leaver = members.iter().next().unwrap();
    world
        .okta
        .remove_member(group.as_str(), leaver.as_str())
        .unwrap();

    world.okta.clear_requests();
    let changed = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&changed), SyncKind::Incremental);
    assert_eq!(
        changed.status,
        RunStatus::Succeeded,
        "{:?}",
        changed.reasons
    );
    let requests = okta_requests(&world);
    assert!(
        requests.len() <= 5 * 2 + 10,
        "{} requests for 5 changes: {requests:#?}",
        requests.len()
    );
    assert!(!changed.plan.as_ref().unwrap().is_empty());
    let jira = world.jira_users();
    assert_eq!(jira.get(&active[0].login.to_lowercase()), Some(&false));
    assert_eq!(jira.get(&active[1].login.to_lowercase()), Some(&false));
    assert_a_full_sync_changes_nothing(&world, "after five changes").await;

    // The run says what it was, in the store too.
    let run = world
        .deps
        .store
        .get_run(changed.run_id.unwrap())
        .await
        .unwrap();
    assert_eq!(run.sync_kind, Some(SyncKind::Incremental));
    assert!(run.sync_kind_reason.unwrap().contains("only what changed"));
}

#[tokio::test]
async fn a_membership_change_the_log_missed_makes_the_next_cycle_a_full_reconcile() {
    let world = world(60, 5, 23, 0).await;
    assert_eq!(kind(&cycle(&world, Want::Auto).await), SyncKind::Full);
    let okta = world.okta.snapshot();
    let (group, members) = okta_group_with_members(&okta);
    world.okta.lose_next_log_events(1);
    world
        .okta
        .remove_member(group.as_str(), members.iter().next().unwrap().as_str())
        .unwrap();

    let missed = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&missed), SyncKind::Incremental);
    assert!(
        missed
            .reasons
            .iter()
            .any(|r| r.contains("the next cycle is a full reconcile")),
        "{:?}",
        missed.reasons
    );
    let reconcile = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&reconcile), SyncKind::Full);
    assert!(
        reconcile
            .sync
            .as_ref()
            .unwrap()
            .reason
            .contains("incomplete"),
        "{:?}",
        reconcile.sync
    );
    assert_eq!(
        reconcile.status,
        RunStatus::Succeeded,
        "{:?}",
        reconcile.reasons
    );
    assert_a_full_sync_changes_nothing(&world, "after the reconcile").await;
    assert_eq!(
        kind(&cycle(&world, Want::Auto).await),
        SyncKind::Incremental
    );
}

#[tokio::test]
async fn a_deleted_user_is_departed_only_once_reading_them_by_id_finds_no_one() {
    let world = world(40, 4, 5, 0).await;
    cycle(&world, Want::Auto).await;
    let okta = world.okta.snapshot();
    let gone = okta
        .users
        .iter()
        .find(|u| u.status == OktaStatus::Active)
        .unwrap();
    world.okta.delete_user(gone.id.as_str()).unwrap();
    world.okta.clear_requests();

    let after = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&after), SyncKind::Incremental);
    assert_eq!(after.status, RunStatus::Succeeded, "{:?}", after.reasons);
    let read_by_id = format!("GET /api/v1/users/{}", gone.id);
    assert!(
        okta_requests(&world).contains(&read_by_id),
        "the departure was not confirmed by reading the user"
    );
    assert_eq!(
        world.jira_users().get(&gone.login.to_lowercase()),
        Some(&false)
    );
    assert_a_full_sync_changes_nothing(&world, "after a deletion").await;
}

#[tokio::test]
async fn a_renamed_group_a_settings_change_and_sync_full_each_make_a_full_reconcile() {
    let world = world(30, 4, 9, 0).await;
    cycle(&world, Want::Auto).await;
    assert_eq!(kind(&cycle(&world, Want::Full).await), SyncKind::Full);
    assert_eq!(
        kind(&cycle(&world, Want::Auto).await),
        SyncKind::Incremental
    );

    let group = world.okta.snapshot().groups[0].id.clone();
    world
        .okta
        .rename_group(group.as_str(), "Renamed in Okta")
        .unwrap();
    let renamed = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&renamed), SyncKind::Full);
    assert!(
        renamed
            .sync
            .as_ref()
            .unwrap()
            .reason
            .contains("changed in Okta")
    );
    assert_eq!(
        kind(&cycle(&world, Want::Auto).await),
        SyncKind::Incremental
    );

    // Any save of the app's settings.
    let store = &world.deps.store;
    let app = store.app_by_name(APP).await.unwrap();
    let toml = usersync_store::apps_to_toml(std::slice::from_ref(&app));
    let mut drafts = usersync_store::apps_from_toml(&toml).unwrap();
    drafts[0].policy.full_reconcile_hours = 48;
    store.apply_apps(drafts, "test").await.unwrap();
    let after_save = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&after_save), SyncKind::Full);
    assert!(
        after_save
            .sync
            .as_ref()
            .unwrap()
            .reason
            .contains("settings changed")
    );

    let runs = store.list_runs(&RunFilter::default(), 100).await.unwrap();
    assert!(runs.iter().all(|r| r.sync_kind.is_some()));
}

#[tokio::test]
async fn the_full_reconcile_follows_once_its_hours_have_passed() {
    let world = world(20, 3, 3, 0).await;
    cycle(&world, Want::Auto).await;
    assert_eq!(
        kind(&cycle(&world, Want::Auto).await),
        SyncKind::Incremental
    );
    let store = &world.deps.store;
    let app = store.app_by_name(APP).await.unwrap();
    let key = usersync_store::checkpoints::INCREMENTAL_STATE;
    let mut state: serde_json::Value =
        serde_json::from_str(&store.checkpoint(app.id, key).await.unwrap().unwrap()).unwrap();
    let day_ago = chrono::Utc::now() - chrono::Duration::hours(25);
    state["full_at"] = serde_json::json!(day_ago);
    store
        .set_checkpoint(app.id, key, &state.to_string())
        .await
        .unwrap();
    let due = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&due), SyncKind::Full);
    assert!(
        due.sync.as_ref().unwrap().reason.contains("every 24 hours"),
        "{:?}",
        due.sync
    );
    assert_eq!(
        kind(&cycle(&world, Want::Auto).await),
        SyncKind::Incremental
    );
}

#[tokio::test]
async fn a_user_who_only_left_a_group_is_removed_from_it_by_the_next_cycle() {
    let world = world(30, 4, 443, 0).await;
    cycle(&world, Want::Auto).await;
    let okta = world.okta.snapshot();
    let (group, members) = okta_group_with_members(&okta);
    let name = okta
        .groups
        .iter()
        .find(|g| &g.id == group)
        .unwrap()
        .name
        .clone();
    let leaver = okta
        .users
        .iter()
        .find(|u| members.contains(&u.id) && u.status == OktaStatus::Active)
        .expect("an active member");
    assert!(
        world
            .jira_members(&name)
            .contains(&leaver.login.to_lowercase())
    );
    world
        .okta
        .remove_member(group.as_str(), leaver.id.as_str())
        .unwrap();

    let after = cycle(&world, Want::Auto).await;
    assert_eq!(kind(&after), SyncKind::Incremental);
    assert_eq!(after.status, RunStatus::Succeeded, "{:?}", after.reasons);
    assert!(
        !world
            .jira_members(&name)
            .contains(&leaver.login.to_lowercase()),
        "{} is still in {name}",
        leaver.login
    );
    assert_a_full_sync_changes_nothing(&world, "after a member left").await;
}
