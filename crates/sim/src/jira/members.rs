//! Group memberships in the Jira emulator, and the indexes that keep every
//! membership request independent of the org's size.
//!
//! Each group keeps its member ids, a running count of its active members (the
//! `size` a membership write answers with) and, once someone reads it, its
//! members sorted by username: rebuilt only after a change, so paging through a
//! group costs one sort, not one per page. Each user keeps the names of their
//! groups, so a user's groups, and what a rename, deactivation or delete touches,
//! are found without walking every group.

use std::collections::{BTreeSet, HashMap};

use super::state::{Directory, JiraState, SimGroup, SimUser, fold};
use super::wire::JiraError;

/// One group with its members.
#[derive(Debug)]
pub struct GroupEntry {
    pub group: SimGroup,
    members: BTreeSet<u64>,
    /// How many of `members` are active.
    active: usize,
    /// `members` sorted by lower-cased username; `None` after a change.
    sorted: Option<Vec<u64>>,
}

impl GroupEntry {
    pub fn new(group: SimGroup) -> Self {
        Self {
            group,
            members: BTreeSet::new(),
            active: 0,
            sorted: None,
        }
    }

    pub fn member_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.members.iter().copied()
    }
}

/// User id to the lower-cased names of the groups they are in.
#[derive(Debug, Default)]
pub struct Memberships(HashMap<u64, BTreeSet<String>>);

impl Memberships {
    /// Drops a deleted group from its members' lists.
    pub fn forget_group(&mut self, folded: &str, members: impl Iterator<Item = u64>) {
        for id in members {
            if let Some(groups) = self.0.get_mut(&id) {
                groups.remove(folded);
            }
        }
    }

    fn of(&self, id: u64) -> impl Iterator<Item = &String> {
        self.0.get(&id).into_iter().flatten()
    }
}

/// One page of a group's members and how many there are in all.
pub struct MemberPage<'s> {
    pub total: usize,
    pub users: Vec<&'s SimUser>,
}

impl JiraState {
    /// Names of the groups a user belongs to, sorted (case-insensitively).
    #[must_use]
    pub fn groups_of(&self, user: &SimUser) -> Vec<String> {
        self.memberships
            .of(user.id)
            .filter_map(|g| self.groups.get(g))
            .map(|e| e.group.name.clone())
            .collect()
    }

    /// Whether the user with `id` is in `group` (any case).
    #[must_use]
    pub fn is_member(&self, group: &str, id: u64) -> bool {
        self.groups
            .get(&fold(group))
            .is_some_and(|e| e.members.contains(&id))
    }

    /// How many active members a group has (0 for a missing group).
    #[must_use]
    pub fn active_member_count(&self, group: &str) -> usize {
        self.groups.get(&fold(group)).map_or(0, |e| e.active)
    }

    /// Sorts a group's members by username unless that is already done.
    fn sort_members(&mut self, folded: &str) {
        let Some(entry) = self.groups.get(folded) else {
            return;
        };
        if entry.sorted.is_some() {
            return;
        }
        let mut ids: Vec<u64> = entry.members.iter().copied().collect();
        ids.sort_by_cached_key(|id| self.by_id(*id).map(|u| fold(&u.name)));
        if let Some(entry) = self.groups.get_mut(folded) {
            entry.sorted = Some(ids);
        }
    }

    /// Members of a group, sorted by username.
    pub fn members(&mut self, group: &str) -> Vec<&SimUser> {
        self.member_page(group, true, 0, usize::MAX).users
    }

    /// Up to `max` members of a group from `start`, sorted by username, and the
    /// count of all of them; inactive ones only when `inactive`.
    pub fn member_page(
        &mut self,
        group: &str,
        inactive: bool,
        start: usize,
        max: usize,
    ) -> MemberPage<'_> {
        let folded = fold(group);
        self.sort_members(&folded);
        let Some(entry) = self.groups.get(&folded) else {
            return MemberPage {
                total: 0,
                users: Vec::new(),
            };
        };
        let sorted = entry.sorted.as_deref().unwrap_or_default();
        let users = |ids: &[u64]| -> Vec<&SimUser> {
            ids.iter().filter_map(|id| self.by_id(*id)).collect()
        };
        if inactive {
            let from = start.min(sorted.len());
            let to = from.saturating_add(max).min(sorted.len());
            MemberPage {
                total: sorted.len(),
                users: users(&sorted[from..to]),
            }
        } else {
            let page = sorted
                .iter()
                .filter_map(|id| self.by_id(*id))
                .filter(|u| u.active)
                .skip(start)
                .take(max)
                .collect();
            MemberPage {
                total: entry.active,
                users: page,
            }
        }
    }

    /// Checks a membership change is allowed and returns (folded group, user id).
    fn membership_target(&self, group: &str, user: &str) -> Result<(String, u64), JiraError> {
        let g = self.existing_group(group)?;
        let u = self.user(user).ok_or_else(|| {
            JiraError::not_found(format!("The user named '{user}' does not exist"))
        })?;
        // Memberships live with the group: a user of a read-only directory may join a
        // group of a writable one ("Read Only, with Local Groups"); the read-only
        // directory's own groups cannot be changed.
        if g.directory == Directory::Ldap {
            return Err(JiraError::bad_request(format!(
                "Cannot change the membership of '{}' in group '{}': the directory is read-only.",
                u.name, g.name
            )));
        }
        Ok((fold(group), u.id))
    }

    /// Records a membership; false when it already existed.
    fn join(&mut self, folded: &str, id: u64) -> bool {
        let active = self.by_id(id).is_some_and(|u| u.active);
        let Some(entry) = self.groups.get_mut(folded) else {
            return false;
        };
        if !entry.members.insert(id) {
            return false;
        }
        entry.active += usize::from(active);
        entry.sorted = None;
        self.memberships
            .0
            .entry(id)
            .or_default()
            .insert(folded.to_owned());
        true
    }

    /// Ends a membership; false when there was none.
    fn leave(&mut self, folded: &str, id: u64) -> bool {
        let active = self.by_id(id).is_some_and(|u| u.active);
        let Some(entry) = self.groups.get_mut(folded) else {
            return false;
        };
        if !entry.members.remove(&id) {
            return false;
        }
        entry.active -= usize::from(active);
        entry.sorted = None;
        if let Some(groups) = self.memberships.0.get_mut(&id) {
            groups.remove(folded);
        }
        true
    }

    /// Adds a member.
    ///
    /// # Errors
    /// 404 for a missing user or group, 400 for a read-only directory or an existing membership.
    pub fn add_member(&mut self, group: &str, user: &str) -> Result<(), JiraError> {
        let (folded, id) = self.membership_target(group, user)?;
        if !self.join(&folded, id) {
            let g = self.existing_group(group)?;
            return Err(JiraError::bad_request(format!(
                "Cannot add user. User is already a member of '{}'",
                g.name
            )));
        }
        Ok(())
    }

    /// Removes a member.
    ///
    /// # Errors
    /// 404 for a missing user, group or membership, 400 for a read-only directory.
    pub fn remove_member(&mut self, group: &str, user: &str) -> Result<(), JiraError> {
        let (folded, id) = self.membership_target(group, user)?;
        if !self.leave(&folded, id) {
            return Err(JiraError::not_found(format!(
                "User '{user}' is not a member of group '{group}'."
            )));
        }
        Ok(())
    }

    /// Adds a membership in any directory (for seeding the LDAP directory).
    ///
    /// # Errors
    /// 404 for a missing user or group.
    pub fn seed_member(&mut self, group: &str, user: &str) -> Result<(), JiraError> {
        self.existing_group(group)?;
        let id = self
            .user(user)
            .ok_or_else(|| JiraError::not_found(format!("no user {user}")))?
            .id;
        self.join(&fold(group), id);
        Ok(())
    }

    /// A member was renamed: the groups they are in must sort again.
    pub(super) fn members_renamed(&mut self, id: u64) {
        for folded in self.memberships.of(id) {
            if let Some(entry) = self.groups.get_mut(folded) {
                entry.sorted = None;
            }
        }
    }

    /// A member was (de)activated: their groups' active counts follow.
    pub(super) fn members_activated(&mut self, id: u64, active: bool) {
        for folded in self.memberships.of(id) {
            if let Some(entry) = self.groups.get_mut(folded) {
                if active {
                    entry.active += 1;
                } else {
                    entry.active -= 1;
                }
            }
        }
    }

    /// A member is being deleted: they leave every group (call before removing the user).
    pub(super) fn members_deleted(&mut self, id: u64) {
        let groups: Vec<String> = self.memberships.of(id).cloned().collect();
        for folded in groups {
            self.leave(&folded, id);
        }
        self.memberships.0.remove(&id);
    }
}
