//! The full-read phase: usersync's Okta client reads the whole org, with Okta's rate
//! limits on (usersync keeps to its share) or off (latency alone), and the result is
//! set against the lower bound for exactly the requests such a read needs.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use secrecy::SecretString;
use usersync_core::OktaSnapshot;
use usersync_okta::{OktaAuth, OktaClient, OktaConfig, ReadScope};
use usersync_sim::okta::{Bucket, RateLimits};

use crate::bound::{self, Budget, OktaLimits, PageSizes, ReadShape};
use crate::emulators::Emulators;
use crate::protocol::Shape;
use crate::report::Phase;
use crate::settings::Args;
use crate::sys::Meter;

/// The largest page of each listing Okta serves (users 200, groups 10,000, group
/// members 1,000): the lower bound of a read is computed at these, not at the page
/// sizes usersync happens to choose, so a smaller choice shows as lost time.
pub const OKTA_MAX_PAGES: PageSizes = PageSizes {
    users: 200,
    groups: 10_000,
    members: 1_000,
};

/// usersync's page sizes in this run: the client's defaults (users and groups 200),
/// members at `--member-page-size`.
#[must_use]
pub fn usersync_pages(args: &Args) -> PageSizes {
    let defaults = usersync_okta::PageSizes::default();
    PageSizes {
        users: u64::from(defaults.users),
        groups: u64::from(defaults.groups),
        members: u64::from(args.member_page_size),
    }
}

/// An Okta client as usersync configures one, against the emulator.
///
/// # Errors
/// When the client refuses a setting.
pub fn client(args: &Args, emulators: &Emulators) -> anyhow::Result<OktaClient> {
    let token = SecretString::from(emulators.ready.okta_token.clone());
    let mut config = OktaConfig::new(emulators.ready.okta_url.as_str(), OktaAuth::ApiToken(token));
    config.rate_share = args.share;
    config.max_concurrency = args.client_concurrency;
    config.org_concurrency_limit = args.okta_concurrency_limit;
    config.page_sizes.group_members = args.member_page_size;
    Ok(OktaClient::new(&config)?)
}

/// The requests a full read of every group type needs at `pages` (empty groups
/// included: the engine reads them too).
#[must_use]
pub fn needed(shape: &Shape, pages: PageSizes) -> ReadShape {
    ReadShape::of(shape.users, shape.groups, &shape.member_counts, pages)
}

/// The client's view of Okta's limits: its share of each bucket, or none.
#[must_use]
pub fn okta_limits(args: &Args, limits: Option<&RateLimits>) -> OktaLimits {
    let budget = |bucket: Bucket| {
        limits.map_or(Budget::UNLIMITED, |l| {
            Budget::share_of(
                l.limit(bucket),
                args.share,
                Duration::from_secs(l.window_secs),
            )
        })
    };
    OktaLimits {
        latency: args.latency(),
        users: budget(Bucket::UsersList),
        groups: budget(Bucket::Groups),
        members: budget(Bucket::GroupMembers),
        concurrency: args.okta_concurrency_limit as u64,
    }
}

/// One full read; returns the phase and the snapshot.
///
/// # Errors
/// When the read fails outright or comes back incomplete.
pub async fn full_read(
    args: &Args,
    emulators: &mut Emulators,
    shape: &Shape,
    limits_on: bool,
) -> anyhow::Result<(Phase, OktaSnapshot)> {
    let name = if limits_on {
        "full Okta read, rate limited"
    } else {
        "full Okta read, latency only"
    };
    emulators.begin_phase(limits_on).await?;
    let client = client(args, emulators)?;
    // Every group type (BUILT_IN Everyone too), as `usersync okta-read` reads and the
    // engine does for an app whose scope takes every type; empty groups are read.
    let scope = ReadScope {
        group_types: Vec::new(),
        // As the engine reads: only the profile attributes the mapping uses.
        profile_attributes: Some(crate::planning::policy()?.profile_attributes()),
    };
    let meter = Meter::start();
    let started = Instant::now();
    let snapshot = client.read_org(&scope).await.context("reading the org")?;
    let wall = started.elapsed().as_secs_f64();
    let counts = emulators.counts().await?;
    ensure!(
        snapshot.completeness.is_complete(),
        "the read came back incomplete: {:?}",
        snapshot.completeness
    );
    let need = needed(shape, usersync_pages(args));
    let at_max = needed(shape, OKTA_MAX_PAGES);
    let limits = limits_on.then(|| args.rate_limits());
    let bound = bound::full_read(&at_max, &okta_limits(args, limits.as_ref()));
    let mut phase = Phase::new(name, wall).metered(&meter, Some(counts.emulator_cpu_seconds));
    phase.okta_requests = Some(counts.okta_requests);
    phase.okta_429 = Some(counts.okta_429);
    phase.bound = Some(bound);
    let memberships: usize = snapshot.memberships.values().map(|m| m.len()).sum();
    phase.notes.push(format!(
        "read {} users, {} groups, {memberships} memberships (complete); {} requests needed at member pages of {} ({} user pages, {} group pages, {} member pages, longest member chain {}), client counted {} requests, {} retries; the bound is computed at Okta's largest pages ({} requests, longest chain {})",
        snapshot.users.len(),
        snapshot.groups.len(),
        need.requests(),
        args.member_page_size,
        need.user_pages,
        need.group_pages,
        need.member_pages,
        need.longest_member_chain,
        client.stats().requests,
        client.stats().retries,
        at_max.requests(),
        at_max.longest_member_chain,
    ));
    if limits_on && args.limit_scale() > 1 {
        let real = args.rate_limits_at_scale(1);
        let real_bound = bound::full_read(&at_max, &okta_limits(args, Some(&real)));
        phase.notes.push(format!(
            "at Okta's real Workforce limits this read's lower bound would be {:.1} min ({})",
            real_bound.seconds / 60.0,
            real_bound.binding
        ));
    }
    Ok((phase, snapshot))
}
