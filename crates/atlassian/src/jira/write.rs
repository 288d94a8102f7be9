//! Changing Jira: users (create, update, activate, rename, delete), groups and
//! memberships.
//!
//! Repeats are success where Jira's answer says the change is already there
//! ("A user with that username already exists.", "already a member", a missing
//! membership on removal, a missing user or group on delete). A refusal because
//! the directory is read-only becomes [`TargetError::ManagedElsewhere`] and the
//! user is remembered as such; memberships are never refused for the user's
//! directory, as Jira lets read-only users join groups of a writable one.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use usersync_core::{GroupName, TargetUser, Username};

use super::JiraClient;
use crate::http::{Call, Reply};
use crate::{NewUser, TargetError, TargetResult, UserChanges};

fn mentions(reply: &Reply, needle: &str) -> bool {
    reply
        .error_messages()
        .iter()
        .any(|m| m.to_lowercase().contains(needle))
}

fn read_only(reply: &Reply) -> bool {
    mentions(reply, "read-only") || mentions(reply, "read only")
}

impl JiraClient {
    /// Types a failed write, recognising read-only directories.
    fn write_error(&self, reply: Reply, user: Option<&Username>, what: String) -> TargetError {
        if read_only(&reply) {
            if let Some(user) = user {
                self.remember_read_only(user);
            }
            return TargetError::ManagedElsewhere { what };
        }
        reply.into_error()
    }

    fn user_call(method: Method, username: &Username, action: String) -> Call {
        Call::new(method, "rest/api/2/user", action).query("username", username)
    }

    /// Refuses early what usersync already knows Jira will refuse.
    fn check_writable(&self, username: &Username) -> TargetResult<()> {
        if self.is_read_only(username) {
            return Err(TargetError::ManagedElsewhere {
                what: format!("Jira user {username}"),
            });
        }
        Ok(())
    }

    pub(super) async fn create_user(&self, user: &NewUser) -> TargetResult<TargetUser> {
        let version = self.version().await?;
        if !user.active && !version.at_least(8, 3) {
            return Err(self.unsupported(version, &format!("create {} inactive", user.username), "Jira before 8.3 cannot deactivate users through REST; upgrade Jira or create the user active"));
        }
        let mut body = json!({
            "name": user.username.as_str(),
            "emailAddress": user.email.as_str(),
            "displayName": user.display_name,
            "notification": self.config.notify_new_users,
        });
        if let Some(keys) = &self.config.application_keys {
            body["applicationKeys"] = json!(keys);
        }
        let action = format!("create user {}", user.username);
        let call = Call::new(Method::POST, "rest/api/2/user", action.clone()).json(body);
        let reply = self.http.send(&call).await?;
        let created = if reply.is_success() {
            reply.json::<super::wire::User>()?.into_target(false)?
        } else if mentions(&reply, "already exists") {
            // A repeat (or a retried request that had succeeded): the user is there.
            self.get_user(&user.username, false)
                .await?
                .map(|(u, _)| u)
                .ok_or_else(|| reply.into_error())?
        } else {
            return Err(self.write_error(reply, None, action));
        };
        if !user.active && created.active {
            self.set_active(&user.username, false).await?;
            return Ok(TargetUser {
                active: false,
                ..created
            });
        }
        Ok(created)
    }

    async fn put_user(&self, username: &Username, body: Value, action: String) -> TargetResult<()> {
        self.check_writable(username)?;
        let call = Self::user_call(Method::PUT, username, action.clone()).json(body);
        let reply = self.http.send(&call).await?;
        if reply.is_success() {
            return Ok(());
        }
        if reply.status == StatusCode::NOT_FOUND {
            return Err(TargetError::NotFound {
                what: format!("Jira user {username}"),
            });
        }
        Err(self.write_error(reply, Some(username), format!("Jira user {username}")))
    }

    pub(super) async fn update_user(
        &self,
        username: &Username,
        changes: &UserChanges,
    ) -> TargetResult<()> {
        let mut body = json!({});
        if let Some(name) = &changes.display_name {
            body["displayName"] = json!(name);
        }
        if let Some(email) = &changes.email {
            body["emailAddress"] = json!(email.as_str());
        }
        if body.as_object().is_some_and(serde_json::Map::is_empty) {
            return Ok(());
        }
        self.put_user(username, body, format!("update user {username}"))
            .await
    }

    pub(super) async fn set_active(&self, username: &Username, active: bool) -> TargetResult<()> {
        let version = self.version().await?;
        let verb = if active { "activate" } else { "deactivate" };
        if let Some(crowd) = self.user_server_for(version) {
            // Jira keeps the directory's users; Crowd's user update (read whole, put back
            // with `active` changed) is the same here as on Crowd itself.
            self.check_writable(username)?;
            return crate::Target::set_active(crowd, username, active).await;
        }
        if !version.at_least(8, 3) {
            return Err(self.unsupported(version, &format!("{verb} {username}"), "PUT /user understands \"active\" from Jira 8.3; upgrade Jira, give target.user_server (a Jira user server application), or turn off deactivation in the policy"));
        }
        let body = json!({"name": username.as_str(), "active": active});
        self.put_user(username, body, format!("{verb} user {username}"))
            .await
    }

    pub(super) async fn rename_user(
        &self,
        username: &Username,
        new_username: &Username,
    ) -> TargetResult<()> {
        if username.as_str() == new_username.as_str() {
            return Ok(());
        }
        let body = json!({"name": new_username.as_str()});
        self.put_user(
            username,
            body,
            format!("rename user {username} to {new_username}"),
        )
        .await
    }

    pub(super) async fn delete_user(&self, username: &Username) -> TargetResult<()> {
        self.check_writable(username)?;
        let call = Self::user_call(Method::DELETE, username, format!("delete user {username}"));
        let reply = self.http.send(&call).await?;
        if reply.is_success() || reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(self.write_error(reply, Some(username), format!("Jira user {username}")))
    }

    pub(super) async fn create_group(&self, name: &GroupName) -> TargetResult<()> {
        let action = format!("create group {name}");
        let call = Call::new(Method::POST, "rest/api/2/group", action)
            .json(json!({"name": name.as_str()}));
        let reply = self.http.send(&call).await?;
        if reply.is_success() || mentions(&reply, "already exists") {
            return Ok(());
        }
        Err(self.write_error(reply, None, format!("Jira group {name}")))
    }

    pub(super) async fn delete_group(&self, name: &GroupName) -> TargetResult<()> {
        let call = Call::new(
            Method::DELETE,
            "rest/api/2/group",
            format!("delete group {name}"),
        )
        .query("groupname", name);
        let reply = self.http.send(&call).await?;
        if reply.is_success() || reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(self.write_error(reply, None, format!("Jira group {name}")))
    }

    pub(super) async fn add_member(
        &self,
        group: &GroupName,
        username: &Username,
    ) -> TargetResult<()> {
        let call = Call::new(
            Method::POST,
            "rest/api/2/group/user",
            format!("add {username} to {group}"),
        )
        .query("groupname", group)
        .json(json!({"name": username.as_str()}));
        self.change_membership(call, group, username, "already a member")
            .await
    }

    pub(super) async fn remove_member(
        &self,
        group: &GroupName,
        username: &Username,
    ) -> TargetResult<()> {
        let call = Call::new(
            Method::DELETE,
            "rest/api/2/group/user",
            format!("remove {username} from {group}"),
        )
        .query("groupname", group)
        .query("username", username);
        self.change_membership(call, group, username, "not a member")
            .await
    }

    /// Sends a membership change; Jira's answer that the change is already in
    /// place (`already_done` in its message) counts as success, so a retried or
    /// repeated plan step is idempotent.
    async fn change_membership(
        &self,
        call: Call,
        group: &GroupName,
        username: &Username,
        already_done: &str,
    ) -> TargetResult<()> {
        let reply = self.http.send(&call).await?;
        if reply.is_success() || mentions(&reply, already_done) {
            return Ok(());
        }
        // A refusal here is about the group's directory, never the user's: users of a
        // read-only directory may be members of writable groups.
        Err(self.write_error(reply, None, format!("membership of {username} in {group}")))
    }
}
