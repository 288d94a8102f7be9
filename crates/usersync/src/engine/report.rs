//! `usersync report`: what the target holds that Okta does not explain, and the
//! licence seats it uses. Read-only: it reads both sides (the target's licence
//! figures too, where the product reports them) and changes nothing, records no
//! run, and takes no app lock (a sync may run meanwhile).

use serde::Serialize;
use usersync_atlassian::{Seats, SignIns};
use usersync_core::unexplained::{NeverSignedIn, Unexplained, never_signed_in, unexplained};
use usersync_store::TargetKind;

use super::run::{find_app, prepare, read_both};
use super::{Deps, EngineError, ReadStats};

/// The report of one app.
#[derive(Debug, Clone, Serialize)]
pub struct AppReport {
    pub app: String,
    pub target_kind: TargetKind,
    #[serde(flatten)]
    pub found: Unexplained,
    /// Seats per application where the product reports them; `None` where not.
    pub seats: Option<Vec<Seats>>,
    /// Where the seat figures come from, or why there are none.
    pub seats_source: &'static str,
    /// Where the last sign-ins come from, or why this target does not report them
    /// (and so why `never_signed_in` is empty).
    pub last_login: String,
    /// Active users counting towards the licence who never signed in, where the
    /// product reports sign-ins.
    pub never_signed_in: Vec<NeverSignedIn>,
    pub okta: ReadStats,
    pub target: ReadStats,
}

/// Reads both sides of `app_name` and reports (see the module docs).
///
/// # Errors
/// An unknown app, the store, or a side that cannot be read (as `Refused`, with why).
pub async fn report(deps: &Deps, app_name: &str) -> Result<AppReport, EngineError> {
    let app = find_app(deps, app_name).await?;
    let work = async {
        let prepared = prepare(deps, &app).await?;
        let reads = read_both(deps, &app, &prepared, deps.shared_reads.as_ref(), false).await?;
        let links = deps.store.load_links(app.id).await?;
        let seats = prepared.conns.target.seats().await.map_err(|e| {
            anyhow::anyhow!("reading the licence seats of the {}: {e}", app.target.kind)
        })?;
        let sign_ins = prepared.conns.target.sign_ins().await.map_err(|e| {
            anyhow::anyhow!("reading the last sign-ins of the {}: {e}", app.target.kind)
        })?;
        let constraints = prepared.conns.constraints();
        let (last_login, never) = match sign_ins {
            SignIns::Reported(all) => {
                let never: Vec<_> = all
                    .into_iter()
                    .filter(|s| s.last.is_none())
                    .map(|s| s.username)
                    .collect();
                let found = never_signed_in(
                    &reads.desired,
                    &links,
                    &prepared.policy,
                    &constraints,
                    &never,
                    Some(&prepared.me),
                );
                (last_login_source(app.target.kind).to_owned(), found)
            }
            SignIns::NotExposed(why) => (why, Vec::new()),
        };
        let found = unexplained(
            &reads.desired,
            &reads.current,
            &links,
            &prepared.policy,
            &constraints,
            Some(&prepared.me),
        );
        anyhow::Ok(AppReport {
            app: app.name.clone(),
            target_kind: app.target.kind,
            found,
            seats,
            seats_source: seats_source(app.target.kind),
            last_login,
            never_signed_in: never,
            okta: reads.okta,
            target: reads.target,
        })
    };
    work.await
        .map_err(|e| EngineError::Refused(format!("{e:#}")))
}

/// Where each kind's seat figures come from.
#[must_use]
pub fn seats_source(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Jira => {
            "Jira's application roles (GET /rest/api/2/applicationrole: userCount, numberOfSeats)"
        }
        TargetKind::Confluence => {
            "Confluence's licence resource (GET /rest/license/1.0/license/userCount and maxUsers)"
        }
        TargetKind::Crowd => "none: Crowd's usermanagement API reports no licence",
        TargetKind::Scim | TargetKind::AtlassianCloud => "none: SCIM reports no licence",
    }
}

/// Where a kind's last sign-ins come from when it reports them (the target says
/// why when it does not).
fn last_login_source(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Confluence => {
            "Confluence's licensed-user list (GET /rest/api/admin/users/list/active?expand=lastLogin)"
        }
        _ => "the target's own report of last sign-ins",
    }
}

impl AppReport {
    /// One row per finding: `finding,group,username,detail`.
    #[must_use]
    pub fn csv(&self) -> String {
        use crate::csv::row;
        let mut out = String::from("finding,group,username,detail\n");
        for o in &self.found.orphans {
            let mut detail = vec![if o.active { "active" } else { "inactive" }.to_owned()];
            if o.managed_elsewhere {
                detail.push("read-only directory".to_owned());
            }
            if let Some(id) = &o.linked_to {
                detail.push(format!("was linked to Okta user {id}, gone from Okta"));
            }
            out.push_str(&row(&[
                "orphan",
                "",
                o.username.as_str(),
                &detail.join("; "),
            ]));
        }
        for u in &self.found.inactive_in_okta {
            let detail = format!("{} is {:?} in Okta", u.okta_login, u.okta_status);
            out.push_str(&row(&[
                "inactive_in_okta",
                "",
                u.username.as_str(),
                &detail,
            ]));
        }
        for m in &self.found.unmanaged_members {
            out.push_str(&row(&[
                "unmanaged_member",
                m.group.as_str(),
                m.username.as_str(),
                "",
            ]));
        }
        for n in &self.never_signed_in {
            let detail = n
                .okta_login
                .as_ref()
                .map(|l| format!("Okta user {l}"))
                .unwrap_or_else(|| "no Okta user".to_owned());
            out.push_str(&row(&["never_signed_in", "", n.username.as_str(), &detail]));
        }
        for s in self.seats.iter().flatten() {
            let detail = format!("{} used of {}", s.used, total(s));
            out.push_str(&row(&[
                "seats",
                "",
                "",
                &format!("{}: {detail}", s.application),
            ]));
        }
        out
    }

    /// The report for people.
    #[must_use]
    pub fn text(&self) -> String {
        let mut out = format!("report of app {} ({})\n", self.app, self.target_kind);
        if !self.found.okta_complete {
            out.push_str(
                "WARNING: the Okta read was incomplete; some orphans may be users it missed\n",
            );
        }
        out.push_str(&format!(
            "\norphans (no Okta user maps to them): {}\n",
            self.found.orphans.len()
        ));
        for o in &self.found.orphans {
            let state = if o.active { "active" } else { "inactive" };
            let gone = o
                .linked_to
                .as_ref()
                .map(|id| format!(", was linked to Okta user {id}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} ({}, {state}{gone})\n",
                o.username, o.display_name
            ));
        }
        out.push_str(&format!(
            "\ninactive in Okta, active in the target: {}\n",
            self.found.inactive_in_okta.len()
        ));
        for u in &self.found.inactive_in_okta {
            out.push_str(&format!(
                "  {} (Okta {}: {:?})\n",
                u.username, u.okta_login, u.okta_status
            ));
        }
        out.push_str(&format!(
            "\nmembers of managed groups usersync does not manage: {}\n",
            self.found.unmanaged_members.len()
        ));
        for m in &self.found.unmanaged_members {
            out.push_str(&format!("  {} in {}\n", m.username, m.group));
        }
        out.push_str("\nlicence seats: ");
        match &self.seats {
            Some(seats) => {
                out.push('\n');
                for s in seats {
                    out.push_str(&format!(
                        "  {}: {} used of {}\n",
                        s.application,
                        s.used,
                        total(s)
                    ));
                }
            }
            None => out.push_str(&format!("{}\n", self.seats_source)),
        }
        out.push_str(&format!(
            "\nactive, licensed and never signed in: {}\n  ({})\n",
            self.never_signed_in.len(),
            self.last_login
        ));
        for n in &self.never_signed_in {
            let owner = n.okta_login.as_deref().unwrap_or("no Okta user");
            out.push_str(&format!("  {} ({owner})\n", n.username));
        }
        out
    }
}

fn total(seats: &Seats) -> String {
    seats
        .total
        .map_or_else(|| "unlimited".to_owned(), |t| t.to_string())
}
