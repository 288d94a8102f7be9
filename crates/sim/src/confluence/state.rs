//! The emulated Confluence's user directory: users, groups, memberships, licence
//! seats and the long-running delete tasks.
//!
//! Names are stored as spelled and looked up lower-cased, as Confluence's embedded
//! Crowd does. Users live in one of two directories: the internal, writable one and
//! an optional read-only "LDAP" one whose users can be read but never changed.
//! Every refusal is an [`ApiError`] carrying the status and message the REST layer
//! sends.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The group every new user joins, and the sysadmin group.
pub const USERS_GROUP: &str = "confluence-users";
pub const ADMINS_GROUP: &str = "confluence-administrators";

/// Where a user lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Directory {
    /// Confluence's internal directory: writable.
    Internal,
    /// A read-only LDAP directory: users are read, never changed.
    Ldap,
}

/// One user as the emulator keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub key: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub active: bool,
    pub directory: Directory,
    pub password: Option<String>,
    /// The last successful sign-in, shown by `admin/users/list/active?expand=lastLogin`.
    pub last_login: Option<chrono::DateTime<chrono::Utc>>,
}

/// A refusal: the HTTP status and the message for the error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A user-deletion task (`DELETE /admin/user/{u}` answers 202 and deletes later).
#[derive(Debug, Clone)]
pub struct DeleteTask {
    pub username: String,
    /// Status reads still needed before the task finishes.
    pub polls_left: u32,
    pub started: std::time::Instant,
    pub finished: bool,
}

/// The whole directory.
#[derive(Debug)]
pub struct Store {
    pub(crate) users: BTreeMap<String, User>,
    pub(crate) keys: HashMap<String, String>,
    pub(crate) groups: BTreeMap<String, String>,
    pub(crate) members: BTreeMap<String, BTreeSet<String>>,
    pub(crate) tasks: HashMap<String, DeleteTask>,
    /// Ids of the tasks not finished yet: what every request checks, where
    /// `tasks` keeps every task ever started for its status reads.
    pending: BTreeSet<String>,
    pub(crate) admin: String,
    pub(crate) licence_seats: Option<u32>,
    pub(crate) delete_task_polls: u32,
    next_key: u64,
    next_task: u64,
}

fn fold(name: &str) -> String {
    name.to_lowercase()
}

impl Store {
    pub fn new(admin: &str, admin_password: &str, seats: Option<u32>, polls: u32) -> Self {
        let mut d = Self {
            users: BTreeMap::new(),
            keys: HashMap::new(),
            groups: BTreeMap::new(),
            members: BTreeMap::new(),
            tasks: HashMap::new(),
            pending: BTreeSet::new(),
            admin: fold(admin),
            licence_seats: seats,
            delete_task_polls: polls,
            next_key: 1,
            next_task: 1,
        };
        d.ensure_group(USERS_GROUP);
        d.ensure_group(ADMINS_GROUP);
        d.insert_user(
            admin,
            "Administrator",
            &format!("{admin}@example.com"),
            Directory::Internal,
        );
        if let Some(u) = d.users.get_mut(&fold(admin)) {
            u.password = Some(admin_password.to_owned());
        }
        d.join(ADMINS_GROUP, admin);
        d
    }

    fn ensure_group(&mut self, name: &str) {
        self.groups
            .entry(fold(name))
            .or_insert_with(|| name.to_owned());
        self.members.entry(fold(name)).or_default();
    }

    pub fn join(&mut self, group: &str, username: &str) {
        self.ensure_group(group);
        self.members
            .entry(fold(group))
            .or_default()
            .insert(fold(username));
    }

    /// Adds a user without any validation (seeding); new users join `confluence-users`.
    pub fn insert_user(&mut self, name: &str, display: &str, email: &str, dir: Directory) -> User {
        let key = format!("4028d676{:024x}", self.next_key);
        self.next_key += 1;
        let user = User {
            key: key.clone(),
            username: name.to_owned(),
            display_name: display.to_owned(),
            email: email.to_owned(),
            active: true,
            directory: dir,
            password: None,
            last_login: None,
        };
        self.keys.insert(key, fold(name));
        self.users.insert(fold(name), user.clone());
        self.join(USERS_GROUP, name);
        user
    }

    pub fn user(&self, username: &str) -> Option<&User> {
        self.users.get(&fold(username))
    }

    pub fn user_by_key(&self, key: &str) -> Option<&User> {
        self.keys.get(key).and_then(|u| self.users.get(u))
    }

    pub fn is_sysadmin(&self, username: &str) -> bool {
        self.members
            .get(&fold(ADMINS_GROUP))
            .is_some_and(|m| m.contains(&fold(username)))
    }

    pub fn group(&self, name: &str) -> Option<&String> {
        self.groups.get(&fold(name))
    }

    /// Members of a group, in username order.
    pub fn members_of(&self, group: &str) -> ApiResult<Vec<&User>> {
        let members = self
            .members
            .get(&fold(group))
            .ok_or_else(|| ApiError::new(404, format!("No group found with name : {group}")))?;
        Ok(members.iter().filter_map(|u| self.users.get(u)).collect())
    }

    pub fn groups_of(&self, username: &str) -> Vec<&String> {
        let folded = fold(username);
        self.members
            .iter()
            .filter(|(_, m)| m.contains(&folded))
            .filter_map(|(g, _)| self.groups.get(g))
            .collect()
    }

    /// Users counting towards the licence: the active ones (the emulator grants
    /// every user the "can use" permission through `confluence-users`).
    pub fn active_count(&self) -> usize {
        self.users.values().filter(|u| u.active).count()
    }

    /// The user, refusing unknown users (404) and read-only or protected ones (403).
    fn writable(&self, username: &str, action: &str) -> ApiResult<&User> {
        let user = self
            .user(username)
            .ok_or_else(|| ApiError::new(404, format!("User not found: {username}")))?;
        if user.directory == Directory::Ldap {
            return Err(ApiError::new(
                403,
                format!(
                    "Cannot {action} user '{}': the user belongs to a read-only directory (LDAP)",
                    user.username
                ),
            ));
        }
        Ok(user)
    }

    /// As [`Store::writable`], for changing the user.
    fn writable_mut(&mut self, username: &str, action: &str) -> ApiResult<&mut User> {
        self.writable(username, action)?;
        self.users
            .get_mut(&fold(username))
            .ok_or_else(|| ApiError::new(404, format!("User not found: {username}")))
    }

    fn protect_admin(&self, username: &str, action: &str) -> ApiResult<()> {
        if fold(username) == self.admin {
            return Err(ApiError::new(
                403,
                format!("Cannot {action} user '{username}': it is the protected administrator"),
            ));
        }
        Ok(())
    }

    /// `POST /admin/user`, after the body was validated.
    pub fn create_user(
        &mut self,
        name: &str,
        full: &str,
        email: &str,
        pw: Option<&str>,
    ) -> ApiResult<User> {
        if self.user(name).is_some() {
            return Err(ApiError::new(
                409,
                format!("A user with the userName '{name}' already exists"),
            ));
        }
        if let Some(seats) = self.licence_seats
            && self.active_count() >= seats as usize
        {
            return Err(ApiError::new(
                402,
                format!("Cannot create user '{name}': all {seats} licence seats are in use"),
            ));
        }
        let mut user = self.insert_user(name, full, email, Directory::Internal);
        if let Some(u) = self.users.get_mut(&fold(name)) {
            u.password = pw.map(str::to_owned);
            user.password.clone_from(&u.password);
        }
        Ok(user)
    }

    /// `PUT /admin/user/{u}`: e-mail and full name only.
    pub fn update_user(
        &mut self,
        username: &str,
        email: Option<&str>,
        full: Option<&str>,
    ) -> ApiResult<()> {
        let user = self.writable_mut(username, "update")?;
        if let Some(email) = email {
            email.clone_into(&mut user.email);
        }
        if let Some(full) = full {
            full.clone_into(&mut user.display_name);
        }
        Ok(())
    }

    /// `PUT /admin/user/{u}/disable|enable`: idempotent.
    pub fn set_active(&mut self, username: &str, active: bool) -> ApiResult<()> {
        let action = if active { "enable" } else { "disable" };
        self.writable(username, action)?;
        if !active {
            self.protect_admin(username, action)?;
        }
        self.writable_mut(username, action)?.active = active;
        Ok(())
    }

    pub fn set_password(&mut self, username: &str, password: &str) -> ApiResult<()> {
        self.writable_mut(username, "change the password of")?
            .password = Some(password.to_owned());
        Ok(())
    }

    /// `DELETE /admin/user/{u}`: starts a task; the user goes when it finishes.
    pub fn start_delete(&mut self, username: &str) -> ApiResult<String> {
        self.writable(username, "delete")?;
        self.protect_admin(username, "delete")?;
        let id = format!("{}", 7_340_032 + self.next_task);
        self.next_task += 1;
        let task = DeleteTask {
            username: fold(username),
            polls_left: self.delete_task_polls,
            started: std::time::Instant::now(),
            finished: false,
        };
        self.tasks.insert(id.clone(), task);
        self.pending.insert(id.clone());
        if self.delete_task_polls == 0 {
            self.finish_task(&id);
        }
        Ok(id)
    }

    /// Reads a task's status, advancing it by one poll.
    pub fn poll_task(&mut self, id: &str) -> Option<DeleteTask> {
        let task = self.tasks.get_mut(id)?;
        task.polls_left = task.polls_left.saturating_sub(1);
        if task.polls_left == 0 && !task.finished {
            self.finish_task(id);
        }
        self.tasks.get(id).cloned()
    }

    /// Finishes every task started more than `after` ago (a person never polls).
    pub fn finish_due_tasks(&mut self, after: std::time::Duration) {
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|id| {
                self.tasks
                    .get(*id)
                    .is_some_and(|t| !t.finished && t.started.elapsed() >= after)
            })
            .cloned()
            .collect();
        for id in due {
            self.finish_task(&id);
        }
    }

    fn finish_task(&mut self, id: &str) {
        let Some(task) = self.tasks.get_mut(id) else {
            return;
        };
        task.finished = true;
        task.polls_left = 0;
        self.pending.remove(id);
        let username = task.username.clone();
        self.forget_user(&username);
    }

    /// Removes a user and their memberships at once.
    fn forget_user(&mut self, folded: &str) {
        if let Some(user) = self.users.remove(folded) {
            self.keys.remove(&user.key);
        }
        for members in self.members.values_mut() {
            members.remove(folded);
        }
    }

    /// JSON-RPC's `removeUser`: deletes synchronously, refusing what REST refuses.
    pub fn remove_user(&mut self, username: &str) -> ApiResult<()> {
        self.writable(username, "delete")?;
        self.protect_admin(username, "delete")?;
        self.forget_user(&fold(username));
        Ok(())
    }

    /// `POST /admin/group`.
    pub fn create_group(&mut self, name: &str) -> ApiResult<String> {
        if self.group(name).is_some() {
            return Err(ApiError::new(
                409,
                format!("Group with name '{name}' already exists"),
            ));
        }
        self.ensure_group(name);
        Ok(name.to_owned())
    }

    /// `DELETE /admin/group/{g}`.
    pub fn delete_group(&mut self, name: &str) -> ApiResult<()> {
        if fold(name) == fold(ADMINS_GROUP) || fold(name) == fold(USERS_GROUP) {
            return Err(ApiError::new(
                403,
                format!("Cannot delete the default group '{name}'"),
            ));
        }
        self.groups
            .remove(&fold(name))
            .ok_or_else(|| ApiError::new(404, format!("No group found with name : {name}")))?;
        self.members.remove(&fold(name));
        Ok(())
    }

    /// `PUT|DELETE /user/{u}/group/{g}`: idempotent.
    pub fn set_membership(&mut self, username: &str, group: &str, member: bool) -> ApiResult<()> {
        let action = if member {
            "add a group to"
        } else {
            "remove a group from"
        };
        self.writable(username, action)?;
        if self.group(group).is_none() {
            return Err(ApiError::new(
                404,
                format!("No group found with name : {group}"),
            ));
        }
        if !member && fold(group) == fold(ADMINS_GROUP) {
            self.protect_admin(username, action)?;
        }
        let set = self.members.entry(fold(group)).or_default();
        if member {
            set.insert(fold(username));
        } else {
            set.remove(&fold(username));
        }
        Ok(())
    }
}
