//! `usersync check`: try both connections and say, in words, whether the target
//! can do everything the app's settings need. Sends a handful of cheap requests
//! and changes nothing.

use serde::Serialize;
use usersync_atlassian::{Capability, Target, TargetError};
use usersync_core::{CompiledPolicy, OktaGroupId};
use usersync_okta::OktaError;

use url::Url;
use usersync_core::SyncPolicy;
use usersync_store::TargetKind;

use super::connect::{Connections, connect, describe, needed_capabilities, remedy};
use super::run::find_app;
use super::{Deps, EngineError};

/// One line of a check: what was checked, whether it is fine, and the detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckLine {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

/// Everything `check` found; `ok` only when every line is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub app: String,
    pub ok: bool,
    pub lines: Vec<CheckLine>,
}

impl CheckReport {
    pub(crate) fn push(&mut self, what: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.ok &= ok;
        self.lines.push(CheckLine {
            what: what.into(),
            ok,
            detail: detail.into(),
        });
    }
}

/// Checks the app's policy, both connections and the target's capabilities.
///
/// # Errors
/// Only when the app does not exist or the store fails; every problem found is a
/// line of the report.
pub async fn check(deps: &Deps, app_name: &str) -> Result<CheckReport, EngineError> {
    let app = find_app(deps, app_name).await?;
    let conns = connect(deps, &app).await;
    let subject = Subject {
        name: &app.name,
        kind: app.target.kind,
        target_url: &app.target.url,
        policy: &app.policy,
    };
    Ok(check_connections(&subject, conns).await)
}

/// What is checked: the stored app, or values not saved yet (the console's form).
pub(crate) struct Subject<'a> {
    pub name: &'a str,
    pub kind: TargetKind,
    pub target_url: &'a Url,
    pub policy: &'a SyncPolicy,
}

/// The check over connections already built, or the reason they could not be.
pub(crate) async fn check_connections(
    app: &Subject<'_>,
    conns: anyhow::Result<Connections>,
) -> CheckReport {
    let mut report = CheckReport {
        app: app.name.to_owned(),
        ok: true,
        lines: Vec::new(),
    };
    let compiled = match CompiledPolicy::compile(app.policy) {
        Ok(c) => {
            report.push("policy", true, "valid");
            Some(c)
        }
        Err(e) => {
            report.push("policy", false, e.to_string());
            None
        }
    };
    let conns = match conns {
        Ok(c) => c,
        Err(e) => {
            report.push("credentials", false, format!("{e:#}"));
            return report;
        }
    };
    if check_okta(&mut report, &conns.okta).await
        && let Some(policy) = &compiled
    {
        super::check_schema::check_profile_schema(&mut report, &conns.okta, policy).await;
    }
    check_target(&mut report, app, conns.target.as_ref()).await;
    report
}

/// The target is the product configured (its version endpoint answers as that product),
/// the credential signs in, and the version can do what the policy needs.
async fn check_target(report: &mut CheckReport, app: &Subject<'_>, target: &dyn Target) {
    let what = format!("{} at {}", app.kind, app.target_url);
    // Version detection comes first: it is what proves the URL is the product's.
    let caps = match target.capabilities().await {
        Ok(c) => c,
        Err(e) => {
            let step = if matches!(e, TargetError::Unauthenticated { .. }) {
                "sign-in"
            } else {
                "product and version"
            };
            report.push(format!("{what}: {step}"), false, e.to_string());
            return;
        }
    };
    report.push(
        format!("{what}: product and version"),
        true,
        format!("{} {}", caps.kind.as_str(), caps.version),
    );
    match target.whoami().await {
        Ok(me) => report.push(
            format!("{what}: sign-in"),
            true,
            format!("signed in as {me} (this account is never changed)"),
        ),
        Err(e) => report.push(format!("{what}: sign-in"), false, e.to_string()),
    }
    for need in needed_capabilities(app.policy) {
        let via = caps.via(need.capability);
        let verdict = via.map_or_else(
            || {
                format!(
                    "NOT supported by {} {} ({})",
                    caps.kind.as_str(),
                    caps.version,
                    remedy(&caps, need.capability)
                )
            },
            |api| format!("supported via {api}"),
        );
        report.push(
            describe(need.capability),
            via.is_some(),
            format!("{verdict} (needed: {})", need.why),
        );
    }
    if !caps.supports(Capability::RenameUser) {
        report.lines.push(CheckLine {
            what: describe(Capability::RenameUser).to_owned(),
            ok: true,
            detail: "not supported (optional: a login change that changes a username will fail for that user)".into(),
        });
    }
}

/// Two cheap reads: one user of the listing, which only an Okta org answers in Okta's
/// shape (a 404 for a made-up user proves nothing: any web server gives one), and the
/// members of a group that does not exist (Okta's 404 is the expected, good answer).
/// True when Okta answered as Okta.
async fn check_okta(report: &mut CheckReport, okta: &usersync_okta::OktaClient) -> bool {
    let what = format!("Okta {}", okta.org_host());
    match okta.probe_org().await {
        Ok(()) => report.push(
            format!("{what}: read users"),
            true,
            "an Okta org; credential accepted; users can be read",
        ),
        Err(e) => {
            report.push(format!("{what}: read users"), false, e.to_string());
            return false;
        }
    }
    let probe = OktaGroupId::parse("00g0usersynccheck000").expect("a valid literal id");
    match okta.list_group_members(&probe).await {
        Ok(_) | Err(OktaError::NotFound { .. }) => {
            report.push(
                format!("{what}: read groups"),
                true,
                "groups and members can be read",
            );
        }
        Err(e) => report.push(format!("{what}: read groups"), false, e.to_string()),
    }
    true
}
