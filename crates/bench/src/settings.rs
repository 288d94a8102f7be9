//! What one benchmark run looks like: the org size, the emulators' latency, Okta's
//! rate-limit buckets per size, and how each phase is run. Every number that shapes a
//! result lives here, with its default, so the report can print it.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde::{Deserialize, Serialize};
use usersync_core::OktaStatus;
use usersync_sim::okta::{Bucket, OrgSpec, RateLimits};

use crate::child::SyncJob;

/// Groups of phases that can be left out of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseSet {
    /// The full reads (always run when planning or the peer is asked for: they need it).
    Read,
    Plan,
    Peer,
    Sync,
}

impl std::fmt::Display for PhaseSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Read => "read",
            Self::Plan => "plan",
            Self::Peer => "peer",
            Self::Sync => "sync",
        })
    }
}

/// Which of the official SDK's two reads the peer phase runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerReads {
    Both,
    /// Latency only (limits off): the read the "5x faster" target compares.
    LatencyOnly,
    /// With Okta's rate limits (the SDK may use the whole bucket).
    RateLimited,
}

/// A per-window limit no read here comes near.
pub const NEVER_BINDS: u32 = 1_000_000_000;

/// The org sizes of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum Size {
    /// 10,000 users, 1,000 groups, about 100,000 memberships, Okta's real Workforce limits.
    #[value(name = "10k")]
    #[serde(rename = "10k")]
    TenK,
    /// 100,000 users, 10,000 groups, about 1,000,000 memberships, limits scaled up tenfold.
    #[value(name = "100k")]
    #[serde(rename = "100k")]
    HundredK,
    /// 300,000 users (the largest workforce orgs), 30,000 groups, about 3,000,000
    /// memberships, limits scaled up thirtyfold.
    #[value(name = "300k")]
    #[serde(rename = "300k")]
    ThreeHundredK,
}

impl Size {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::TenK => "10k",
            Self::HundredK => "100k",
            Self::ThreeHundredK => "300k",
        }
    }

    /// The org: `users`, a tenth as many groups, ten groups per user on average.
    #[must_use]
    pub fn org(self, seed: u64) -> OrgSpec {
        let users = match self {
            Self::TenK => 10_000,
            Self::HundredK => 100_000,
            Self::ThreeHundredK => 300_000,
        };
        OrgSpec {
            users,
            groups: users / 10,
            memberships_per_user: 10.0,
            // Mostly active, as in a real workforce org; a few of every other status.
            status_mix: vec![
                (OktaStatus::Active, 900),
                (OktaStatus::Staged, 10),
                (OktaStatus::Provisioned, 10),
                (OktaStatus::Recovery, 5),
                (OktaStatus::PasswordExpired, 10),
                (OktaStatus::LockedOut, 5),
                (OktaStatus::Suspended, 20),
                (OktaStatus::Deprovisioned, 40),
            ],
            seed,
            ..OrgSpec::default()
        }
    }

    /// How much the per-window limits are scaled up from Okta's real values.
    #[must_use]
    pub fn limit_scale(self) -> u32 {
        match self {
            Self::TenK => 1,
            Self::HundredK => 10,
            Self::ThreeHundredK => 30,
        }
    }
}

/// `usersync-bench`: usersync against the lower bound and Okta's official SDK.
#[derive(Debug, Clone, PartialEq, Parser, Serialize, Deserialize)]
#[command(name = "usersync-bench", version)]
pub struct Args {
    /// Org size.
    #[arg(long, value_enum)]
    pub size: Size,
    /// Latency the Okta emulator adds to every request, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Latency the Jira emulator adds to every request (Jira Data Center usually sits
    /// next to usersync, Okta across the internet).
    #[arg(long, default_value_t = 2)]
    pub jira_latency_ms: u64,
    /// Scale Okta's Workforce rate limits by this instead of the size's own scale
    /// (x1 at 10k, x10 at 100k, x30 at 300k); `--limit-scale 1` measures a 100k read
    /// at the real limits (a bound of about 17 minutes).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit_scale: Option<u32>,
    /// Share of each rate-limit bucket usersync may use (Okta gives each token 50%).
    #[arg(long, default_value_t = 0.5)]
    pub share: f64,
    /// Okta's org-wide limit on requests in flight.
    #[arg(long, default_value_t = 75)]
    pub okta_concurrency_limit: usize,
    /// The most requests usersync's Okta client keeps in flight. The client never
    /// exceeds its share of Okta's org concurrency limit either (37 of 75 at a 50%
    /// share), as usersync does by default.
    #[arg(long, default_value_t = 75)]
    pub client_concurrency: usize,
    /// Operations the engine applies at once (also the concurrency the write bound uses:
    /// Jira publishes no concurrency limit).
    #[arg(long, default_value_t = 8)]
    pub apply_concurrency: usize,
    /// The client's member page size (`limit` of `GET /api/v1/groups/{id}/users`), 1 to
    /// 1000; the default is the client's own. The lower bound is always computed at
    /// the largest page sizes Okta serves, whatever this is.
    #[arg(long, default_value_t = usersync_okta::PageSizes::default().group_members, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub member_page_size: u32,
    /// Stop the official-SDK script after this many seconds and project its time
    /// from the pages it managed (it reads one page at a time, so at 100k users it
    /// would need most of half an hour). Default: 900 at 10k, 120 at 100k and 300k.
    #[arg(long)]
    pub peer_deadline_secs: Option<u64>,
    /// Which of the SDK's reads the peer phase runs: at 100k each takes most of an
    /// hour unprojected (`--peer-deadline-secs 99999`), so one may be measured alone.
    #[arg(long, value_enum, default_value_t = PeerReads::Both)]
    pub peer_reads: PeerReads,
    /// Which phases to run (comma-separated): read, plan, peer, sync. The sync phases
    /// write every user, group and membership into Jira one request at a time, which at
    /// 100,000 users takes longer than the other phases together.
    #[arg(long, value_delimiter = ',', default_values_t = [PhaseSet::Read, PhaseSet::Plan, PhaseSet::Peer, PhaseSet::Sync])]
    pub phases: Vec<PhaseSet>,
    /// The Python interpreter that has the `okta` package.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Where results are written (Markdown and JSON).
    #[arg(long, default_value = "bench/results")]
    pub out: std::path::PathBuf,
    /// Seed of the generated org.
    #[arg(long, default_value_t = 8)]
    pub seed: u64,
    /// Internal: run as the emulator process (see `emulators`).
    #[arg(long, hide = true)]
    #[serde(skip)]
    pub emulators: bool,
    /// Internal: run one sync phase as a child process (see `child`).
    #[arg(long, hide = true, value_enum)]
    #[serde(skip)]
    pub sync_child: Option<SyncJob>,
    /// Internal: the store a sync child opens.
    #[arg(long, hide = true)]
    #[serde(skip)]
    pub store_dir: Option<std::path::PathBuf>,
    /// Internal: the login a single-user sync child syncs.
    #[arg(long, hide = true)]
    #[serde(skip)]
    pub login: Option<String>,
}

impl Args {
    #[must_use]
    pub fn wants(&self, phase: PhaseSet) -> bool {
        self.phases.contains(&phase)
    }

    #[must_use]
    pub fn peer_deadline(&self) -> u64 {
        self.peer_deadline_secs.unwrap_or(match self.size {
            Size::TenK => 900,
            Size::HundredK | Size::ThreeHundredK => 120,
        })
    }

    /// Requests the Okta client really keeps in flight: the cap, within the share of
    /// the org's concurrency limit.
    #[must_use]
    pub fn effective_client_concurrency(&self) -> usize {
        usersync_okta::concurrency_within_share(
            self.client_concurrency,
            self.share,
            self.okta_concurrency_limit,
        )
    }

    /// How much Okta's per-window limits are scaled up in this run.
    #[must_use]
    pub fn limit_scale(&self) -> u32 {
        self.limit_scale.unwrap_or_else(|| self.size.limit_scale())
    }

    #[must_use]
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    /// Okta's rate limits for this size: the published Workforce values, scaled.
    #[must_use]
    pub fn rate_limits(&self) -> RateLimits {
        self.rate_limits_at_scale(self.limit_scale())
    }

    /// The Workforce values times `scale`, with this run's concurrency limit.
    #[must_use]
    pub fn rate_limits_at_scale(&self, scale: u32) -> RateLimits {
        let mut limits = RateLimits {
            enabled: true,
            concurrency: self.okta_concurrency_limit,
            ..RateLimits::default()
        };
        for bucket in Bucket::ALL {
            limits = limits.with(bucket, bucket.default_limit().saturating_mul(scale));
        }
        limits
    }

    /// "Rate limits off": every bucket so large that it never binds. The emulator still
    /// answers with rate-limit headers, as Okta always does, so a polite client sees a
    /// huge limit rather than none; the concurrency limit stays.
    #[must_use]
    pub fn no_limits(&self) -> RateLimits {
        let mut limits = self.rate_limits();
        for bucket in Bucket::ALL {
            limits = limits.with(bucket, NEVER_BINDS);
        }
        limits
    }
}
