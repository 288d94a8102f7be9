//! The target as far as some users are concerned, for the runs that read no more
//! of it (a single-user sync, a SCIM push, an incremental cycle): the users'
//! accounts, looked up under their mapped and linked usernames, with their groups;
//! as existing groups also the linked groups and the default groups (the target's
//! group list is not read).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use futures::StreamExt as _;
use usersync_core::{
    GroupName, Links, OktaUser, TargetGroup, TargetSnapshot, TargetUser, Username,
};

use super::prepared::Connected;
use super::user::clock;

/// One account found in the target, with its groups.
pub(crate) type AccountRead = (TargetUser, Vec<GroupName>);

/// Target accounts looked up at once.
const TARGET_LOOKUPS_IN_FLIGHT: usize = 8;

/// The username the mapping gives `user`, when it is valid for the target.
pub(crate) fn mapped_username(prepared: &Connected, user: &OktaUser) -> Option<Username> {
    prepared
        .conns
        .constraints()
        .username(&prepared.policy.map_login(&user.login))
        .ok()
}

/// The usernames under which `user` may be in the target: mapped and linked.
pub(crate) fn target_names(prepared: &Connected, user: &OktaUser, links: &Links) -> Vec<Username> {
    let mut names: Vec<Username> = mapped_username(prepared, user).into_iter().collect();
    if let Some(link) = links.users.get(&user.id)
        && !names.contains(&link.username)
    {
        names.push(link.username.clone());
    }
    names
}

/// The target as far as the accounts `names` are concerned: each found account with
/// its groups, plus the linked groups and the default groups (the incremental
/// cycle's view of the target). Each lookup is told in `sources`, for Explain.
pub(crate) async fn read_target_accounts(
    prepared: &Connected,
    names: Vec<Username>,
    links: &Links,
    sources: &mut Vec<String>,
) -> anyhow::Result<TargetSnapshot> {
    let accounts = read_accounts(prepared, names, sources).await?;
    Ok(target_view(prepared, links, accounts))
}

/// Each of the accounts `names` found in the target, with its groups, once each.
/// Each lookup is told in `sources`, for Explain.
pub(crate) async fn read_accounts(
    prepared: &Connected,
    names: Vec<Username>,
    sources: &mut Vec<String>,
) -> anyhow::Result<Vec<AccountRead>> {
    let target = &prepared.conns.target;
    let unique: BTreeSet<Username> = names.into_iter().collect();
    // Accounts are looked up a few at a time: a cycle may ask for hundreds.
    let found: Vec<anyhow::Result<(Username, Option<AccountRead>)>> = futures::stream::iter(unique)
        .map(|name| async move {
            let Some(found) = target
                .find_user(&name)
                .await
                .with_context(|| format!("looking up {name} in the target"))?
            else {
                return Ok((name, None));
            };
            let groups = target
                .user_groups(&found.username)
                .await
                .with_context(|| format!("reading the groups of {name}"))?;
            Ok((name, Some((found, groups))))
        })
        .buffered(TARGET_LOOKUPS_IN_FLIGHT)
        .collect()
        .await;
    let mut seen = BTreeSet::new();
    let mut accounts = Vec::new();
    for read in found {
        let (name, read) = read?;
        let Some((found, user_groups)) = read else {
            sources.push(format!(
                "Target account {name}: looked up at {}, not found",
                clock()
            ));
            continue;
        };
        sources.push(format!(
            "Target account {name}: looked up at {}, found with {} group(s)",
            clock(),
            user_groups.len()
        ));
        if seen.insert(found.username.clone()) {
            accounts.push((found, user_groups));
        }
    }
    Ok(accounts)
}

/// The target as usersync sees it from `accounts`: the accounts with their groups,
/// and as existing groups also the linked groups (of `links`) and the default groups.
pub(crate) fn target_view(
    prepared: &Connected,
    links: &Links,
    accounts: Vec<AccountRead>,
) -> TargetSnapshot {
    let mut current = TargetSnapshot::default();
    let mut groups: BTreeSet<GroupName> = links
        .groups
        .values()
        .map(|l| l.target_name.clone())
        .collect();
    groups.extend(prepared.policy.default_groups_new_users().iter().cloned());
    groups.extend(prepared.policy.default_groups_all_users().iter().cloned());
    let mut memberships: BTreeMap<GroupName, BTreeSet<Username>> = BTreeMap::new();
    for (found, user_groups) in accounts {
        for group in user_groups {
            memberships
                .entry(group.clone())
                .or_default()
                .insert(found.username.clone());
            groups.insert(group);
        }
        current.users.push(found);
    }
    current.groups = groups
        .into_iter()
        .map(|name| TargetGroup {
            name,
            managed_elsewhere: false,
        })
        .collect();
    current.memberships = memberships;
    current
}
