//! The proof of incremental sync (issue 17): random sequences of Okta changes
//! (renames, status changes, group renames, membership churn), some of their System
//! Log events lost and every cycle reading again what earlier ones handled
//! (duplicates), synced by incremental cycles in one world and by one full sync in
//! a twin world holding the same org and the same changes. Without lost events the
//! cycles alone end with Jira exactly as the twin's full sync leaves it; with lost
//! events, the cycles followed by a reconcile do.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use usersync::engine::Want;
use usersync_core::OktaStatus;
use usersync_store::RunStatus;

use crate::helpers::World;
use crate::incremental::{assert_a_full_sync_changes_nothing, cycle, world};

/// One change in Okta; indexes pick users and groups by position (sorted by id).
#[derive(Debug, Clone)]
enum Change {
    RenameLogin(usize),
    LastName(usize, u8),
    Status(usize, OktaStatus),
    RenameGroup(usize, u8),
    Join(usize, usize),
    Leave(usize, usize),
}

#[derive(Debug, Clone)]
struct Step {
    change: Change,
    /// The change's System Log events are lost.
    lost: bool,
}

fn change() -> impl Strategy<Value = Change> {
    let status = prop_oneof![
        Just(OktaStatus::Active),
        Just(OktaStatus::Suspended),
        Just(OktaStatus::Deprovisioned),
        Just(OktaStatus::LockedOut),
    ];
    prop_oneof![
        (0..20usize).prop_map(Change::RenameLogin),
        (0..20usize, any::<u8>()).prop_map(|(u, n)| Change::LastName(u, n)),
        (0..20usize, status).prop_map(|(u, s)| Change::Status(u, s)),
        (0..4usize, any::<u8>()).prop_map(|(g, n)| Change::RenameGroup(g, n)),
        (0..4usize, 0..20usize).prop_map(|(g, u)| Change::Join(g, u)),
        (0..4usize, 0..20usize).prop_map(|(g, u)| Change::Leave(g, u)),
    ]
}

/// Rounds of changes, each followed by a cycle.
fn rounds(lose: bool) -> impl Strategy<Value = Vec<Vec<Step>>> {
    let step = (
        change(),
        proptest::bool::weighted(if lose { 0.3 } else { 0.0 }),
    )
        .prop_map(|(change, lost)| Step { change, lost });
    prop::collection::vec(prop::collection::vec(step, 1..5), 1..4)
}

/// Applies one step to a world's Okta (the same step gives the same change in twins).
fn apply(world: &World, step: &Step, round: usize) {
    let okta = &world.okta;
    let snap = okta.snapshot();
    let mut users: Vec<_> = snap.users.iter().collect();
    users.sort_by(|a, b| a.id.cmp(&b.id));
    let mut groups: Vec<_> = snap
        .groups
        .iter()
        .filter(|g| g.kind == usersync_core::OktaGroupType::OktaGroup)
        .collect();
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    let user = |i: usize| users[i % users.len()].id.as_str().to_owned();
    let group = |i: usize| groups[i % groups.len()].id.as_str().to_owned();
    if step.lost {
        okta.lose_next_log_events(1);
    }
    // Refusals (e.g. a status Okta does not allow from here) change nothing in
    // either twin, so they are ignored alike.
    let _ = match &step.change {
        Change::RenameLogin(u) => {
            let id = user(*u);
            let login = format!("renamed.{round}.{}@example.com", id.to_lowercase());
            okta.update_profile(&id, BTreeMap::from([("login".to_owned(), login.into())]))
        }
        Change::LastName(u, n) => okta.update_profile(
            &user(*u),
            BTreeMap::from([("lastName".to_owned(), format!("Name{n}").into())]),
        ),
        Change::Status(u, s) => okta.set_status(&user(*u), *s),
        Change::RenameGroup(g, n) => okta.rename_group(&group(*g), &format!("Group {n} r{round}")),
        Change::Join(g, u) => okta.add_member(&group(*g), &user(*u)),
        Change::Leave(g, u) => okta.remove_member(&group(*g), &user(*u)),
    };
    okta.lose_next_log_events(0);
}

type JiraState = (BTreeMap<String, bool>, BTreeMap<String, BTreeSet<String>>);

fn jira_state(world: &World) -> JiraState {
    let groups = world
        .jira
        .groups()
        .into_iter()
        .map(|g| (g.name.to_lowercase(), world.jira_members(&g.name)))
        .collect();
    (world.jira_users(), groups)
}

async fn check(rounds: Vec<Vec<Step>>, seed: u64, margin: i64) {
    let incremental = world(20, 4, seed, margin).await;
    let full = world(20, 4, seed, margin).await;
    for w in [&incremental, &full] {
        let first = cycle(w, Want::Full).await;
        assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reasons);
    }
    let lost = rounds.iter().flatten().any(|s| s.lost);
    for (round, steps) in rounds.iter().enumerate() {
        for step in steps {
            apply(&incremental, step, round);
            apply(&full, step, round);
        }
        let outcome = cycle(&incremental, Want::Auto).await;
        assert_eq!(
            outcome.status,
            RunStatus::Succeeded,
            "{:?}",
            outcome.reasons
        );
    }
    if lost {
        // The reconcile: the next cycle (full when a cycle saw it missed something),
        // then a full one in case none did.
        cycle(&incremental, Want::Auto).await;
        cycle(&incremental, Want::Full).await;
    }
    let twin = cycle(&full, Want::Full).await;
    assert_eq!(twin.status, RunStatus::Succeeded, "{:?}", twin.reasons);
    assert_eq!(
        jira_state(&incremental),
        jira_state(&full),
        "rounds {rounds:?}"
    );
    assert_a_full_sync_changes_nothing(&incremental, "after the cycles").await;
}

fn run(rounds: Vec<Vec<Step>>, seed: u64, margin: i64) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(check(rounds, seed, margin));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, max_shrink_iters: 20, ..ProptestConfig::default() })]

    #[test]
    fn incremental_cycles_alone_end_where_a_full_sync_does_when_no_event_is_lost(
        rounds in rounds(false), seed in 1..1000u64, margin in prop_oneof![Just(0i64), Just(3600i64)],
    ) {
        run(rounds, seed, margin);
    }

    #[test]
    fn incremental_cycles_then_a_reconcile_end_where_a_full_sync_does_when_events_are_lost(
        rounds in rounds(true), seed in 1..1000u64, margin in prop_oneof![Just(0i64), Just(3600i64)],
    ) {
        run(rounds, seed, margin);
    }
}
