//! The report's JSON shape for the API and the console (`ReportView`), from the
//! engine's `AppReport`: plain strings, so the OpenAPI document describes it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `usersync report` as the API and console give it: what the target holds that
/// Okta does not explain (`engine::report`). Read-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportView {
    pub app: String,
    pub target_kind: String,
    /// False when the Okta read was incomplete (some orphans may be users it missed).
    pub okta_complete: bool,
    /// Target users no Okta user maps to.
    pub orphans: Vec<OrphanView>,
    /// Users inactive in Okta whose target account is active.
    pub inactive_in_okta: Vec<InactiveInOktaView>,
    /// Members of groups usersync manages whom Okta does not put there.
    pub unmanaged_members: Vec<UnmanagedMemberView>,
    /// Licence seats per application, where the product reports them.
    pub seats: Option<Vec<SeatsView>>,
    /// Where the seat figures come from, or why there are none.
    pub seats_source: String,
    /// Where the last sign-ins come from, or why the target does not report them.
    pub last_login: String,
    /// Active licensed users who never signed in, where the product says.
    #[serde(default)]
    pub never_signed_in: Vec<NeverSignedInView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NeverSignedInView {
    pub username: String,
    /// The Okta user the account belongs to, if any.
    pub okta_login: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrphanView {
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub managed_elsewhere: bool,
    /// The Okta user it was linked to, now gone from Okta.
    pub linked_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InactiveInOktaView {
    pub username: String,
    pub okta_login: String,
    /// Okta's status, e.g. `SUSPENDED`.
    pub okta_status: String,
    pub linked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnmanagedMemberView {
    pub group: String,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SeatsView {
    pub application: String,
    pub used: u64,
    /// Null when unlimited.
    pub total: Option<u64>,
}

impl ReportView {
    #[must_use]
    pub fn of(r: &crate::engine::AppReport) -> Self {
        let status = |s: &usersync_core::OktaStatus| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        Self {
            app: r.app.clone(),
            target_kind: r.target_kind.to_string(),
            okta_complete: r.found.okta_complete,
            orphans: r
                .found
                .orphans
                .iter()
                .map(|o| OrphanView {
                    username: o.username.to_string(),
                    display_name: o.display_name.clone(),
                    active: o.active,
                    managed_elsewhere: o.managed_elsewhere,
                    linked_to: o.linked_to.as_ref().map(ToString::to_string),
                })
                .collect(),
            inactive_in_okta: r
                .found
                .inactive_in_okta
                .iter()
                .map(|u| InactiveInOktaView {
                    username: u.username.to_string(),
                    okta_login: u.okta_login.clone(),
                    okta_status: status(&u.okta_status),
                    linked: u.linked,
                })
                .collect(),
            unmanaged_members: r
                .found
                .unmanaged_members
                .iter()
                .map(|m| UnmanagedMemberView {
                    group: m.group.to_string(),
                    username: m.username.to_string(),
                })
                .collect(),
            seats: r.seats.as_ref().map(|all| {
                all.iter()
                    .map(|s| SeatsView {
                        application: s.application.clone(),
                        used: s.used,
                        total: s.total,
                    })
                    .collect()
            }),
            seats_source: r.seats_source.to_owned(),
            last_login: r.last_login.clone(),
            never_signed_in: r
                .never_signed_in
                .iter()
                .map(|n| NeverSignedInView {
                    username: n.username.to_string(),
                    okta_login: n.okta_login.clone(),
                })
                .collect(),
        }
    }
}
