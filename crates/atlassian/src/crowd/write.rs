//! Changing Crowd: users (create, update, activate, rename, delete), groups and
//! direct memberships.
//!
//! Repeats are success where Crowd's reason says the change is already there: a
//! user or group that exists on create (`INVALID_USER`/`INVALID_GROUP`, confirmed
//! by reading it), `MEMBERSHIP_ALREADY_EXISTS` on add, `MEMBERSHIP_NOT_FOUND` on
//! removal, a missing user or group on delete. `PUT /user` replaces the whole
//! user, so updates read the user and send it back with the changes.

use http::{Method, StatusCode};
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use usersync_core::{GroupName, TargetUser, Username};

use super::CrowdClient;
use super::error::{Reason, Refusal};
use crate::http::Call;
use crate::{NewUser, TargetError, TargetResult, UserChanges};

/// A password nobody knows: letters and digits from the OS generator, plus one of
/// each class a password policy may ask for.
fn unusable_password() -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(44)
        .map(char::from)
        .collect();
    format!("{random}aZ7!")
}

/// Crowd's first and last names from a display name: the last word is the last name.
fn split_name(display_name: &str, username: &Username) -> (String, String) {
    let name = display_name.trim();
    match name.rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_owned(), last.to_owned()),
        None if name.is_empty() => (String::new(), username.as_str().to_owned()),
        None => (String::new(), name.to_owned()),
    }
}

impl CrowdClient {
    pub(super) async fn create_user(&self, user: &NewUser) -> TargetResult<TargetUser> {
        let (first, last) = split_name(&user.display_name, &user.username);
        let body = json!({
            "name": user.username.as_str(),
            "first-name": first,
            "last-name": last,
            "display-name": user.display_name,
            "email": user.email.as_str(),
            "active": user.active,
            "password": {"value": unusable_password()},
        });
        let action = format!("create user {}", user.username);
        let call = Call::new(Method::POST, Self::path("user"), action.clone()).json(body);
        let reply = self.http.send(&call).await?;
        if !reply.is_success() {
            let refusal = Refusal::of(reply);
            // INVALID_USER is also Crowd's answer to a user that exists (a repeat, or
            // a retried request that had succeeded): read the user to tell which.
            let existing = if refusal.reason == Reason::InvalidUser {
                self.find(&user.username).await?
            } else {
                None
            };
            return existing.ok_or_else(|| refusal.into_error(&action));
        }
        self.find(&user.username)
            .await?
            .ok_or_else(|| TargetError::NotFound {
                what: format!("Crowd user {} right after creating it", user.username),
            })
    }

    async fn find(&self, username: &Username) -> TargetResult<Option<TargetUser>> {
        crate::Target::find_user(self, username).await
    }

    /// Reads the user, applies `change` to Crowd's whole user and puts it back.
    async fn put_user(
        &self,
        username: &Username,
        action: String,
        change: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> TargetResult<()> {
        let Some(Value::Object(mut user)) = self.raw_user(username).await? else {
            return Err(TargetError::NotFound {
                what: format!("Crowd user {username}"),
            });
        };
        // Crowd's read-only parts of a user are not sent back.
        for read_only in [
            "link",
            "expand",
            "password",
            "attributes",
            "created-date",
            "updated-date",
        ] {
            user.remove(read_only);
        }
        change(&mut user);
        let call = Call::new(Method::PUT, Self::path("user"), action.clone())
            .query("username", username)
            .json(Value::Object(user));
        let reply = self.http.send(&call).await?;
        if reply.is_success() {
            return Ok(());
        }
        Err(Refusal::of(reply).into_error(&action))
    }

    pub(super) async fn update_user(
        &self,
        username: &Username,
        changes: &UserChanges,
    ) -> TargetResult<()> {
        if changes.display_name.is_none() && changes.email.is_none() {
            return Ok(());
        }
        self.put_user(username, format!("update user {username}"), |user| {
            if let Some(name) = &changes.display_name {
                let (first, last) = split_name(name, username);
                user.insert("display-name".into(), json!(name));
                user.insert("first-name".into(), json!(first));
                user.insert("last-name".into(), json!(last));
            }
            if let Some(email) = &changes.email {
                user.insert("email".into(), json!(email.as_str()));
            }
        })
        .await
    }

    pub(super) async fn set_active(&self, username: &Username, active: bool) -> TargetResult<()> {
        let verb = if active { "activate" } else { "deactivate" };
        self.put_user(username, format!("{verb} user {username}"), |user| {
            user.insert("active".into(), json!(active));
        })
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
        let action = format!("rename user {username} to {new_username}");
        let call = Call::new(Method::POST, Self::path("user/rename"), action.clone())
            .query("username", username)
            .json(json!({"new-name": new_username.as_str()}));
        let reply = self.http.send(&call).await?;
        if reply.is_success() {
            return Ok(());
        }
        Err(Refusal::of(reply).into_error(&action))
    }

    pub(super) async fn delete_user(&self, username: &Username) -> TargetResult<()> {
        let action = format!("delete user {username}");
        let call = Call::new(Method::DELETE, Self::path("user"), action.clone())
            .query("username", username);
        self.idempotent(call, &action, &[Reason::UserNotFound])
            .await
    }

    pub(super) async fn create_group(&self, name: &GroupName) -> TargetResult<()> {
        let action = format!("create group {name}");
        let call = Call::new(Method::POST, Self::path("group"), action.clone()).json(json!({
            "name": name.as_str(),
            "type": "GROUP",
            "description": "",
            "active": true,
        }));
        let reply = self.http.send(&call).await?;
        if reply.is_success() {
            return Ok(());
        }
        let refusal = Refusal::of(reply);
        // INVALID_GROUP is also Crowd's answer to a group that exists: check.
        if refusal.reason == Reason::InvalidGroup && self.group_exists(name).await? {
            return Ok(());
        }
        Err(refusal.into_error(&action))
    }

    async fn group_exists(&self, name: &GroupName) -> TargetResult<bool> {
        let call =
            Call::get(Self::path("group"), format!("read group {name}")).query("groupname", name);
        let reply = self.http.send(&call).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        if reply.is_success() {
            return Ok(true);
        }
        Err(Refusal::of(reply).into_error(call.action()))
    }

    pub(super) async fn delete_group(&self, name: &GroupName) -> TargetResult<()> {
        let action = format!("delete group {name}");
        let call =
            Call::new(Method::DELETE, Self::path("group"), action.clone()).query("groupname", name);
        self.idempotent(call, &action, &[Reason::GroupNotFound])
            .await
    }

    pub(super) async fn add_member(
        &self,
        group: &GroupName,
        username: &Username,
    ) -> TargetResult<()> {
        let action = format!("add {username} to {group}");
        let call = Call::new(
            Method::POST,
            Self::path("group/user/direct"),
            action.clone(),
        )
        .query("groupname", group)
        .json(json!({"name": username.as_str()}));
        self.idempotent(call, &action, &[Reason::MembershipAlreadyExists])
            .await
    }

    pub(super) async fn remove_member(
        &self,
        group: &GroupName,
        username: &Username,
    ) -> TargetResult<()> {
        let action = format!("remove {username} from {group}");
        let call = Call::new(
            Method::DELETE,
            Self::path("group/user/direct"),
            action.clone(),
        )
        .query("groupname", group)
        .query("username", username);
        self.idempotent(call, &action, &[Reason::MembershipNotFound])
            .await
    }

    /// Sends a change for which the `done` reasons mean it is already in place.
    async fn idempotent(&self, call: Call, action: &str, done: &[Reason]) -> TargetResult<()> {
        let reply = self.http.send(&call).await?;
        if reply.is_success() {
            return Ok(());
        }
        let refusal = Refusal::of(reply);
        if done.contains(&refusal.reason) {
            return Ok(());
        }
        Err(refusal.into_error(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_name_splits_into_crowds_first_and_last_names() {
        let alice = Username::parse("alice").unwrap();
        assert_eq!(
            split_name("Ada King Lovelace", &alice),
            ("Ada King".into(), "Lovelace".into())
        );
        assert_eq!(split_name("Cher", &alice), (String::new(), "Cher".into()));
        assert_eq!(split_name("  ", &alice), (String::new(), "alice".into()));
    }

    #[test]
    fn each_synced_user_gets_a_different_long_password() {
        let (a, b) = (unusable_password(), unusable_password());
        assert_ne!(a, b);
        assert!(a.len() >= 48, "{a}");
    }
}
