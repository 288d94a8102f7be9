//! Test and demo helpers of [`JiraSim`]: seeding and inspecting its state
//! directly, without going through HTTP, and stopping it.

use anyhow::anyhow;

use super::state::{Directory, SimGroup, SimUser};
use super::wire::JiraError;
use super::{JiraSim, LDAP_GROUP, SeedUser, USERS_GROUP, draft};

fn seed_error(e: JiraError) -> anyhow::Error {
    anyhow!(
        "Jira emulator refused the seed ({}): {:?} {:?}",
        e.status,
        e.messages,
        e.errors
    )
}

impl JiraSim {
    /// Adds a user to the internal directory and to `jira-software-users`.
    ///
    /// # Errors
    /// When the username is taken or a field is missing.
    pub fn add_user(&self, user: &SeedUser) -> anyhow::Result<SimUser> {
        let mut state = self.app.state();
        let created = state
            .create_user(draft(user), Directory::Internal)
            .map_err(seed_error)?
            .clone();
        state
            .add_member(USERS_GROUP, &user.name)
            .map_err(seed_error)?;
        Ok(created)
    }

    /// Adds `count` users named `{prefix}0001`.. (every third one inactive when `some_inactive`).
    ///
    /// # Errors
    /// When a name is taken.
    pub fn add_users(&self, prefix: &str, count: usize, some_inactive: bool) -> anyhow::Result<()> {
        for i in 1..=count {
            let mut user = SeedUser::new(&format!("{prefix}{i:04}"));
            user.active = !(some_inactive && i % 3 == 0);
            self.add_user(&user)?;
        }
        Ok(())
    }

    /// Adds a user to the read-only LDAP directory (and its `ldap-users` group).
    ///
    /// # Errors
    /// When the username is taken.
    pub fn add_ldap_user(&self, user: &SeedUser) -> anyhow::Result<SimUser> {
        let mut state = self.app.state();
        if state.group(LDAP_GROUP).is_none() {
            state
                .create_group(LDAP_GROUP, Directory::Ldap)
                .map_err(seed_error)?;
        }
        let created = state
            .create_user(draft(user), Directory::Ldap)
            .map_err(seed_error)?
            .clone();
        state
            .seed_member(LDAP_GROUP, &user.name)
            .map_err(seed_error)?;
        Ok(created)
    }

    /// Adds a group to the internal directory.
    ///
    /// # Errors
    /// When the name is taken.
    pub fn add_group(&self, name: &str) -> anyhow::Result<()> {
        self.app
            .state()
            .create_group(name, Directory::Internal)
            .map_err(seed_error)?;
        Ok(())
    }

    /// Adds a member (both must exist; any directory).
    ///
    /// # Errors
    /// When the group or user is missing.
    pub fn add_member(&self, group: &str, user: &str) -> anyhow::Result<()> {
        self.app
            .state()
            .seed_member(group, user)
            .map_err(seed_error)
    }

    /// Removes a member, as an administrator would in Jira's user management.
    ///
    /// # Errors
    /// When the group, user or membership is missing, or the directory is read-only.
    pub fn remove_member(&self, group: &str, user: &str) -> anyhow::Result<()> {
        self.app
            .state()
            .remove_member(group, user)
            .map_err(seed_error)
    }

    /// Sets the licence seats of application `key` (`None`: unlimited), as its
    /// application role reports them.
    pub fn set_application_seats(&self, key: &str, seats: Option<u32>) {
        let mut state = self.app.state();
        match seats {
            Some(n) => state.application_seats.insert(key.to_owned(), n),
            None => state.application_seats.remove(key),
        };
    }

    #[must_use]
    pub fn users(&self) -> Vec<SimUser> {
        self.app.state().users().cloned().collect()
    }

    #[must_use]
    pub fn groups(&self) -> Vec<SimGroup> {
        self.app.state().groups().cloned().collect()
    }

    /// Usernames of a group's members (active and inactive), sorted.
    #[must_use]
    pub fn members(&self, group: &str) -> Vec<String> {
        self.app
            .state()
            .members(group)
            .into_iter()
            .map(|u| u.name.clone())
            .collect()
    }

    /// One user by username (case-insensitive).
    #[must_use]
    pub fn user(&self, name: &str) -> Option<SimUser> {
        self.app.state().user(name).cloned()
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(self) {
        self.server.stop().await;
    }
}
