//! The peer: `bench/peer/okta_sdk_read.py`, Okta's official Python SDK reading the
//! same emulated org with the same latency and limits, beside usersync's own read.
//!
//! The script's own clock is used (it starts after the interpreter has imported the
//! SDK), which is generous to it. When it runs past its deadline it stops starting
//! group listings, and its time is projected from the pages it fetched against the
//! pages a complete read at its page sizes needs.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::bound::{PageSizes, ReadShape};
use crate::emulators::Emulators;
use crate::protocol::Shape;
use crate::report::PeerRun;
use crate::settings::Args;

/// The page size of the SDK's pagination helper (`okta.pagination`), 200 for every listing.
pub const SDK_PAGES: PageSizes = PageSizes {
    users: 200,
    groups: 200,
    members: 200,
};

#[derive(Debug, Deserialize)]
struct ScriptOutput {
    users: u64,
    groups: u64,
    memberships: u64,
    pages: u64,
    seconds: f64,
    finished: bool,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/peer/okta_sdk_read.py")
}

/// Runs the script against the emulator; `usersync_seconds` is usersync's time for
/// the same read.
///
/// # Errors
/// When Python or the SDK is missing or the script fails.
pub async fn run(
    args: &Args,
    emulators: &mut Emulators,
    shape: &Shape,
    limits_on: bool,
    usersync_seconds: f64,
) -> anyhow::Result<PeerRun> {
    emulators.begin_phase(limits_on).await?;
    let out = tokio::process::Command::new(&args.python)
        .arg(script())
        .arg(&emulators.ready.okta_url)
        .arg(args.peer_deadline().to_string())
        .env("OKTA_API_TOKEN", &emulators.ready.okta_token)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| {
            format!(
                "running {} {} (install the SDK with `pip install okta==3.4.6`)",
                args.python,
                script().display()
            )
        })?;
    if !out.status.success() {
        bail!(
            "the official-SDK script failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let result: ScriptOutput = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "reading the script's output: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let counts = emulators.counts().await?;
    let needed =
        ReadShape::of(shape.users, shape.groups, &shape.member_counts, SDK_PAGES).requests();
    let seconds = if result.finished || result.pages == 0 {
        result.seconds
    } else {
        result.seconds * needed as f64 / result.pages as f64
    };
    Ok(PeerRun {
        label: if limits_on {
            "rate limited (SDK may use the whole bucket; usersync its share)".into()
        } else {
            "latency only (limits off)".into()
        },
        seconds,
        projected: !result.finished,
        requests: if result.finished {
            counts.okta_requests
        } else {
            needed.max(counts.okta_requests)
        },
        okta_429: counts.okta_429,
        users: result.users,
        groups: result.groups,
        memberships: result.memberships,
        usersync_seconds,
        speedup: seconds / usersync_seconds.max(f64::EPSILON),
    })
}
