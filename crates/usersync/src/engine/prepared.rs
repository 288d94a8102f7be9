//! Preparing a run: the policy compiled and both sides connected ([`Connected`]),
//! then the target checked ([`check_target`]): it can do what the policy needs, and
//! who usersync signs in as. Together they make a [`Prepared`], which every run
//! plans with.
//!
//! The two steps are apart so that a single-user sync can check the target while
//! its Okta requests are in flight (they do not depend on each other); it still
//! plans only with a [`Prepared`], so no plan is made before the check passed.

use std::ops::Deref;

use anyhow::Context as _;
use usersync_core::{
    CompiledPolicy, Links, OktaSnapshot, Plan, PlanOptions, PlanScope, TargetSnapshot, Username,
    guard, plan,
};
use usersync_store::App;

use super::Deps;
use super::budget::Budget;
use super::connect::{Connections, connect, needed_capabilities, unmet};

/// A policy compiled and both sides connected, not yet checked.
pub(crate) struct Connected {
    pub policy: CompiledPolicy,
    pub conns: Connections,
}

/// A policy compiled and both sides connected and checked.
pub(crate) struct Prepared {
    connected: Connected,
    /// The target account usersync signs in as (always protected).
    pub me: Username,
}

/// A prepared run reads through its connections like an unchecked one: the
/// helpers that only read take a [`Connected`], so both can call them.
impl Deref for Prepared {
    type Target = Connected;

    fn deref(&self) -> &Connected {
        &self.connected
    }
}

impl Prepared {
    /// The connections, checked: `me` is what [`check_target`] gave for them.
    pub fn new(connected: Connected, me: Username) -> Self {
        Self { connected, me }
    }

    pub fn options(&self) -> PlanOptions {
        PlanOptions::full(self.conns.constraints(), Some(self.me.clone()))
    }

    /// The pipeline's plan and guard steps, for every run that plans (full, dry,
    /// single-user, and the fresh plan of an approval): the one place the engine
    /// calls the planner, so none of them can apply a plan that skipped the guard.
    /// `budget` is what the app's hold window already spent (`engine::budget`).
    pub fn plan_and_guard(
        &self,
        desired: &OktaSnapshot,
        current: &TargetSnapshot,
        links: &Links,
        scope: PlanScope,
        budget: &Budget,
    ) -> Plan {
        let options = PlanOptions {
            scope,
            ..self.options()
        };
        let mut unguarded = plan(desired, current, links, &self.policy, &options);
        if let Some(managed) = budget.managed_users {
            unguarded.managed_users = managed;
        }
        guard(
            unguarded,
            &desired.completeness,
            &self.policy.policy().limits,
            &budget.spent,
        )
    }
}

/// Compiles the policy, connects, and refuses before any change when the target
/// cannot do what the policy needs.
pub(crate) async fn prepare(deps: &Deps, app: &App) -> anyhow::Result<Prepared> {
    let connected = connect_app(deps, app).await?;
    let me = check_target(app, &connected).await?;
    Ok(Prepared::new(connected, me))
}

/// Compiles the policy and connects both sides (no request is sent yet).
pub(crate) async fn connect_app(deps: &Deps, app: &App) -> anyhow::Result<Connected> {
    let policy = CompiledPolicy::compile(&app.policy)
        .with_context(|| format!("app {:?}: invalid policy", app.name))?;
    let conns = connect(deps, app).await?;
    Ok(Connected { policy, conns })
}

/// Checks the target can do what the policy needs, and gives the account usersync
/// signs in as.
pub(crate) async fn check_target(app: &App, connected: &Connected) -> anyhow::Result<Username> {
    let target = &connected.conns.target;
    let caps = target.capabilities().await.with_context(|| {
        format!(
            "checking what the {} at {} can do",
            app.target.kind, app.target.url
        )
    })?;
    if let Some(problem) = unmet(&caps, &needed_capabilities(&app.policy)) {
        anyhow::bail!(
            "app {:?} needs more than the target offers: {problem}",
            app.name
        );
    }
    target
        .whoami()
        .await
        .context("asking the target who usersync signs in as")
}
