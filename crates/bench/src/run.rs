//! One benchmark run, phase by phase, and the targets of issues 8 and 17 checked against it.

use std::time::Instant;

use anyhow::ensure;

use crate::emulators::Emulators;
use crate::protocol::{Command, Shape};
use crate::report::{OrgFacts, PeerRun, Phase, Results, Target};
use crate::settings::{Args, PeerReads, PhaseSet};
use crate::sys::{self, Machine};
use crate::{peer, planning, read, sync};

fn say(text: &str) {
    eprintln!("[bench] {text}");
}

fn mib(bytes: Option<u64>) -> Option<f64> {
    bytes.map(|b| b as f64 / 1024.0 / 1024.0)
}

/// Runs every phase for `args.size` and writes the results.
///
/// # Errors
/// Bad settings, an emulator that does not start, or a phase that fails.
pub async fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.share > 0.0 && args.share <= 1.0,
        "--share is {}; it must be above 0 and at most 1",
        args.share
    );
    let started = Instant::now();
    // The commit the binary was built from, read before the run (others may commit meanwhile).
    let commit = sys::commit();
    say(&format!(
        "generating the {} org in the Okta emulator",
        args.size.label()
    ));
    let mut emu = Emulators::start(args).await?;
    let shape: Shape = emu.call(&Command::Shape).await?;
    say(&format!(
        "{} users, {} groups, {} memberships (generated in {:.1} s)",
        shape.users, shape.groups, shape.memberships, emu.ready.generate_seconds
    ));
    let org = OrgFacts {
        users: shape.users,
        groups: shape.groups,
        memberships: shape.memberships,
        generate_seconds: emu.ready.generate_seconds,
    };
    let mut phases = Vec::new();
    let mut targets: Vec<Target> = Vec::new();

    say("full read with Okta's rate limits");
    let (limited, snapshot) = read::full_read(args, &mut emu, &shape, true).await?;
    // One snapshot at a time: the second read's memory is then a read's, not two.
    drop(snapshot);
    targets.push(read_target(&limited));
    phases.push(limited);
    say("full read with latency only");
    let (latency_only, snapshot) = read::full_read(args, &mut emu, &shape, false).await?;
    let latency_seconds = latency_only.wall_seconds;
    let limited_seconds = phases[0].wall_seconds;
    phases.push(latency_only);

    if args.wants(PhaseSet::Plan) {
        say("planning");
        let plans = planning::run(&snapshot, shape.users)?;
        targets.extend(plans.iter().filter_map(|p| p.target.clone()));
        phases.extend(plans);
    }
    drop(snapshot);

    let mut peers = Vec::new();
    if args.wants(PhaseSet::Peer) && args.peer_reads != PeerReads::RateLimited {
        say("official SDK, latency only");
        let p = peer::run(args, &mut emu, &shape, false, latency_seconds).await?;
        targets.push(Target::new(
            format!(
                "latency-bound read at least 5x faster than the official SDK: {:.1}x{}",
                p.speedup,
                if p.projected {
                    " (SDK time projected)"
                } else {
                    ""
                }
            ),
            p.speedup >= 5.0,
        ));
        peers.push(p);
    }
    if args.wants(PhaseSet::Peer) && args.peer_reads != PeerReads::LatencyOnly {
        say("official SDK, rate limited");
        peers.push(peer::run(args, &mut emu, &shape, true, limited_seconds).await?);
    }

    let mut sync_peak = None;
    if args.wants(PhaseSet::Sync) {
        say("first full sync, no-op sync and single-user sync through the engine");
        let (syncs, sync_targets, peak) = sync::run(args, &mut emu, &shape).await?;
        phases.extend(syncs);
        targets.extend(sync_targets);
        sync_peak = peak;
    }

    let emulator_peak = emu.peak_rss().await.ok().flatten();
    emu.stop().await;
    let peak = sys::overall_peak_rss_bytes();
    targets.extend(memory_targets(shape.users, sync_peak, peak));
    finish(
        args,
        commit,
        org,
        started,
        phases,
        peers,
        targets,
        peak,
        sync_peak,
        emulator_peak,
    )
}

/// Issue 17's memory targets: a whole 100,000-user sync (its own process) under
/// 250 MB; at 300,000 users the reads and planning (the benchmark process) and a
/// whole sync each under 1 GB. Smaller orgs have none.
fn memory_targets(users: u64, sync_peak: Option<u64>, reads_peak: Option<u64>) -> Vec<Target> {
    let mb = |bytes: u64| {
        format!(
            "{:.0} MB ({:.0} MiB)",
            bytes as f64 / 1e6,
            bytes as f64 / 1024.0 / 1024.0
        )
    };
    let (limit, label) = match users {
        0..100_000 => return Vec::new(),
        100_000..300_000 => (250_000_000, "250 MB"),
        _ => (1_000_000_000, "1 GB"),
    };
    let mut targets = Vec::new();
    if users >= 300_000 {
        targets.push(match reads_peak {
            Some(bytes) => Target::new(
                format!(
                    "peak memory of the full reads and planning of {users} users under {label}: {}",
                    mb(bytes)
                ),
                bytes < limit,
            ),
            None => Target::new("peak memory of the reads and planning: not measured", false),
        });
    }
    targets.push(match sync_peak {
        Some(bytes) => Target::new(
            format!(
                "peak memory of a whole {users}-user sync under {label}: {}",
                mb(bytes)
            ),
            bytes < limit,
        ),
        None => Target::new(
            format!(
                "peak memory of a whole {users}-user sync under {label}: not measured (sync phases not run); the reads and planning alone peaked at {:.0} MiB",
                mib(reads_peak).unwrap_or(f64::INFINITY)
            ),
            false,
        ),
    });
    targets
}

fn read_target(phase: &Phase) -> Target {
    let ratio = phase.ratio().unwrap_or(f64::INFINITY);
    let limited = phase.okta_429.unwrap_or(0);
    Target::new(
        format!(
            "rate-limited full read within 1.15x of the lower bound with no 429: {ratio:.2}x, {limited} 429s"
        ),
        ratio <= 1.15 && limited == 0,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    args: &Args,
    commit: String,
    org: OrgFacts,
    started: Instant,
    phases: Vec<Phase>,
    peers: Vec<PeerRun>,
    targets: Vec<Target>,
    peak: Option<u64>,
    sync_peak: Option<u64>,
    emulator_peak: Option<u64>,
) -> anyhow::Result<()> {
    let results = Results {
        size: args.size.label().to_owned(),
        date: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        commit,
        machine: Machine::describe(),
        settings: args.clone(),
        org,
        phases,
        peers,
        peak_rss_mib: mib(peak),
        sync_peak_rss_mib: mib(sync_peak),
        emulator_peak_rss_mib: mib(emulator_peak),
        total_seconds: started.elapsed().as_secs_f64(),
        targets,
    };
    let written = results.write(&args.out)?;
    println!("{}", results.markdown());
    for path in written {
        say(&format!("wrote {}", path.display()));
    }
    Ok(())
}
