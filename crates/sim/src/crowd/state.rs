//! The Crowd emulator's directory: users, groups and direct memberships, with the
//! refusals Crowd gives (each a [`CrowdError`] with its `reason` code). Names
//! compare ignoring case, as Crowd's do, and keep the case they were created with.

use std::collections::{BTreeMap, BTreeSet};

use super::wire::CrowdError;

/// A user as the emulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    pub name: String,
    /// `directoryId:uuid`, fixed at creation and kept across renames.
    pub key: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
    /// The password given on create or later set (never sent back).
    pub password: String,
}

/// A group as the emulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimGroup {
    pub name: String,
    pub description: String,
    pub active: bool,
    /// Folded usernames of the direct members.
    pub members: BTreeSet<String>,
}

/// The users and groups of the application's one writable directory.
#[derive(Debug, Default)]
pub struct CrowdState {
    users: BTreeMap<String, SimUser>,
    groups: BTreeMap<String, SimGroup>,
    next_key: u64,
}

fn fold(name: &str) -> String {
    name.to_lowercase()
}

impl CrowdState {
    pub fn user(&self, name: &str) -> Option<&SimUser> {
        self.users.get(&fold(name))
    }

    pub fn group(&self, name: &str) -> Option<&SimGroup> {
        self.groups.get(&fold(name))
    }

    /// Users in name order (Crowd sorts search results by name).
    pub fn users(&self) -> impl Iterator<Item = &SimUser> {
        self.users.values()
    }

    pub fn groups(&self) -> impl Iterator<Item = &SimGroup> {
        self.groups.values()
    }

    pub fn existing_user(&self, name: &str) -> Result<&SimUser, CrowdError> {
        self.user(name)
            .ok_or_else(|| CrowdError::user_not_found(name))
    }

    pub fn existing_group(&self, name: &str) -> Result<&SimGroup, CrowdError> {
        self.group(name)
            .ok_or_else(|| CrowdError::group_not_found(name))
    }

    pub fn create_user(&mut self, mut user: SimUser) -> Result<&SimUser, CrowdError> {
        if user.name.trim().is_empty() {
            return Err(CrowdError::invalid_user("a user must have a name"));
        }
        if self.user(&user.name).is_some() {
            return Err(CrowdError::invalid_user(&format!(
                "User <{}> already exists",
                user.name
            )));
        }
        self.next_key += 1;
        user.key = format!(
            "32769:{:08x}-0000-4000-8000-{:012x}",
            self.next_key, self.next_key
        );
        let key = fold(&user.name);
        Ok(self.users.entry(key).or_insert(user))
    }

    /// Replaces a user's attributes (Crowd's `PUT /user` replaces the whole entity).
    pub fn replace_user(&mut self, name: &str, with: SimUser) -> Result<(), CrowdError> {
        let user = self
            .users
            .get_mut(&fold(name))
            .ok_or_else(|| CrowdError::user_not_found(name))?;
        user.first_name = with.first_name;
        user.last_name = with.last_name;
        user.display_name = with.display_name;
        user.email = with.email;
        user.active = with.active;
        Ok(())
    }

    pub fn set_password(&mut self, name: &str, password: String) -> Result<(), CrowdError> {
        let user = self
            .users
            .get_mut(&fold(name))
            .ok_or_else(|| CrowdError::user_not_found(name))?;
        user.password = password;
        Ok(())
    }

    pub fn rename_user(&mut self, name: &str, new_name: &str) -> Result<&SimUser, CrowdError> {
        self.existing_user(name)?;
        if new_name.trim().is_empty() {
            return Err(CrowdError::invalid_user("the new name is empty"));
        }
        let (old_key, new_key) = (fold(name), fold(new_name));
        if old_key != new_key && self.users.contains_key(&new_key) {
            return Err(CrowdError::invalid_user(&format!(
                "User <{new_name}> already exists"
            )));
        }
        let mut user = self
            .users
            .remove(&old_key)
            .ok_or_else(|| CrowdError::user_not_found(name))?;
        new_name.clone_into(&mut user.name);
        for group in self.groups.values_mut() {
            if group.members.remove(&old_key) {
                group.members.insert(new_key.clone());
            }
        }
        Ok(self.users.entry(new_key).or_insert(user))
    }

    pub fn delete_user(&mut self, name: &str) -> Result<(), CrowdError> {
        let key = fold(name);
        self.users
            .remove(&key)
            .ok_or_else(|| CrowdError::user_not_found(name))?;
        for group in self.groups.values_mut() {
            group.members.remove(&key);
        }
        Ok(())
    }

    pub fn create_group(&mut self, name: &str, description: &str) -> Result<(), CrowdError> {
        if name.trim().is_empty() {
            return Err(CrowdError::invalid_group("a group must have a name"));
        }
        if self.group(name).is_some() {
            return Err(CrowdError::invalid_group(&format!(
                "Group <{name}> already exists"
            )));
        }
        self.groups.insert(
            fold(name),
            SimGroup {
                name: name.to_owned(),
                description: description.to_owned(),
                active: true,
                members: BTreeSet::new(),
            },
        );
        Ok(())
    }

    pub fn delete_group(&mut self, name: &str) -> Result<(), CrowdError> {
        self.groups
            .remove(&fold(name))
            .map(|_| ())
            .ok_or_else(|| CrowdError::group_not_found(name))
    }

    /// Adds a direct member. `body_is_user` says which entity came in the body: a
    /// missing *body* entity is a 400, a missing *path* entity a 404 (fact sheet §3.5).
    pub fn add_member(
        &mut self,
        group: &str,
        user: &str,
        body_is_user: bool,
    ) -> Result<(), CrowdError> {
        let user_missing = self.user(user).is_none();
        let group_missing = self.group(group).is_none();
        match (user_missing, group_missing, body_is_user) {
            (true, _, true) => return Err(CrowdError::user_not_found(user).in_body()),
            (_, true, false) => return Err(CrowdError::group_not_found(group).in_body()),
            (_, true, true) => return Err(CrowdError::group_not_found(group)),
            (true, _, false) => return Err(CrowdError::user_not_found(user)),
            _ => {}
        }
        let key = fold(user);
        let group = self
            .groups
            .get_mut(&fold(group))
            .ok_or_else(|| CrowdError::group_not_found(group))?;
        if !group.members.insert(key) {
            return Err(CrowdError::membership_exists(user, &group.name));
        }
        Ok(())
    }

    pub fn remove_member(&mut self, group: &str, user: &str) -> Result<(), CrowdError> {
        self.existing_user(user)?;
        let found = self
            .groups
            .get_mut(&fold(group))
            .ok_or_else(|| CrowdError::group_not_found(group))?;
        if !found.members.remove(&fold(user)) {
            return Err(CrowdError::membership_not_found(user, group));
        }
        Ok(())
    }

    /// The members of a group, in name order, as users.
    pub fn members(&self, group: &str) -> Result<Vec<&SimUser>, CrowdError> {
        let group = self.existing_group(group)?;
        Ok(group
            .members
            .iter()
            .filter_map(|key| self.users.get(key))
            .collect())
    }

    /// The groups a user is a direct member of, in name order.
    pub fn groups_of(&self, user: &str) -> Result<Vec<&SimGroup>, CrowdError> {
        self.existing_user(user)?;
        let key = fold(user);
        Ok(self
            .groups
            .values()
            .filter(|g| g.members.contains(&key))
            .collect())
    }
}
