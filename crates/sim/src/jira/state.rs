//! The Jira emulator's data: users, groups, memberships, the two directories,
//! and the rules Jira applies when they change.
//!
//! Names are matched case-insensitively (Jira's embedded Crowd folds them) but
//! keep the spelling they were created with. Every user has an immutable key:
//! `JIRAUSER10100`-style from 8.4 on (Jira's GDPR change), the lower-cased
//! username before. Users and groups of the read-only "LDAP" directory cannot be
//! changed; protected accounts (the admin) cannot be deactivated, renamed or deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::version::JiraVersion;
use super::wire::JiraError;

/// Which directory a user or group lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Directory {
    /// Jira Internal Directory (id 1): writable.
    Internal,
    /// A read-only LDAP directory (id 10000): nothing in it can be changed through Jira.
    Ldap,
}

/// One stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// Creation order; the `/user/list` cursor is built from it.
    pub id: u64,
    pub key: String,
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
    pub directory: Directory,
    pub password: Option<String>,
    pub application_keys: Vec<String>,
    pub protected: bool,
}

/// One stored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimGroup {
    pub name: String,
    pub directory: Directory,
}

/// What a create asks for.
#[derive(Debug, Clone, Default)]
pub struct UserDraft {
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub password: Option<String>,
    pub application_keys: Vec<String>,
    pub active: bool,
}

/// What an update asks for; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub active: Option<bool>,
}

/// Everything the emulator holds.
#[derive(Debug)]
pub struct JiraState {
    pub version: JiraVersion,
    users: BTreeMap<u64, SimUser>,
    by_name: HashMap<String, u64>,
    by_key: HashMap<String, u64>,
    groups: BTreeMap<String, SimGroup>,
    /// Folded group name to the ids of its members.
    members: HashMap<String, BTreeSet<u64>>,
    next_id: u64,
}

fn fold(name: &str) -> String {
    name.to_lowercase()
}

fn read_only_user(name: &str) -> JiraError {
    JiraError::bad_request(format!(
        "Cannot update user '{name}': the user directory is read-only."
    ))
}

impl JiraState {
    #[must_use]
    pub fn new(version: JiraVersion) -> Self {
        Self {
            version,
            users: BTreeMap::new(),
            by_name: HashMap::new(),
            by_key: HashMap::new(),
            groups: BTreeMap::new(),
            members: HashMap::new(),
            next_id: 0,
        }
    }

    pub fn users(&self) -> impl Iterator<Item = &SimUser> {
        self.users.values()
    }

    /// Users with an id above `after`, in id order (the `/user/list` stream).
    pub fn users_after(&self, after: u64) -> impl Iterator<Item = &SimUser> {
        self.users.range(after + 1..).map(|(_, u)| u)
    }

    pub fn groups(&self) -> impl Iterator<Item = &SimGroup> {
        self.groups.values()
    }

    #[must_use]
    pub fn user(&self, name: &str) -> Option<&SimUser> {
        self.by_name
            .get(&fold(name))
            .and_then(|id| self.users.get(id))
    }

    #[must_use]
    pub fn user_by_key(&self, key: &str) -> Option<&SimUser> {
        self.by_key.get(key).and_then(|id| self.users.get(id))
    }

    #[must_use]
    pub fn group(&self, name: &str) -> Option<&SimGroup> {
        self.groups.get(&fold(name))
    }

    /// Members of a group, sorted by username.
    #[must_use]
    pub fn members(&self, group: &str) -> Vec<&SimUser> {
        let mut out: Vec<&SimUser> = self
            .members
            .get(&fold(group))
            .into_iter()
            .flatten()
            .filter_map(|id| self.users.get(id))
            .collect();
        out.sort_by_key(|u| fold(&u.name));
        out
    }

    /// Names of the groups a user belongs to, sorted.
    #[must_use]
    pub fn groups_of(&self, user: &SimUser) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(folded, _)| {
                self.members
                    .get(*folded)
                    .is_some_and(|m| m.contains(&user.id))
            })
            .map(|(_, g)| g.name.clone())
            .collect()
    }

    /// Creates a user in `directory`, enforcing Jira's validation.
    ///
    /// # Errors
    /// 400 with Jira's field errors for a missing field or a taken username.
    pub fn create_user(
        &mut self,
        draft: UserDraft,
        directory: Directory,
    ) -> Result<&SimUser, JiraError> {
        let mut errors = BTreeMap::new();
        if draft.name.trim().is_empty() {
            errors.insert("username", "You must specify a username.");
        } else if self.user(&draft.name).is_some() {
            errors.insert("username", "A user with that username already exists.");
        }
        if draft.email.trim().is_empty() {
            errors.insert("email", "You must specify an email address.");
        } else if !draft.email.contains('@') {
            errors.insert("email", "You must specify a valid email address.");
        }
        if draft.display_name.trim().is_empty() {
            errors.insert("fullname", "You must specify a full name.");
        }
        if !errors.is_empty() {
            return Err(JiraError::fields(errors));
        }
        self.next_id += 1;
        let id = self.next_id;
        let key = if self.version.at_least(8, 4) {
            format!("JIRAUSER{}", 10_000 + id)
        } else {
            fold(&draft.name)
        };
        let user = SimUser {
            id,
            key: key.clone(),
            name: draft.name.clone(),
            display_name: draft.display_name,
            email: draft.email,
            active: draft.active,
            directory,
            password: draft.password,
            application_keys: draft.application_keys,
            protected: false,
        };
        self.by_name.insert(fold(&draft.name), id);
        self.by_key.insert(key, id);
        self.users.insert(id, user);
        Ok(&self.users[&id])
    }

    /// Marks a user as protected (cannot be deactivated, renamed or deleted).
    pub fn protect(&mut self, name: &str) {
        if let Some(u) = self
            .by_name
            .get(&fold(name))
            .and_then(|id| self.users.get_mut(id))
        {
            u.protected = true;
        }
    }

    fn writable_user_id(&self, key: &str) -> Result<u64, JiraError> {
        let id = *self
            .by_key
            .get(key)
            .ok_or_else(|| JiraError::not_found("The user does not exist."))?;
        let user = &self.users[&id];
        if user.directory == Directory::Ldap {
            return Err(read_only_user(&user.name));
        }
        Ok(id)
    }

    /// Applies an update to the user with `key`.
    ///
    /// # Errors
    /// 400 for a read-only directory, a protected account, a taken name, or nothing to change.
    pub fn update_user(&mut self, key: &str, patch: UserPatch) -> Result<&SimUser, JiraError> {
        let id = self.writable_user_id(key)?;
        let current = self.users[&id].clone();
        let rename = patch
            .name
            .filter(|n| *n != current.name)
            .filter(|n| !n.trim().is_empty());
        let deactivate = patch.active == Some(false) && current.active;
        if current.protected && (deactivate || rename.is_some()) {
            return Err(JiraError::bad_request(format!(
                "You cannot change the user '{}': it is a protected system administrator account.",
                current.name
            )));
        }
        if let Some(new) = &rename
            && self.user(new).is_some_and(|u| u.id != id)
        {
            return Err(JiraError::field(
                "username",
                "A user with that username already exists.",
            ));
        }
        if rename.is_none()
            && patch.display_name.is_none()
            && patch.email.is_none()
            && patch.active.is_none()
        {
            return Err(JiraError::messages(["error.no.value.found.to.be.changed"]));
        }
        let Some(user) = self.users.get_mut(&id) else {
            return Err(JiraError::not_found(format!(
                "The user with key '{key}' does not exist"
            )));
        };
        if let Some(new) = rename {
            self.by_name.remove(&fold(&user.name));
            self.by_name.insert(fold(&new), id);
            user.name = new;
        }
        if let Some(d) = patch.display_name {
            user.display_name = d;
        }
        if let Some(e) = patch.email {
            user.email = e;
        }
        if let Some(a) = patch.active {
            user.active = a;
        }
        Ok(&self.users[&id])
    }

    /// Deletes the user with `key` and its memberships.
    ///
    /// # Errors
    /// 400 for a read-only directory or a protected account.
    pub fn delete_user(&mut self, key: &str) -> Result<(), JiraError> {
        let id = self.writable_user_id(key)?;
        let user = self.users[&id].clone();
        if user.protected {
            return Err(JiraError::bad_request(format!(
                "You cannot delete the user '{}': it is a protected system administrator account.",
                user.name
            )));
        }
        self.users.remove(&id);
        self.by_name.remove(&fold(&user.name));
        self.by_key.remove(&user.key);
        for set in self.members.values_mut() {
            set.remove(&id);
        }
        Ok(())
    }

    /// Creates a group.
    ///
    /// # Errors
    /// 400 when a group of that name exists.
    pub fn create_group(
        &mut self,
        name: &str,
        directory: Directory,
    ) -> Result<&SimGroup, JiraError> {
        if name.trim().is_empty() {
            return Err(JiraError::field("name", "You must specify a group name."));
        }
        if self.group(name).is_some() {
            return Err(JiraError::field(
                "groupName",
                "A group or user with this name already exists.",
            ));
        }
        self.groups.insert(
            fold(name),
            SimGroup {
                name: name.to_owned(),
                directory,
            },
        );
        Ok(&self.groups[&fold(name)])
    }

    /// The group named `name` (any case), or Jira's 404 for a missing group.
    ///
    /// # Errors
    /// 404 when there is no such group.
    pub fn existing_group(&self, name: &str) -> Result<&SimGroup, JiraError> {
        self.group(name)
            .ok_or_else(|| JiraError::not_found(format!("Specified group does not exist: {name}")))
    }

    /// Deletes a group (its memberships go with it).
    ///
    /// # Errors
    /// 404 when missing, 400 for a read-only directory.
    pub fn delete_group(&mut self, name: &str) -> Result<(), JiraError> {
        if self.existing_group(name)?.directory == Directory::Ldap {
            return Err(JiraError::bad_request(format!(
                "Cannot delete group '{name}': the group directory is read-only."
            )));
        }
        self.groups.remove(&fold(name));
        self.members.remove(&fold(name));
        Ok(())
    }

    /// Checks a membership change is allowed and returns (folded group, user id).
    fn membership_target(&self, group: &str, user: &str) -> Result<(String, u64), JiraError> {
        let g = self.existing_group(group)?;
        let u = self.user(user).ok_or_else(|| {
            JiraError::not_found(format!("The user named '{user}' does not exist"))
        })?;
        if g.directory == Directory::Ldap || u.directory == Directory::Ldap {
            return Err(JiraError::bad_request(format!(
                "Cannot change the membership of '{}' in group '{}': the directory is read-only.",
                u.name, g.name
            )));
        }
        Ok((fold(group), u.id))
    }

    /// Adds a member.
    ///
    /// # Errors
    /// 404 for a missing user or group, 400 for a read-only directory or an existing membership.
    pub fn add_member(&mut self, group: &str, user: &str) -> Result<(), JiraError> {
        let (folded, id) = self.membership_target(group, user)?;
        if !self.members.entry(folded).or_default().insert(id) {
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
        if !self.members.entry(folded).or_default().remove(&id) {
            return Err(JiraError::not_found(format!(
                "User '{user}' is not a member of group '{group}'."
            )));
        }
        Ok(())
    }

    /// Adds a membership in any directory (for seeding the LDAP directory).
    pub fn seed_member(&mut self, group: &str, user: &str) -> Result<(), JiraError> {
        self.existing_group(group)?;
        let id = self
            .user(user)
            .ok_or_else(|| JiraError::not_found(format!("no user {user}")))?
            .id;
        self.members.entry(fold(group)).or_default().insert(id);
        Ok(())
    }
}
