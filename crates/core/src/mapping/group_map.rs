//! Explicit group mapping (`policy.group_map`), compiled: each rule's Okta group id and
//! target group checked once, with the field and the fix, and indexed by target group
//! for the planner (`plan::mapped`).
//!
//! Rules name Okta groups by id because ids survive renames in Okta; the name in a rule
//! is what the administrator sees beside the id, never what is matched.

use std::collections::BTreeMap;

use crate::ids::{GroupName, OktaGroupId};
use crate::policy::GroupMapRule;

/// At most this many rules per app (a table an administrator can still read).
pub const MAX_RULES: usize = 500;

/// One checked rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedRule {
    /// The rule's position in `policy.group_map` (0-based), for messages.
    pub index: usize,
    pub okta_group_id: OktaGroupId,
    pub okta_group_name: String,
    pub target: GroupName,
}

impl MappedRule {
    /// How plans and `explain` name the rule: `group_map[1] (Okta group 00g1 "Engineering" -> jira-software-users)`.
    #[must_use]
    pub fn describe(&self) -> String {
        let name = if self.okta_group_name.is_empty() {
            String::new()
        } else {
            format!(" {:?}", self.okta_group_name)
        };
        format!(
            "group_map[{}] (Okta group {}{name} -> {})",
            self.index, self.okta_group_id, self.target
        )
    }
}

/// The rules by target group, in the order of their first rule.
#[derive(Debug, Clone, Default)]
pub struct GroupMap {
    pub(crate) rules: Vec<MappedRule>,
    /// Target group -> indexes into `rules`.
    pub(crate) by_target: BTreeMap<GroupName, Vec<usize>>,
}

impl GroupMap {
    /// Every rule, in the policy's order.
    #[must_use]
    pub fn rules(&self) -> &[MappedRule] {
        &self.rules
    }

    /// Whether `group` is the target of a rule.
    #[must_use]
    pub fn targets(&self, group: &GroupName) -> bool {
        self.by_target.contains_key(group)
    }

    /// Each target group with its rules.
    pub fn by_target(&self) -> impl Iterator<Item = (&GroupName, Vec<&MappedRule>)> {
        self.by_target
            .iter()
            .map(|(g, ids)| (g, ids.iter().map(|&i| &self.rules[i]).collect()))
    }
}

/// Checks `rules`, reporting each problem at `group_map[i].field`.
pub(crate) fn compile(rules: &[GroupMapRule], report: &mut impl FnMut(String, String)) -> GroupMap {
    let mut map = GroupMap::default();
    if rules.len() > MAX_RULES {
        report(
            "group_map".into(),
            format!(
                "has {} rules; at most {MAX_RULES} are allowed: map a parent Okta group instead of many",
                rules.len()
            ),
        );
        return map;
    }
    for (i, rule) in rules.iter().enumerate() {
        let Some(checked) = check(i, rule, report) else {
            continue;
        };
        if let Some(earlier) = map
            .rules
            .iter()
            .find(|r| r.okta_group_id == checked.okta_group_id && r.target == checked.target)
        {
            report(
                format!("group_map[{i}]"),
                format!(
                    "repeats group_map[{}] (the same Okta group and target group); remove one",
                    earlier.index
                ),
            );
            continue;
        }
        map.by_target
            .entry(checked.target.clone())
            .or_default()
            .push(map.rules.len());
        map.rules.push(checked);
    }
    map
}

fn check(
    i: usize,
    rule: &GroupMapRule,
    report: &mut impl FnMut(String, String),
) -> Option<MappedRule> {
    let field = |name: &str| format!("group_map[{i}].{name}");
    let id = rule.okta_group_id.trim();
    let okta_group_id = if id.is_empty() {
        report(
            field("okta_group_id"),
            "is empty; give the Okta group's id (e.g. 00g1emaKYZTWRYYRRTSK, the last part of the group's address in Okta's admin console)".into(),
        );
        None
    } else if !id.chars().all(|c| c.is_ascii_alphanumeric()) || id.len() > 64 {
        report(
            field("okta_group_id"),
            format!(
                "{:?} is not an Okta group id (letters and digits, e.g. 00g1emaKYZTWRYYRRTSK); a group's name goes in okta_group_name",
                id.chars().take(80).collect::<String>()
            ),
        );
        None
    } else {
        OktaGroupId::parse(id).ok()
    };
    let name = rule.okta_group_name.trim();
    if name.chars().any(char::is_control) || name.chars().count() > 255 {
        report(
            field("okta_group_name"),
            "must be the Okta group's name: at most 255 characters, no control characters".into(),
        );
    }
    let target = match GroupName::parse(rule.target_group.trim()) {
        Ok(g) => Some(g),
        Err(e) => {
            report(
                field("target_group"),
                format!("{e}; name the target group, e.g. jira-software-users"),
            );
            None
        }
    };
    Some(MappedRule {
        index: i,
        okta_group_id: okta_group_id?,
        okta_group_name: name.to_owned(),
        target: target?,
    })
}
