//! What an incremental cycle learns from Okta, and where the next one continues.
//!
//! [`CycleState`] is the app's checkpoint (`incremental.state`): the moment after
//! which changes are read, when the last full reconcile happened and with which
//! settings, whether a full reconcile is due because a cycle could not see
//! everything, and the changes already handled near the checkpoint. The checkpoint
//! lies a margin (`Deps::incremental_margin`) before the cycle's start, so a clock
//! ahead of Okta's, or an event Okta makes visible late, is still read; what was
//! handled inside the margin is remembered by id and timestamp, so reading it again
//! costs nothing (and handling it twice would be harmless anyway).
//!
//! [`read_changes`] makes the three reads (users by `lastUpdated`, groups by
//! `lastUpdated`/`lastMembershipUpdated`, change events of the System Log) and
//! sorts what they found: the users to sync, a reason to reconcile everything now
//! (a group was created, renamed or deleted: its members' targets may all change),
//! and a reason the cycle is incomplete (a group's members changed with no event
//! saying whose: the log missed it, so the next cycle is a full reconcile).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use usersync_core::{OktaGroup, OktaGroupType, OktaUser, OktaUserId};
use usersync_okta::{GroupChange, LogEvent, OktaClient, UserChange};

/// The app's incremental checkpoint (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CycleState {
    /// Changes after this moment are read by the next cycle.
    pub since: DateTime<Utc>,
    /// When the last full reconcile started reading.
    pub full_at: DateTime<Utc>,
    /// The app's `updated_at` at that reconcile: settings saved since mean a full one.
    pub settings_at: DateTime<Utc>,
    /// Why the next cycle must be a full reconcile, when one must.
    #[serde(default)]
    pub full_due: Option<String>,
    #[serde(default)]
    pub seen: Seen,
}

/// What one full Okta read covered: when it began, and the changes within the
/// margin before that it already holds (`seen_before`). Travels with a shared read,
/// so every app that plans from the snapshot sets its checkpoint at the moment the
/// snapshot was read, not when the app picked it up.
#[derive(Debug, Clone)]
pub(crate) struct Covered {
    pub read_at: DateTime<Utc>,
    pub seen: Seen,
}

impl Covered {
    /// A read beginning now whose earlier changes were not read (duplicates are
    /// harmless: the next cycle reads them again).
    #[cfg(test)]
    pub(crate) fn unseen() -> Self {
        Self {
            read_at: Utc::now(),
            seen: Seen::default(),
        }
    }
}

/// Changes at or after `since` already handled (ids with Okta's timestamps).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Seen {
    pub events: BTreeMap<String, DateTime<Utc>>,
    pub users: BTreeMap<String, DateTime<Utc>>,
    pub groups: BTreeMap<String, (DateTime<Utc>, DateTime<Utc>)>,
}

impl CycleState {
    /// The checkpoint a full reconcile that started reading at `read_at` leaves.
    pub fn after_full(
        read_at: DateTime<Utc>,
        margin: chrono::Duration,
        settings_at: DateTime<Utc>,
    ) -> Self {
        Self {
            since: read_at - margin,
            full_at: read_at,
            settings_at,
            full_due: None,
            seen: Seen::default(),
        }
    }
}

/// What one cycle's reads found, sorted.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Users read by the users filter (fresh), by id.
    pub listed: BTreeMap<OktaUserId, OktaUser>,
    /// Users named by change events only: read by id before planning.
    pub named: BTreeSet<OktaUserId>,
    /// Every group whose members or profile changed since the checkpoint: the
    /// planner plans memberships only for groups in the snapshot, so a group a
    /// changed user left (and no longer reads among their groups) must be there.
    pub groups: Vec<OktaGroup>,
    /// Set when the cycle must become a full reconcile now.
    pub reconcile_now: Option<String>,
    /// Set when the log did not explain a change: the next cycle is a full reconcile.
    pub incomplete: Vec<String>,
    /// Objects Okta returned that could not be understood.
    pub unusable: Vec<String>,
    /// What to remember as handled if the cycle succeeds.
    pub seen: Seen,
    /// Okta requests the three reads took.
    pub requests: u64,
}

impl Changes {
    /// Every user the cycle plans for.
    pub fn user_ids(&self) -> BTreeSet<OktaUserId> {
        self.listed
            .keys()
            .cloned()
            .chain(self.named.iter().cloned())
            .collect()
    }
}

/// Event types that say a group itself changed: reconcile everything.
fn is_group_change(event_type: &str) -> bool {
    event_type.starts_with("group.lifecycle.") || event_type == "group.profile.update"
}

/// Which of the three reads to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    All,
    /// Before a full reconcile: a user changed inside the margin costs the next
    /// cycle two requests at most, a group a whole reconcile, so only groups and
    /// events are worth remembering (and the user listing is left to the read).
    GroupsAndEvents,
}

/// Makes the cycle's three reads and sorts them (see the module docs).
///
/// # Errors
/// Any failed read: the cycle then changes nothing and the checkpoint stays.
pub(crate) async fn read_changes(
    okta: &OktaClient,
    state: &CycleState,
    until: DateTime<Utc>,
    group_types: &[OktaGroupType],
    reads: Reads,
) -> anyhow::Result<Changes> {
    use anyhow::Context as _;
    let before = okta.stats().requests;
    // A clock set back since the checkpoint still gives a valid window.
    let until = until.max(state.since + chrono::Duration::seconds(1));
    let read_users = async {
        match reads {
            Reads::All => okta.users_updated_since(state.since).await,
            Reads::GroupsAndEvents => Ok(usersync_okta::Listing::default()),
        }
    };
    let (users, groups, events) = tokio::join!(
        read_users,
        okta.groups_changed_since(state.since, group_types),
        okta.change_events(state.since, until),
    );
    let users = users.context("reading the users updated in Okta since the checkpoint")?;
    let groups = groups.context("reading the groups changed in Okta since the checkpoint")?;
    let events = events.context("reading the System Log since the checkpoint")?;
    let mut changes = Changes {
        unusable: users.unusable.into_iter().chain(groups.unusable).collect(),
        ..Changes::default()
    };
    sort_users(state, users.items, &mut changes);
    sort_events(state, &events, &mut changes);
    sort_groups(state, groups.items, &events, &mut changes);
    changes.requests = okta.stats().requests - before;
    Ok(changes)
}

fn sort_users(state: &CycleState, users: Vec<UserChange>, changes: &mut Changes) {
    for UserChange { user, last_updated } in users {
        changes
            .seen
            .users
            .insert(user.id.as_str().to_owned(), last_updated);
        if state.seen.users.get(user.id.as_str()) == Some(&last_updated) {
            continue;
        }
        changes.listed.insert(user.id.clone(), user);
    }
}

fn sort_events(state: &CycleState, events: &[LogEvent], changes: &mut Changes) {
    for event in events {
        changes
            .seen
            .events
            .insert(event.uuid.clone(), event.published);
        if state.seen.events.contains_key(&event.uuid)
            || event
                .outcome
                .as_ref()
                .is_some_and(|o| o.result != "SUCCESS")
        {
            continue;
        }
        if is_group_change(&event.event_type) && changes.reconcile_now.is_none() {
            let group = event
                .targets_of_type("UserGroup")
                .next()
                .map_or_else(|| "a group".to_owned(), |g| format!("group {}", g.id));
            changes.reconcile_now = Some(format!(
                "{group} changed in Okta ({}): its members' groups in the target may all change",
                event.event_type
            ));
        }
        for user in event.targets_of_type("User") {
            if let Ok(id) = OktaUserId::parse(user.id.clone())
                && !changes.listed.contains_key(&id)
            {
                changes.named.insert(id);
            }
        }
    }
}

fn sort_groups(
    state: &CycleState,
    groups: Vec<GroupChange>,
    events: &[LogEvent],
    changes: &mut Changes,
) {
    let explained: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.event_type.starts_with("group.user_membership."))
        .flat_map(|e| e.targets_of_type("UserGroup").map(|t| t.id.as_str()))
        .collect();
    // Deleting a user changes their groups' members without a membership event.
    let deletions = events
        .iter()
        .any(|e| e.event_type.starts_with("user.lifecycle.delete"));
    for g in groups {
        let stamps = (g.last_updated, g.last_membership_updated);
        let id = g.group.id.as_str().to_owned();
        changes.groups.push(g.group.clone());
        changes.seen.groups.insert(id.clone(), stamps);
        if state.seen.groups.get(&id) == Some(&stamps) {
            continue;
        }
        if g.last_updated > state.since && changes.reconcile_now.is_none() {
            changes.reconcile_now = Some(format!(
                "group {:?} ({id}) was created or changed in Okta: its members' groups in the target may all change",
                g.group.name
            ));
        }
        if g.last_membership_updated > state.since && !explained.contains(id.as_str()) && !deletions
        {
            changes.incomplete.push(format!(
                "the members of group {:?} ({id}) changed at {} but the System Log names no one added or removed",
                g.group.name, g.last_membership_updated
            ));
        }
    }
}

/// What changed within the margin before a full reconcile starts reading (groups
/// and events: `Reads::GroupsAndEvents`): read
/// before it, so the read sees every such change, and remembered as handled, so the
/// first cycle after the reconcile does not handle it again (a group among them
/// would otherwise make that cycle a full reconcile too). Nothing without a margin,
/// and nothing when the reads fail (the next cycle then reads it again: harmless).
pub(crate) async fn seen_before(
    prepared: &super::run::Prepared,
    app: &usersync_store::App,
    read_at: DateTime<Utc>,
    margin: chrono::Duration,
) -> Seen {
    if margin <= chrono::Duration::zero() {
        return Seen::default();
    }
    let state = CycleState::after_full(read_at, margin, app.updated_at);
    let types = prepared.policy.okta_query().group_types;
    match read_changes(
        &prepared.conns.okta,
        &state,
        read_at,
        &types,
        Reads::GroupsAndEvents,
    )
    .await
    {
        Ok(changes) => seen_after(changes.seen, state.since),
        Err(e) => {
            tracing::info!(app = %app.name, "the changes before this full read could not be read ({e:#}); the next cycle reads them again");
            Seen::default()
        }
    }
}

/// What to remember of this cycle's reads: only what lies inside the next margin.
pub(crate) fn seen_after(mut seen: Seen, since: DateTime<Utc>) -> Seen {
    seen.users.retain(|_, t| *t > since);
    seen.groups.retain(|_, (a, b)| *a > since || *b > since);
    seen.events.retain(|_, t| *t >= since);
    seen
}
