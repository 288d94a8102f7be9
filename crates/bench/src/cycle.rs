//! The incremental cycle phases (issue 17), through the engine's `sync_cycle` in a
//! fresh child process with the store the full syncs left: a cycle with no change
//! in Okta, then one after `CHANGED_USERS` profile changes and
//! `MEMBERSHIP_CHANGES` members added (each a different active user).
//!
//! Targets: at most 3 Okta requests with no change; at most changes x 2 + 10 and
//! under 3 s with changes. Bound: the three change reads at once, then the changed
//! users' reads (user by id when only the log names them, then their groups) at the
//! engine's 8 in flight, then one Jira round per 8 accounts looked up and a write round.

use std::time::Duration;

use anyhow::ensure;

use crate::bound::{Bound, chain};
use crate::child::{self, SyncJob};
use crate::emulators::Emulators;
use crate::protocol::Command;
use crate::report::{Phase, Target};
use crate::settings::Args;
use crate::sync::{StoreDir, phase_of};

/// Active users whose profile changes before the measured cycle.
pub const CHANGED_USERS: u64 = 100;
/// Active users (others) added to one more group before it.
pub const MEMBERSHIP_CHANGES: u64 = 50;
/// Okta reads and target lookups the engine keeps in flight in a cycle.
const IN_FLIGHT: u64 = 8;

/// Both cycle phases and their targets; the store holds a checkpoint from the full
/// syncs before.
///
/// # Errors
/// When a run fails or the emulators are gone.
pub async fn run(
    args: &Args,
    emulators: &mut Emulators,
    store: &StoreDir,
) -> anyhow::Result<(Vec<Phase>, Vec<Target>)> {
    let (idle, idle_target) =
        measure(args, emulators, store, "incremental cycle, no change", 0).await?;
    let changed: u64 = emulators
        .call(&Command::ChangeMany {
            users: CHANGED_USERS,
            memberships: MEMBERSHIP_CHANGES,
        })
        .await?;
    let name = format!(
        "incremental cycle, {CHANGED_USERS} changed users and {MEMBERSHIP_CHANGES} membership changes"
    );
    let (busy, busy_target) = measure(args, emulators, store, &name, changed).await?;
    Ok((vec![idle, busy], vec![idle_target, busy_target]))
}

async fn measure(
    args: &Args,
    emulators: &mut Emulators,
    store: &StoreDir,
    name: &str,
    changes: u64,
) -> anyhow::Result<(Phase, Target)> {
    emulators.begin_phase(true).await?;
    let report = child::run(args, store.path(), SyncJob::Cycle, None).await?;
    let counts = emulators.counts().await?;
    ensure!(
        report.status == usersync_store::RunStatus::Succeeded,
        "the {name} did not succeed: {}",
        report.describe()
    );
    let mut phase = phase_of(name, &report, &counts);
    let jira = Duration::from_millis(args.jira_latency_ms);
    let user_reads = counts.okta_requests.saturating_sub(3);
    phase.bound = Some(Bound::of(vec![(
        "the 3 change reads at once, the changed users' reads 8 at a time, then Jira lookups 8 at a time and a write round".into(),
        args.latency()
            + chain(user_reads.div_ceil(IN_FLIGHT), args.latency())
            + chain(counts.jira_reads.div_ceil(IN_FLIGHT), jira)
            + chain(u64::from(counts.jira_writes > 0), jira),
    )]));
    let requests = counts.okta_requests;
    let target = if changes == 0 {
        Target::new(
            format!("a cycle with no change in at most 3 Okta requests: {requests}"),
            requests <= 3,
        )
    } else {
        let most = changes * 2 + 10;
        Target::new(
            format!(
                "a cycle after {changes} changes in at most {most} Okta requests and under 3 s: {requests} requests, {:.2} s",
                report.wall_seconds
            ),
            requests <= most && report.wall_seconds < 3.0,
        )
    };
    phase.target = Some(target.clone());
    Ok((phase, target))
}
