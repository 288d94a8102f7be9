//! Shared set-up: an emulator with a generated org, and a client tuned for fast tests.

use std::time::Duration;

use secrecy::SecretString;
use usersync_core::{OktaGroupId, OktaSnapshot};
use usersync_okta::{OktaAuth, OktaClient, OktaConfig, RetrySettings};
use usersync_sim::okta::{OktaSim, OktaSimConfig, OrgSpec, RateLimits};

/// An org of `users` users and `groups` groups (plus generator defaults).
pub fn spec(users: usize, groups: usize) -> OrgSpec {
    usersync_testkit::org(users, groups, 7)
}

pub async fn start(org: Option<OrgSpec>, rate_limits: RateLimits) -> OktaSim {
    usersync_testkit::start_okta_with(OktaSimConfig {
        org,
        rate_limits,
        ..OktaSimConfig::default()
    })
    .await
}

/// Retries with millisecond backoffs and short rate-limit waits, so tests stay fast.
pub fn fast_retries() -> RetrySettings {
    RetrySettings {
        max_retries: 4,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        max_rate_limit_retries: 3,
        max_rate_limit_wait: Duration::from_secs(2),
    }
}

pub fn config_for(sim: &OktaSim) -> OktaConfig {
    let mut config = OktaConfig::new(
        sim.base_url(),
        OktaAuth::ApiToken(SecretString::from(sim.api_token().to_owned())),
    );
    config.retry = fast_retries();
    config
}

pub fn client_for(sim: &OktaSim) -> OktaClient {
    OktaClient::new(&config_for(sim)).expect("a valid configuration")
}

/// Pages a listing of `n` items takes: an empty listing still takes one request.
pub fn pages(n: usize, size: usize) -> usize {
    n.div_ceil(size).max(1)
}

/// The documented request count of a full read of `org` (see the `org` module docs):
/// every group's members are read, empty groups too.
pub fn expected_requests(org: &OktaSnapshot, member_page: usize) -> usize {
    let members: usize = org
        .memberships
        .values()
        .map(|m| pages(m.len(), member_page))
        .sum();
    pages(org.users.len(), 200) + pages(org.groups.len(), 200) + members
}

/// Sorts a snapshot's lists so two reads of the same org compare equal.
pub fn normalised(mut s: OktaSnapshot) -> OktaSnapshot {
    s.users.sort_by(|a, b| a.id.cmp(&b.id));
    s.groups.sort_by(|a, b| a.id.cmp(&b.id));
    s
}

/// The group with the most members.
pub fn biggest_group(org: &OktaSnapshot) -> OktaGroupId {
    org.memberships
        .iter()
        .max_by_key(|(_, m)| m.len())
        .map(|(g, _)| g.clone())
        .expect("the org has groups")
}
