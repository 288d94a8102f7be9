//! `usersync explain LOGIN`: why a user is or is not in the target, and what the
//! next full sync would change for them, in words.
//!
//! An explanation is built from a full (guarded) plan, so it can never disagree
//! with what a sync would do; it only selects and describes the parts about one
//! user. [`Explanation::text`] is its one wording, which the CLI prints and the
//! console lays out.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::app::labels::describe;
use crate::guard::{Guard, guard};
use crate::ids::{OktaUserId, Username};
use crate::links::Links;
use crate::mapping::CompiledPolicy;
use crate::plan::{PlanOptions, PlannedOp, SkipReason, plan};
use crate::scope::{StatusClass, UserScope, status_class};
use crate::snapshot::{OktaSnapshot, OktaStatus, OktaUser, TargetSnapshot, TargetUser};

/// The user as Okta has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaSide {
    pub id: OktaUserId,
    pub login: String,
    pub status: OktaStatus,
}

/// The user as the target has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSide {
    pub username: Username,
    pub display_name: String,
    pub active: bool,
    pub managed_elsewhere: bool,
    /// Linked to the Okta user (managed by usersync).
    pub linked: bool,
}

/// What the username mapping made of the user's login. In JSON, tagged by `state`:
/// `{"state": "usable", "username": "alice"}` or `{"state": "unusable", "problem": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MappedUsername {
    /// The name the user has (or would get) in the target.
    Usable { username: String },
    /// Why the mapped name cannot be used in the target.
    Unusable { problem: String },
}

impl MappedUsername {
    /// The username, when usable.
    #[must_use]
    pub fn usable(&self) -> Option<&str> {
        match self {
            Self::Usable { username } => Some(username),
            Self::Unusable { .. } => None,
        }
    }
}

/// Everything `explain` says about one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub login: String,
    pub okta: Option<OktaSide>,
    pub target: Option<TargetSide>,
    /// The login after the username mapping, or why it is unusable.
    pub mapped_username: Option<MappedUsername>,
    pub in_scope: bool,
    /// Why the user is or is not in scope, in words.
    pub scope: String,
    /// What the user's Okta status means for the target.
    pub status: Option<String>,
    pub skipped: Option<SkipReason>,
    /// The planned ops that concern the user, each with its rule.
    pub ops: Vec<PlannedOp>,
    /// The guard's decision for the whole plan (a held plan applies nothing destructive).
    pub guard: Guard,
    /// The plan's notes about the user's Okta groups (e.g. a group renamed in Okta
    /// and kept under its old name).
    #[serde(default)]
    pub group_notes: Vec<String>,
    /// Which setting gives the user's display name and e-mail, with the values.
    #[serde(default)]
    pub attributes: Vec<String>,
}

/// Explains one user (by Okta login, or by target username when Okta has no such login),
/// planning in `options.scope` (the whole snapshot, or just the user).
#[must_use]
pub fn explain(
    login: &str,
    desired: &OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
    policy: &CompiledPolicy,
    options: &PlanOptions,
) -> Explanation {
    // The caller's scope: the whole snapshot, or (the engine's Explain, which reads
    // what a single-user sync reads) the one user.
    let full = guard(
        plan(desired, current, links, policy, options),
        &desired.completeness,
        &policy.policy().limits,
        &crate::guard::Spent::NOTHING,
    );
    let okta_user = find_okta_user(login, desired, current, links);
    let okta_id = okta_user
        .map(|u| u.id.clone())
        .or_else(|| linked_id_of(login, current, links));
    let target = find_target(login, okta_id.as_ref(), current, links);
    let mapped = okta_user.map(|u| options.constraints.username(&policy.map_login(&u.login)));
    let mut names: Vec<Username> = target.iter().map(|t| t.username.clone()).collect();
    names.extend(mapped.iter().filter_map(|m| m.clone().ok()));
    let ops = okta_id
        .as_ref()
        .map_or_else(Vec::new, |id| full.ops_for(id, &names).cloned().collect());
    let skipped = okta_id
        .as_ref()
        .and_then(|id| full.skipped.iter().find(|s| &s.okta_id == id))
        .map(|s| s.reason.clone());
    let scope = UserScope::new(policy, desired);
    let (in_scope, scope_text) = match okta_user.map(|u| scope.verdict(u)) {
        Some(Ok(())) => (true, scope.reason_in_scope()),
        Some(Err(reason)) => (false, reason),
        None => (false, "not in the Okta snapshot".to_owned()),
    };
    Explanation {
        login: login.to_owned(),
        okta: okta_user.map(|u| OktaSide {
            id: u.id.clone(),
            login: u.login.clone(),
            status: u.status,
        }),
        target: target.map(|t| TargetSide {
            username: t.username.clone(),
            display_name: t.display_name.clone(),
            active: t.active,
            managed_elsewhere: t.managed_elsewhere,
            linked: okta_id
                .as_ref()
                .is_some_and(|id| links.users.contains_key(id)),
        }),
        mapped_username: mapped.map(|m| match m {
            Ok(username) => MappedUsername::Usable {
                username: username.as_str().to_owned(),
            },
            Err(problem) => MappedUsername::Unusable {
                problem: problem.to_string(),
            },
        }),
        in_scope,
        scope: scope_text,
        status: okta_user.map(|u| describe_status(policy, u.status)),
        skipped,
        ops,
        group_notes: okta_id
            .as_ref()
            .map_or_else(Vec::new, |id| group_notes(&full.notes, desired, id)),
        attributes: okta_user.map_or_else(Vec::new, |u| attribute_lines(policy, u)),
        guard: full.guard,
    }
}

/// Where the display name and e-mail come from, in words.
fn attribute_lines(policy: &CompiledPolicy, user: &OktaUser) -> Vec<String> {
    let email = policy
        .email(user)
        .map_or_else(|| "none".to_owned(), |e| format!("{:?}", e.as_str()));
    vec![
        format!(
            "display name {:?}: {}",
            policy.display_name(user),
            policy.display_name_source(user)
        ),
        format!(
            "e-mail {email}: from {} {:?}",
            describe("policy.attributes.email"),
            policy.policy().attributes.email
        ),
    ]
}

/// The notes about groups the user is a member of in Okta: notes name a group by
/// its id in parentheses.
fn group_notes(notes: &[String], desired: &OktaSnapshot, user: &OktaUserId) -> Vec<String> {
    let tags: Vec<String> = desired
        .memberships
        .iter()
        .filter(|(_, members)| members.contains(user))
        .map(|(group, _)| format!("({group})"))
        .collect();
    notes
        .iter()
        .filter(|n| tags.iter().any(|t| n.contains(t.as_str())))
        .cloned()
        .collect()
}

fn find_okta_user<'a>(
    login: &str,
    desired: &'a OktaSnapshot,
    current: &TargetSnapshot,
    links: &Links,
) -> Option<&'a OktaUser> {
    if let Some(user) = desired
        .users
        .iter()
        .find(|u| u.login.eq_ignore_ascii_case(login))
    {
        return Some(user);
    }
    let id = linked_id_of(login, current, links)?;
    desired.users.iter().find(|u| u.id == id)
}

/// The Okta id linked to a target username, when `login` is one.
fn linked_id_of(login: &str, current: &TargetSnapshot, links: &Links) -> Option<OktaUserId> {
    let name = Username::parse(login).ok()?;
    let user = current.users.iter().find(|u| u.username == name)?;
    links
        .users
        .values()
        .find(|l| {
            l.username == user.username || (l.target_key.is_some() && l.target_key == user.key)
        })
        .map(|l| l.okta_id.clone())
}

fn find_target<'a>(
    login: &str,
    id: Option<&OktaUserId>,
    current: &'a TargetSnapshot,
    links: &Links,
) -> Option<&'a TargetUser> {
    if let Some(link) = id.and_then(|id| links.users.get(id)) {
        let by_link = current.users.iter().find(|u| {
            (link.target_key.is_some() && u.key == link.target_key) || u.username == link.username
        });
        if by_link.is_some() {
            return by_link;
        }
    }
    let name = Username::parse(login).ok()?;
    current.users.iter().find(|u| u.username == name)
}

fn describe_status(policy: &CompiledPolicy, status: OktaStatus) -> String {
    let imported = if policy.is_importable(status) {
        "imported when missing".to_owned()
    } else {
        format!(
            "not imported: not in {}",
            describe("policy.scope.import_statuses")
        )
    };
    let class = match status_class(status) {
        StatusClass::Active => "counts as active",
        StatusClass::Inactive => "counts as inactive",
        StatusClass::NotYetActive => "is not yet active; a linked user's state is left alone",
    };
    format!("{} {class}; {imported}", status.as_str())
}

/// An explanation in words: the one wording both the CLI (as text, through
/// `Display`) and the console (as sections of a page) show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplanationText {
    /// The Okta side: `login (id), status S`, or that there is no such user.
    pub okta: String,
    /// What the Okta status means for the target.
    pub status: Option<String>,
    /// The mapped username, or `unusable (problem)`.
    pub mapped_username: Option<String>,
    /// `in scope: why` or `out of scope: why`.
    pub scope: String,
    /// The target side: `username (name), active, linked to Okta`, or that there is none.
    pub target: String,
    pub skipped: Option<String>,
    /// Each planned op with its rule; empty when the next sync changes nothing.
    pub next_sync: Vec<String>,
    /// What the plan says about the user's Okta groups.
    pub groups: Vec<String>,
    /// Which setting gives the display name and e-mail (labels, not paths).
    pub attributes: Vec<String>,
    /// The guard's word on the whole plan, when it is not a plain go-ahead.
    pub note: Option<String>,
}

impl ExplanationText {
    /// Said when the next sync changes nothing for the user.
    pub const NO_CHANGES: &'static str = "no changes";
}

impl Explanation {
    /// The explanation in words (see [`ExplanationText`]).
    #[must_use]
    pub fn text(&self) -> ExplanationText {
        ExplanationText {
            okta: self.okta.as_ref().map_or_else(
                || "no user with this login".to_owned(),
                |o| format!("{} ({}), status {}", o.login, o.id, o.status.as_str()),
            ),
            status: self.status.clone(),
            mapped_username: self.mapped_username.as_ref().map(|m| match m {
                MappedUsername::Usable { username } => username.clone(),
                MappedUsername::Unusable { problem } => format!("unusable ({problem})"),
            }),
            scope: format!(
                "{}: {}",
                if self.in_scope {
                    "in scope"
                } else {
                    "out of scope"
                },
                self.scope
            ),
            target: self
                .target
                .as_ref()
                .map_or_else(|| "no such user".to_owned(), target_text),
            skipped: self.skipped.as_ref().map(ToString::to_string),
            next_sync: self
                .ops
                .iter()
                .map(|p| format!("{} [{}]", p.op, p.rule))
                .collect(),
            groups: self.group_notes.clone(),
            attributes: self.attributes.clone(),
            note: match &self.guard {
                Guard::Proceed => None,
                Guard::Partial { reasons, .. } => Some(format!(
                    "the Okta read was incomplete ({}); nothing destructive is planned",
                    reasons.join("; ")
                )),
                Guard::Held { reasons } => Some(format!(
                    "the plan would be held for approval ({})",
                    reasons.join("; ")
                )),
            },
        }
    }
}

fn target_text(t: &TargetSide) -> String {
    let state = if t.active { "active" } else { "inactive" };
    let owner = if t.linked {
        "linked to Okta"
    } else {
        "not linked"
    };
    let ro = if t.managed_elsewhere {
        ", read-only directory"
    } else {
        ""
    };
    format!("{} ({}), {state}, {owner}{ro}", t.username, t.display_name)
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text();
        writeln!(f, "User {}", self.login)?;
        writeln!(f, "  Okta: {}", text.okta)?;
        if let Some(status) = &text.status {
            writeln!(f, "  Status: {status}")?;
        }
        if let Some(name) = &text.mapped_username {
            writeln!(f, "  Mapped username: {name}")?;
        }
        writeln!(f, "  Scope: {}", text.scope)?;
        writeln!(f, "  Target: {}", text.target)?;
        if let Some(reason) = &text.skipped {
            writeln!(f, "  Skipped: {reason}")?;
        }
        if text.next_sync.is_empty() {
            writeln!(f, "  Next sync: {}", ExplanationText::NO_CHANGES)?;
        } else {
            writeln!(f, "  Next sync:")?;
            for op in &text.next_sync {
                writeln!(f, "    - {op}")?;
            }
        }
        for note in &text.groups {
            writeln!(f, "  Group: {note}")?;
        }
        for line in &text.attributes {
            writeln!(f, "  Attributes: {line}")?;
        }
        if let Some(note) = &text.note {
            writeln!(f, "  Note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::mapping::{CompiledPolicy, TargetConstraints};
    use crate::plan::PlanOptions;
    use crate::plan::tests::World;
    use crate::snapshot::OktaStatus;

    #[test]
    fn explain_says_state_mapping_scope_and_the_planned_ops_with_rules() {
        let mut world = World::new()
            .synced_user("u1", "alice@x.org")
            .okta_group("g1", "devs", &[])
            .target_group("devs", &["alice"])
            .link_group("g1", "devs", true);
        world.okta.users[0].status = OktaStatus::Suspended;
        let policy = CompiledPolicy::compile(&world.policy).unwrap();
        let options = PlanOptions::full(TargetConstraints::jira(), None);
        let e = super::explain(
            "ALICE@x.org",
            &world.okta,
            &world.target,
            &world.links,
            &policy,
            &options,
        );
        assert_eq!(
            e.to_string(),
            "User ALICE@x.org\n  Okta: alice@x.org (u1), status SUSPENDED\n  Status: SUSPENDED counts as inactive; not imported: not in Import users with these Okta statuses (Scope)\n  Mapped username: alice\n  Scope: in scope: every Okta user is in scope, as Only members of (Scope) is empty\n  Target: alice (alice Doe), active, linked to Okta\n  Next sync:\n    - remove alice from group devs [Membership from Okta group devs]\n    - deactivate user alice [Enable/Disable Users: SUSPENDED in Okta]\n  Attributes: display name \"alice Doe\": firstName lastName, as Display name attribute (Username mapping) \"displayName\" has no value for this user\n  Attributes: e-mail \"alice@x.org\": from E-mail attribute (Username mapping) \"email\"\n"
        );
        let by_username = super::explain(
            "alice",
            &world.okta,
            &world.target,
            &world.links,
            &policy,
            &options,
        );
        assert_eq!(by_username.ops, e.ops);
        let nobody = super::explain(
            "zed@x.org",
            &world.okta,
            &world.target,
            &world.links,
            &policy,
            &options,
        );
        assert!(nobody.okta.is_none() && nobody.target.is_none() && nobody.ops.is_empty());
    }

    #[test]
    fn explain_says_when_a_group_of_the_user_was_renamed_in_okta_and_kept() {
        let world = World::new()
            .synced_user("u1", "alice@x.org")
            .synced_user("u2", "bob@x.org")
            .okta_group("g1", "engineers", &["u1"])
            .target_group("devs", &["alice"])
            .link_group("g1", "devs", true);
        let policy = CompiledPolicy::compile(&world.policy).unwrap();
        let options = PlanOptions::full(TargetConstraints::jira(), None);
        let explain = |login: &str| {
            super::explain(
                login,
                &world.okta,
                &world.target,
                &world.links,
                &policy,
                &options,
            )
        };
        let text = explain("alice@x.org").to_string();
        assert!(
            text.contains(
                "  Group: Okta group \"engineers\" (g1) was renamed in Okta to engineers; kept as devs"
            ),
            "{text}"
        );
        assert!(
            explain("bob@x.org").group_notes.is_empty(),
            "bob is not in the group"
        );
    }

    #[test]
    fn explain_names_the_mapping_rule_of_a_group_and_the_setting_of_the_display_name() {
        let mut world = World::new()
            .synced_user("u1", "alice@x.org")
            .okta_group("g1", "Engineering", &["u1"])
            .target_group("jira-software-users", &[])
            .policy(|p| {
                p.group_map = vec![crate::policy::GroupMapRule {
                    okta_group_id: "g1".into(),
                    okta_group_name: "Engineering".into(),
                    target_group: "jira-software-users".into(),
                }];
                p.scope.group_exclude = Some(".*".into());
                p.attributes.display_name = "{lastName}, {firstName}".into();
            });
        world.okta.users[0]
            .profile
            .insert("lastName".into(), "Lovelace".into());
        let policy = CompiledPolicy::compile(&world.policy).unwrap();
        let options = PlanOptions::full(TargetConstraints::jira(), None);
        let text = super::explain(
            "alice@x.org",
            &world.okta,
            &world.target,
            &world.links,
            &policy,
            &options,
        )
        .to_string();
        assert!(
            text.contains("    - add alice to group jira-software-users [Group mapping group_map[0]: Okta group \"Engineering\" (g1) -> jira-software-users]"),
            "{text}"
        );
        assert!(
            text.contains("    - update user alice: display name \"alice Doe\" -> \"Lovelace, alice\" [Update Users"),
            "{text}"
        );
        assert!(
            text.contains("  Attributes: display name \"Lovelace, alice\": from Display name attribute (Username mapping) \"{lastName}, {firstName}\""),
            "{text}"
        );
    }
}
