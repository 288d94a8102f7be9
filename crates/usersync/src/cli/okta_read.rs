//! `usersync okta-read`: read a whole Okta org and summarise it. With no Okta URL
//! it starts the built-in Okta emulator with a generated org, so anyone can see
//! the reader work (and how many requests a full read takes) with no Okta org.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::SecretString;
use serde::Serialize;
use usersync_core::{Completeness, OktaSnapshot};
use usersync_okta::{OktaAuth, OktaClient, OktaConfig, OktaStats, ReadProgress, ReadScope};

use super::output::{self, Format, Table};
use super::{Exit, Global};
use crate::engine::progress::{Phase, Progress};

/// Reads an Okta org completely and prints what is in it.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Reads every user, group and group membership of an Okta org and prints a summary: \
users by status, groups by type, memberships, the number of requests the read took, the time, \
and whether the read was complete.\n\nWithout --okta-url, usersync starts its built-in Okta \
emulator with a generated org (see --users, --groups, --seed) and reads that."
)]
pub struct Args {
    /// Base URL of the Okta org to read, e.g. https://acme.okta.com (needs --okta-token).
    #[arg(long, env = "OKTA_URL", requires = "okta_token")]
    pub okta_url: Option<String>,
    /// API token for --okta-url (sent as `SSWS <token>`).
    #[arg(long, env = "OKTA_API_TOKEN", hide_env_values = true)]
    pub okta_token: Option<String>,
    /// Users in the generated org (emulator only).
    #[arg(long, default_value_t = 2000)]
    pub users: usize,
    /// Groups in the generated org (emulator only).
    #[arg(long, default_value_t = 100)]
    pub groups: usize,
    /// Seed of the generated org; the same seed gives the same org (emulator only).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Members per page of each group's member listing (1 to 1000, the most Okta
    /// serves). Fewer requests at 1000; lower it if Okta answers large pages with 500s.
    #[arg(long, default_value_t = usersync_okta::PageSizes::default().group_members,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub member_page_size: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

/// What a full read found, in the documented JSON form of `okta-read --output json`.
#[derive(Debug, Serialize)]
pub struct ReadSummary {
    pub org: String,
    pub emulated: bool,
    pub users: usize,
    pub users_by_status: BTreeMap<String, usize>,
    pub groups: usize,
    pub groups_by_type: BTreeMap<String, usize>,
    pub memberships: usize,
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub seconds: f64,
    pub complete: bool,
    pub incomplete_reasons: Vec<String>,
}

impl ReadSummary {
    #[must_use]
    pub fn new(
        org: String,
        emulated: bool,
        snapshot: &OktaSnapshot,
        stats: &OktaStats,
        took: Duration,
    ) -> Self {
        let mut users_by_status = BTreeMap::new();
        for user in &snapshot.users {
            *users_by_status
                .entry(user.status.as_str().to_owned())
                .or_default() += 1;
        }
        let mut groups_by_type = BTreeMap::new();
        for group in &snapshot.groups {
            *groups_by_type
                .entry(group.kind.as_str().to_owned())
                .or_default() += 1;
        }
        let incomplete_reasons = match &snapshot.completeness {
            Completeness::Complete => Vec::new(),
            Completeness::Incomplete { reasons } => reasons.clone(),
        };
        Self {
            org,
            emulated,
            users: snapshot.users.len(),
            users_by_status,
            groups: snapshot.groups.len(),
            groups_by_type,
            memberships: snapshot.memberships.total(),
            requests: stats.requests,
            retries: stats.retries,
            rate_limited: stats.rate_limited,
            seconds: took.as_secs_f64(),
            complete: snapshot.completeness.is_complete(),
            incomplete_reasons,
        }
    }

    /// The summary for people.
    #[must_use]
    pub fn render(&self) -> String {
        let source = if self.emulated {
            " (built-in emulator)"
        } else {
            ""
        };
        let mut out = format!("Okta org {}{source}\n\n", self.org);
        let mut users = Table::new(["users by status", "count"]);
        for (status, n) in &self.users_by_status {
            users.row([status.clone(), n.to_string()]);
        }
        users.row(["total".to_owned(), self.users.to_string()]);
        out.push_str(&users.render());
        out.push('\n');
        let mut groups = Table::new(["groups by type", "count"]);
        for (kind, n) in &self.groups_by_type {
            groups.row([kind.clone(), n.to_string()]);
        }
        groups.row(["total".to_owned(), self.groups.to_string()]);
        out.push_str(&groups.render());
        out.push_str(&format!(
            "\nmemberships: {}\nrequests: {} ({} retries, {} rate limited)\ntime: {}\n",
            self.memberships,
            self.requests,
            self.retries,
            self.rate_limited,
            output::duration(Duration::from_secs_f64(self.seconds)),
        ));
        if self.complete {
            out.push_str("read: complete\n");
        } else {
            out.push_str("read: INCOMPLETE\n");
            for reason in &self.incomplete_reasons {
                out.push_str(&format!("  - {reason}\n"));
            }
        }
        out
    }
}

/// Runs the command.
///
/// # Errors
/// When the emulator cannot start, a setting is unusable, or the first page fails.
pub async fn run(args: Args, global: &Global) -> anyhow::Result<Exit> {
    let trust = global.trust()?;
    let (sim, url, token) = match (&args.okta_url, &args.okta_token) {
        (Some(url), Some(token)) => (None, url.clone(), token.clone()),
        _ => {
            let (sim, url, token) = start_emulator(&args).await?;
            (Some(sim), url, token)
        }
    };
    let mut config = OktaConfig {
        trust,
        ..OktaConfig::new(url, OktaAuth::ApiToken(SecretString::from(token)))
    };
    config.page_sizes.group_members = args.member_page_size;
    let client = OktaClient::new(&config)?;
    let progress = super::progress::for_stderr();
    let started = Instant::now();
    let snapshot = read_with_progress(&client, &progress).await?;
    let summary = ReadSummary::new(
        client.org_host().to_owned(),
        sim.is_some(),
        &snapshot,
        &client.stats(),
        started.elapsed(),
    );
    if let Some(sim) = sim {
        stop_emulator(sim).await;
    }
    match args.output {
        Format::Text => output::print(&summary.render()),
        Format::Json => super::json::print(&summary)?,
    }
    Ok(Exit::Ok)
}

/// The built-in emulator of a read without `--okta-url`: only builds with the `demo`
/// feature (the default) carry the emulators.
#[cfg(feature = "demo")]
type Emulator = usersync_sim::okta::OktaSim;
#[cfg(not(feature = "demo"))]
type Emulator = std::convert::Infallible;

/// Starts the emulator with the generated org; returns it, its URL and its token.
#[cfg(feature = "demo")]
async fn start_emulator(args: &Args) -> anyhow::Result<(Emulator, String, String)> {
    use usersync_sim::okta::{OktaSimConfig, OrgSpec};
    let config = OktaSimConfig {
        org: Some(OrgSpec {
            users: args.users,
            groups: args.groups,
            seed: args.seed,
            ..OrgSpec::default()
        }),
        seed: args.seed,
        ..OktaSimConfig::default()
    };
    let sim = Emulator::start(config)
        .await
        .context("starting the built-in Okta emulator")?;
    let (url, token) = (sim.base_url(), sim.api_token().to_owned());
    Ok((sim, url, token))
}

#[cfg(not(feature = "demo"))]
#[allow(clippy::unused_async)] // the same shape as the build with the emulator
async fn start_emulator(_args: &Args) -> anyhow::Result<(Emulator, String, String)> {
    anyhow::bail!(
        "this build has no built-in Okta emulator (built without the `demo` feature): \
         give --okta-url and --okta-token"
    )
}

#[cfg(feature = "demo")]
async fn stop_emulator(sim: Emulator) {
    sim.shutdown().await;
}

#[cfg(not(feature = "demo"))]
#[allow(clippy::unused_async)]
async fn stop_emulator(sim: Emulator) {
    match sim {}
}

/// A full read of every group type, reported as the `ReadOkta` phase.
pub(crate) async fn read_with_progress(
    client: &OktaClient,
    progress: &Arc<dyn Progress>,
) -> anyhow::Result<OktaSnapshot> {
    progress.start(Phase::ReadOkta, None);
    let last = std::sync::atomic::AtomicU64::new(0);
    let report = |p: &ReadProgress| {
        let done = (p.users_read + p.groups_read + p.groups_with_members_read) as u64;
        let before = last.swap(done, std::sync::atomic::Ordering::Relaxed);
        progress.advance(Phase::ReadOkta, done.saturating_sub(before));
    };
    let snapshot = client
        .read_org_with_progress(&ReadScope::default(), &report)
        .await
        .with_context(|| format!("reading the Okta org {}", client.org_host()))?;
    progress.finish(
        Phase::ReadOkta,
        &format!(
            "{} users, {} groups",
            snapshot.users.len(),
            snapshot.groups.len()
        ),
    );
    Ok(snapshot)
}
