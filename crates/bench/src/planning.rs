//! The planning phase: `usersync_core::plan` on the snapshot the full read returned,
//! first against an empty target (the first sync, the largest plan), then against
//! the target that plan produces (steady state, nothing to do). CPU time of the
//! planning thread is the measure.

use std::time::Instant;

use anyhow::{Context as _, ensure};
use usersync_core::{
    CompiledPolicy, Links, OktaSnapshot, Plan, PlanOptions, SyncPolicy, TargetConstraints,
    TargetSnapshot, UsernameRule, apply_to_snapshot, guard, plan,
};

use crate::report::{Phase, Target};
use crate::sys;

/// The policy the benchmark plans with: the login's local part as the username.
///
/// # Errors
/// Never in practice; the policy is fixed.
pub fn policy() -> anyhow::Result<CompiledPolicy> {
    CompiledPolicy::compile(&SyncPolicy {
        username: UsernameRule {
            regex: "(.*)@.*".into(),
            replacement: "$1".into(),
        },
        ..SyncPolicy::default()
    })
    .context("compiling the benchmark policy")
}

fn timed(name: &str, run: impl FnOnce() -> Plan) -> (Phase, Plan) {
    let meter = sys::Meter::start();
    let cpu_before = sys::thread_cpu();
    let started = Instant::now();
    let plan = run();
    let wall = started.elapsed().as_secs_f64();
    let cpu = sys::thread_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before).as_secs_f64());
    let mut phase = Phase::new(name, wall);
    phase.cpu_seconds = cpu;
    let mut phase = phase.metered(&meter, None);
    let summary = plan.summary();
    phase.notes.push(format!(
        "{} ops ({} destructive), {} users skipped, guard {:?}",
        summary.total, summary.destructive, summary.skipped, plan.guard
    ));
    (phase, plan)
}

/// What the plan weighs: resident memory it added while planning, and its size as
/// the JSON text the engine records (one row per op, written in batches).
fn plan_weight(plan: &Plan, rss_before: u64) -> anyhow::Result<String> {
    let after = sys::rss_bytes().unwrap_or(0);
    let text = serde_json::to_string(plan)?.len();
    Ok(format!(
        "the plan added {:.0} MiB of resident memory; as the JSON text the engine records it is {:.0} MiB",
        after.saturating_sub(rss_before) as f64 / 1024.0 / 1024.0,
        text as f64 / 1024.0 / 1024.0
    ))
}

/// Plans the first sync and the steady state; returns both phases.
///
/// # Errors
/// When the steady-state plan is not empty (the planner would not converge).
pub fn run(okta: &OktaSnapshot, users: u64) -> anyhow::Result<Vec<Phase>> {
    let policy = policy()?;
    let options = PlanOptions::full(TargetConstraints::jira(), None);
    let empty = TargetSnapshot::default();
    let links = Links::default();
    let before = sys::rss_bytes().unwrap_or(0);
    let (mut first, plan1) = timed("planning, first sync (empty target)", || {
        let unguarded = plan(okta, &empty, &links, &policy, &options);
        guard(
            unguarded,
            &okta.completeness,
            &policy.policy().limits,
            &usersync_core::Spent::NOTHING,
        )
    });
    first.notes.push(plan_weight(&plan1, before)?);
    let (target, links) = apply_to_snapshot(&empty, &links, &plan1);
    drop(plan1);
    let (mut steady, plan2) = timed("planning, steady state (nothing changed)", || {
        let unguarded = plan(okta, &target, &links, &policy, &options);
        guard(
            unguarded,
            &okta.completeness,
            &policy.policy().limits,
            &usersync_core::Spent::NOTHING,
        )
    });
    ensure!(
        plan2.is_empty(),
        "planning again after applying the first plan still finds {} ops",
        plan2.ops.len()
    );
    // The target is for the 100,000-user org; smaller orgs are only reported.
    if users >= 100_000 {
        for phase in [&mut first, &mut steady] {
            let cpu = phase.cpu_seconds.unwrap_or(phase.wall_seconds);
            phase.target = Some(Target::new(
                format!("{}: {users} users under 1 s CPU: {cpu:.3} s", phase.name),
                cpu < 1.0,
            ));
        }
    }
    Ok(vec![first, steady])
}
