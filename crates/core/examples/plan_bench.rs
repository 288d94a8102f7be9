//! Planning benchmark (not a test): 100,000 users, 10,000 groups and 1,000,000
//! memberships, planned from scratch (first sync) and in steady state with a few
//! changes. Run in release:
//!
//! ```sh
//! cargo run --release -p usersync-core --example plan_bench [users groups memberships_per_user]
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use usersync_core::{
    CompiledPolicy, Links, OktaGroup, OktaGroupId, OktaGroupType, OktaSnapshot, OktaStatus,
    OktaUser, OktaUserId, Plan, PlanOptions, SyncPolicy, TargetConstraints, TargetSnapshot,
    UsernameRule, apply_to_snapshot, guard, plan,
};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (users, groups, per_user) = match args.as_slice() {
        [u, g, m] => (*u, *g, *m),
        _ => (100_000, 10_000, 10),
    };
    let policy = CompiledPolicy::compile(&SyncPolicy {
        username: UsernameRule {
            regex: "(.*)@.*".into(),
            replacement: "$1".into(),
        },
        ..SyncPolicy::default()
    })
    .expect("the benchmark policy compiles");
    let options = PlanOptions::full(TargetConstraints::jira(), None);
    let mut okta = build_okta(users, groups, per_user);
    let memberships: usize = okta.memberships.total();
    println!("{users} users, {groups} groups, {memberships} memberships");

    baseline(&okta);
    let empty = TargetSnapshot::default();
    let links = Links::default();
    let first = timed("first sync (empty target)", || {
        let unguarded = plan(&okta, &empty, &links, &policy, &options);
        guard(
            unguarded,
            &okta.completeness,
            &policy.policy().limits,
            &usersync_core::Spent::NOTHING,
        )
    });
    let (target, links) = apply_to_snapshot(&empty, &links, &first);

    change_some(&mut okta);
    timed("steady state (1% changed)", || {
        let unguarded = plan(&okta, &target, &links, &policy, &options);
        guard(
            unguarded,
            &okta.completeness,
            &policy.policy().limits,
            &usersync_core::Spent::NOTHING,
        )
    });
}

/// The floor: one hash lookup per membership, nothing else. Planning does about
/// four such joins per membership, so its time is best read relative to this.
fn baseline(okta: &OktaSnapshot) {
    let cpu_before = thread_cpu();
    let start = Instant::now();
    let index: std::collections::HashMap<&OktaUserId, usize> = okta
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (&u.id, i))
        .collect();
    let found: usize = okta
        .memberships
        .iter()
        .flat_map(|(_, members)| members)
        .filter_map(|id| index.get(id))
        .sum();
    let cpu = thread_cpu()
        .zip(cpu_before)
        .map(|(a, b)| a.saturating_sub(b).as_secs_f64());
    println!(
        "baseline (one lookup per membership, checksum {found}): wall {:.3} s, CPU {:.3} s",
        start.elapsed().as_secs_f64(),
        cpu.unwrap_or(f64::NAN)
    );
}

fn timed(label: &str, run: impl FnOnce() -> Plan) -> Plan {
    let rss_before = rss_bytes();
    let cpu_before = thread_cpu();
    let start = Instant::now();
    let plan = run();
    let wall = start.elapsed();
    let cpu = thread_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let cpu = cpu.map_or_else(|| "n/a".to_owned(), |c| format!("{:.3} s", c.as_secs_f64()));
    let summary = plan.summary();
    let grown = rss_bytes().zip(rss_before).map_or(f64::NAN, |(a, b)| {
        a.saturating_sub(b) as f64 / 1024.0 / 1024.0
    });
    println!(
        "{label}: {} ops ({} destructive), wall {:.3} s, CPU {cpu}, resident memory +{grown:.0} MiB \
         ({} bytes per op inline)",
        summary.total,
        summary.destructive,
        wall.as_secs_f64(),
        std::mem::size_of::<usersync_core::PlannedOp>()
    );
    plan
}

/// This process's resident memory from Linux's /proc; `None` elsewhere.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// This thread's CPU time from Linux's schedstat (nanoseconds on CPU); `None` elsewhere.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn build_okta(users: usize, groups: usize, per_user: usize) -> OktaSnapshot {
    let mut okta = OktaSnapshot::empty();
    for i in 0..users {
        let login = format!("user{i}@example.com");
        let profile = BTreeMap::from([
            ("firstName".to_owned(), format!("First{i}")),
            ("lastName".to_owned(), format!("Last{i}")),
            ("email".to_owned(), login.clone()),
        ]);
        let id = OktaUserId::parse(format!("00u{i:017}")).expect("valid id");
        okta.users.push(OktaUser {
            id,
            status: OktaStatus::Active,
            login,
            profile: profile.into(),
        });
    }
    for g in 0..groups {
        let id = OktaGroupId::parse(format!("00g{g:017}")).expect("valid id");
        okta.groups.push(OktaGroup {
            id: id.clone(),
            name: format!("group-{g}"),
            description: None,
            kind: OktaGroupType::OktaGroup,
        });
        okta.memberships.insert(id, []);
    }
    // Each user joins `per_user` groups spread evenly (a cheap deterministic scatter).
    let group_ids: Vec<OktaGroupId> = okta.groups.iter().map(|g| g.id.clone()).collect();
    let mut members: Vec<Vec<OktaUserId>> = vec![Vec::new(); group_ids.len()];
    for (i, user) in okta.users.iter().enumerate() {
        for k in 0..per_user {
            let g = (i * 7919 + k * 104_729) % groups.max(1);
            if let Some(list) = members.get_mut(g) {
                list.push(user.id.clone());
            }
        }
    }
    for (id, list) in group_ids.into_iter().zip(members) {
        okta.memberships.insert(id, list);
    }
    okta
}

/// 1% of users change display name, 0.5% are suspended, 0.1% change login, and
/// 1% of users leave one group.
fn change_some(okta: &mut OktaSnapshot) {
    for (i, user) in okta.users.iter_mut().enumerate() {
        if i % 100 == 1 {
            user.profile
                .insert("displayName".into(), format!("Renamed Person {i}"));
        }
        if i % 200 == 2 {
            user.status = OktaStatus::Suspended;
        }
        if i % 1000 == 3 {
            user.login = format!("changed{i}@example.com");
        }
    }
    let leavers: Vec<OktaUserId> = okta
        .users
        .iter()
        .step_by(100)
        .map(|u| u.id.clone())
        .collect();
    for id in leavers {
        let group = okta
            .memberships
            .iter()
            .find(|(_, members)| members.contains(&id))
            .map(|(group, _)| group.clone());
        if let Some(group) = group {
            okta.memberships.remove_member(&group, &id);
        }
    }
}
