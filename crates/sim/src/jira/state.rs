//! The Jira emulator's data: users, groups, memberships, the two directories,
//! and the rules Jira applies when they change.
//!
//! Names are matched case-insensitively (Jira's embedded Crowd folds them) but
//! keep the spelling they were created with. Every user has an immutable key:
//! `JIRAUSER10100`-style from 8.4 on (Jira's GDPR change), the lower-cased
//! username before. Users and groups of the read-only "LDAP" directory cannot be
//! changed; protected accounts (the admin) cannot be deactivated, renamed or deleted.
//!
//! Every request finds what it needs through an index, never by walking all users
//! or groups: a 100,000-user org answers a write in the time a 10-user one does.
//! Memberships and their indexes live in [`super::members`].

use std::collections::{BTreeMap, HashMap};

use super::members::{GroupEntry, Memberships};
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
    /// Users by id: slot `id - 1` (ids only grow; a deleted user leaves `None`).
    users: Vec<Option<SimUser>>,
    /// Folded username to id, in folded order (the order searches answer in).
    by_name: BTreeMap<String, u64>,
    by_key: HashMap<String, u64>,
    /// Groups by folded name, with their members.
    pub(super) groups: BTreeMap<String, GroupEntry>,
    /// Which groups each user is in.
    pub(super) memberships: Memberships,
    /// `by_name`'s ids as a list, so a search page starts where it starts
    /// without walking the users before it; `None` after a change.
    name_order: Option<Vec<u64>>,
    next_id: u64,
    /// Licence seats per application key (`roles`); absent: unlimited.
    pub application_seats: BTreeMap<String, u32>,
}

pub(super) fn fold(name: &str) -> String {
    name.to_lowercase()
}

fn slot(id: u64) -> usize {
    usize::try_from(id).map_or(usize::MAX, |i| i.saturating_sub(1))
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
            users: Vec::new(),
            by_name: BTreeMap::new(),
            by_key: HashMap::new(),
            groups: BTreeMap::new(),
            memberships: Memberships::default(),
            name_order: None,
            next_id: 0,
            application_seats: BTreeMap::new(),
        }
    }

    /// Every user, in id (creation) order.
    pub fn users(&self) -> impl Iterator<Item = &SimUser> {
        self.users.iter().flatten()
    }

    /// Makes [`JiraState::users_by_name`] cheap until the next change of a username.
    pub fn index_names(&mut self) {
        if self.name_order.is_none() {
            self.name_order = Some(self.by_name.values().copied().collect());
        }
    }

    /// The users from the `start`th on, in the order of their lower-cased
    /// usernames; after [`JiraState::index_names`] the ones before are not walked.
    pub fn users_by_name(&self, start: usize) -> Box<dyn Iterator<Item = &SimUser> + '_> {
        let by_id = |id: &u64| self.by_id(*id);
        match &self.name_order {
            Some(ids) => Box::new(
                ids.get(start..)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(by_id),
            ),
            None => Box::new(self.by_name.values().skip(start).filter_map(by_id)),
        }
    }

    /// Users with an id above `after`, in id order (the `/user/list` stream).
    pub fn users_after(&self, after: u64) -> impl Iterator<Item = &SimUser> {
        let from = usize::try_from(after).unwrap_or(usize::MAX);
        self.users.get(from..).into_iter().flatten().flatten()
    }

    /// Every group, in the order of their lower-cased names.
    pub fn groups(&self) -> impl Iterator<Item = &SimGroup> {
        self.groups.values().map(|e| &e.group)
    }

    /// Every group with its lower-cased name, in that name's order.
    pub fn groups_folded(&self) -> impl Iterator<Item = (&str, &SimGroup)> {
        self.groups.iter().map(|(k, e)| (k.as_str(), &e.group))
    }

    pub(super) fn by_id(&self, id: u64) -> Option<&SimUser> {
        self.users.get(slot(id)).and_then(Option::as_ref)
    }

    fn by_id_mut(&mut self, id: u64) -> Option<&mut SimUser> {
        self.users.get_mut(slot(id)).and_then(Option::as_mut)
    }

    #[must_use]
    pub fn user(&self, name: &str) -> Option<&SimUser> {
        self.by_name.get(&fold(name)).and_then(|id| self.by_id(*id))
    }

    #[must_use]
    pub fn user_by_key(&self, key: &str) -> Option<&SimUser> {
        self.by_key.get(key).and_then(|id| self.by_id(*id))
    }

    #[must_use]
    pub fn group(&self, name: &str) -> Option<&SimGroup> {
        self.groups.get(&fold(name)).map(|e| &e.group)
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
        self.by_name.insert(fold(&draft.name), id);
        self.by_key.insert(key.clone(), id);
        self.name_order = None;
        let user = SimUser {
            id,
            key,
            name: draft.name,
            display_name: draft.display_name,
            email: draft.email,
            active: draft.active,
            directory,
            password: draft.password,
            application_keys: draft.application_keys,
            protected: false,
        };
        // Ids only grow, so the new user's slot is always the next one.
        self.users.resize(slot(id), None);
        self.users.push(Some(user));
        Ok(self.users[slot(id)].as_ref().expect("just stored"))
    }

    /// Marks a user as protected (cannot be deactivated, renamed or deleted).
    pub fn protect(&mut self, name: &str) {
        if let Some(&id) = self.by_name.get(&fold(name))
            && let Some(u) = self.by_id_mut(id)
        {
            u.protected = true;
        }
    }

    fn writable_user(&self, key: &str) -> Result<&SimUser, JiraError> {
        let user = self
            .user_by_key(key)
            .ok_or_else(|| JiraError::not_found("The user does not exist."))?;
        if user.directory == Directory::Ldap {
            return Err(read_only_user(&user.name));
        }
        Ok(user)
    }

    /// Applies an update to the user with `key`.
    ///
    /// # Errors
    /// 400 for a read-only directory, a protected account, a taken name, or nothing to change.
    pub fn update_user(&mut self, key: &str, patch: UserPatch) -> Result<&SimUser, JiraError> {
        let current = self.writable_user(key)?;
        let (id, was_active) = (current.id, current.active);
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
        if let Some(new) = &rename {
            let old = fold(&current.name);
            self.by_name.remove(&old);
            self.by_name.insert(fold(new), id);
            self.name_order = None;
            self.members_renamed(id);
        }
        if let Some(active) = patch.active
            && active != was_active
        {
            self.members_activated(id, active);
        }
        let user = self.by_id_mut(id).ok_or_else(|| {
            JiraError::not_found(format!("The user with key '{key}' does not exist"))
        })?;
        if let Some(new) = rename {
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
        Ok(user)
    }

    /// Deletes the user with `key` and its memberships.
    ///
    /// # Errors
    /// 400 for a read-only directory or a protected account.
    pub fn delete_user(&mut self, key: &str) -> Result<(), JiraError> {
        let user = self.writable_user(key)?;
        if user.protected {
            return Err(JiraError::bad_request(format!(
                "You cannot delete the user '{}': it is a protected system administrator account.",
                user.name
            )));
        }
        let (id, name, key) = (user.id, fold(&user.name), user.key.clone());
        self.members_deleted(id);
        self.by_name.remove(&name);
        self.by_key.remove(&key);
        self.name_order = None;
        if let Some(s) = self.users.get_mut(slot(id)) {
            *s = None;
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
        let group = SimGroup {
            name: name.to_owned(),
            directory,
        };
        let entry = self
            .groups
            .entry(fold(name))
            .or_insert_with(|| GroupEntry::new(group));
        Ok(&entry.group)
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
        let folded = fold(name);
        if let Some(entry) = self.groups.remove(&folded) {
            self.memberships.forget_group(&folded, entry.member_ids());
        }
        Ok(())
    }
}
