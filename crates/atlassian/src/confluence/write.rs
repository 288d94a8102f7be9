//! Writes: users (create, update, disable/enable, delete), groups and memberships.
//! Each goes through the API the server's version offers for it (REST, else
//! JSON-RPC); a REST endpoint answering 404 or 405 is taken as missing from this
//! release and the call is made again through JSON-RPC, whose answer stands (when
//! JSON-RPC succeeds, later calls of that ability go straight to it). The
//! repeats Confluence allows are success: an existing user or group on create, a
//! missing one on delete; membership and disable/enable calls are idempotent.

use http::{Method, StatusCode};
use rand::Rng as _;
use serde_json::json;
use usersync_core::{GroupName, TargetUser, Username};

use super::read::segment;
use super::refusal::{self, created, gone};
use super::wire::{TaskStatus, TaskSubmission};
use super::{ConfluenceClient, PRODUCT};
use crate::http::{Call, Reply};
use crate::{Api, Capability, NewUser, TargetError, TargetResult, UserChanges};

/// A password nobody will ever use (single sign-on users never type one).
fn unusable_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

impl ConfluenceClient {
    /// Sends a REST write. `None` when the endpoint answered 404 or 405: a release
    /// may lack it whatever its version says, so the caller asks JSON-RPC instead
    /// (which also answers for a user or group that is really missing).
    async fn rest(&self, call: Call, what: &str) -> TargetResult<Option<Reply>> {
        let reply = self.http.send(&call).await?;
        if matches!(reply.status.as_u16(), 404 | 405) {
            return Ok(None);
        }
        if reply.is_success() {
            Ok(Some(reply))
        } else {
            Err(refusal::rest(reply, what, call.action()))
        }
    }

    /// The REST call when the server has it and it answers, else the JSON-RPC method.
    async fn either(
        &self,
        capability: Capability,
        rest: Call,
        (method, params): (&str, serde_json::Value),
        what: &str,
    ) -> TargetResult<Option<Reply>> {
        let action = rest.action().to_owned();
        let tried_rest = self.route(capability, &action).await? == Api::Rest;
        if tried_rest && let Some(reply) = self.rest(rest, what).await? {
            return Ok(Some(reply));
        }
        self.rpc_do(method, params, what, &action).await?;
        if tried_rest {
            // REST said "no such endpoint" and JSON-RPC did it: remember.
            self.rest_missing().insert(capability);
        }
        Ok(None)
    }

    pub(super) async fn create_user(&self, user: &NewUser) -> TargetResult<TargetUser> {
        let name = user.username.as_str();
        let action = format!("create user {name}");
        if name.chars().any(char::is_uppercase) {
            return Err(TargetError::Rejected {
                product: PRODUCT,
                action,
                message: format!(
                    "Confluence usernames must be lower-case, and {name:?} is not; lower-case it in the username mapping (for example map the Okta login to {:?})",
                    name.to_lowercase()
                ),
            });
        }
        let what = format!("user {name}");
        let rest_done = if self.route(Capability::CreateUser, &action).await? == Api::Rest {
            let mut body = json!({
                "userName": name,
                "fullName": user.display_name,
                "email": user.email.as_str(),
            });
            if self.config.notify_new_users {
                body["notifyViaEmail"] = json!(true);
            } else {
                body["password"] = json!(unusable_password());
                body["notifyViaEmail"] = json!(false);
            }
            let call = Call::new(Method::POST, "rest/api/admin/user", &action).json(body);
            match self.rest(call, &what).await {
                Ok(Some(_)) | Err(TargetError::AlreadyExists { .. }) => true,
                Ok(None) => false,
                Err(e) => return Err(e),
            }
        } else {
            false
        };
        if !rest_done {
            created(self.rpc_add_user(user, &unusable_password(), &action).await)?;
        }
        if !user.active {
            self.set_active(&user.username, false).await?;
        }
        self.find_user(&user.username)
            .await?
            .ok_or_else(|| TargetError::NotFound {
                what: format!("user {name} right after creating it"),
            })
    }

    pub(super) async fn update_user(
        &self,
        username: &Username,
        changes: &UserChanges,
    ) -> TargetResult<()> {
        let action = format!("update user {username}");
        if changes.display_name.is_none() && changes.email.is_none() {
            return Ok(());
        }
        let what = format!("user {username}");
        if self.route(Capability::UpdateUser, &action).await? == Api::Rest {
            let mut body = json!({});
            if let Some(name) = &changes.display_name {
                body["fullName"] = json!(name);
            }
            if let Some(email) = &changes.email {
                body["email"] = json!(email.as_str());
            }
            let path = format!("rest/api/admin/user/{}", segment(username.as_str()));
            let call = Call::new(Method::PUT, path, &action).json(body);
            if self.rest(call, &what).await?.is_some() {
                return Ok(());
            }
        }
        self.rpc_edit_user(username, changes, &action).await
    }

    pub(super) async fn set_active(&self, username: &Username, active: bool) -> TargetResult<()> {
        let verb = if active { "enable" } else { "disable" };
        let action = format!("{verb} user {username}");
        let path = format!("rest/api/admin/user/{}/{verb}", segment(username.as_str()));
        let method = if active {
            "reactivateUser"
        } else {
            "deactivateUser"
        };
        self.either(
            Capability::SetActive,
            Call::new(Method::PUT, path, &action),
            (method, json!([username.as_str()])),
            &format!("user {username}"),
        )
        .await
        .map(drop)
    }

    /// Deletes (awaiting REST's long task); an already-missing user is success.
    pub(super) async fn delete_user(&self, username: &Username) -> TargetResult<()> {
        let action = format!("delete user {username}");
        let path = format!("rest/api/admin/user/{}", segment(username.as_str()));
        let reply = match self
            .either(
                Capability::DeleteUser,
                Call::new(Method::DELETE, path, &action),
                ("removeUser", json!([username.as_str()])),
                &format!("user {username}"),
            )
            .await
        {
            Err(TargetError::NotFound { .. }) => return Ok(()),
            other => other?,
        };
        // Some releases may delete synchronously (200/204): nothing to wait for.
        let Some(reply) = reply.filter(|r| r.status == StatusCode::ACCEPTED) else {
            return Ok(());
        };
        let task: TaskSubmission = reply.json()?;
        let id = task
            .id
            .as_str()
            .map_or_else(|| task.id.to_string(), str::to_owned);
        self.await_task(&id, &action).await
    }

    async fn await_task(&self, id: &str, action: &str) -> TargetResult<()> {
        let call = Call::get(format!("rest/api/longtask/{}", segment(id)), action);
        for _ in 0..self.config.delete_poll_attempts {
            let status: TaskStatus = self.http.json(&call).await?;
            if status.is_finished() {
                if status.successful == Some(false) {
                    return Err(TargetError::Rejected {
                        product: PRODUCT,
                        action: action.to_owned(),
                        message: format!("the delete task {id} failed: {:?}", status.messages),
                    });
                }
                return Ok(());
            }
            tokio::time::sleep(self.config.delete_poll_interval).await;
        }
        Err(TargetError::Transport {
            product: PRODUCT,
            action: action.to_owned(),
            message: format!(
                "the delete task {id} had not finished after {} status reads; it may still finish, and deleting again is safe",
                self.config.delete_poll_attempts
            ),
        })
    }

    pub(super) async fn create_group(&self, name: &GroupName) -> TargetResult<()> {
        let action = format!("create group {name}");
        let call = Call::new(Method::POST, "rest/api/admin/group", &action)
            .json(json!({ "name": name.as_str(), "type": "group" }));
        created(
            self.either(
                Capability::CreateGroup,
                call,
                ("addGroup", json!([name.as_str()])),
                &format!("group {name}"),
            )
            .await
            .map(drop),
        )
    }

    pub(super) async fn delete_group(&self, name: &GroupName) -> TargetResult<()> {
        let action = format!("delete group {name}");
        let path = format!("rest/api/admin/group/{}", segment(name.as_str()));
        // `removeGroup(name, defaultGroup)`: no default group, members are not moved.
        gone(
            self.either(
                Capability::DeleteGroup,
                Call::new(Method::DELETE, path, &action),
                ("removeGroup", json!([name.as_str(), null])),
                &format!("group {name}"),
            )
            .await
            .map(drop),
        )
    }

    pub(super) async fn membership(
        &self,
        group: &GroupName,
        username: &Username,
        member: bool,
    ) -> TargetResult<()> {
        let (action, method) = if member {
            (format!("add {username} to {group}"), "addUserToGroup")
        } else {
            (
                format!("remove {username} from {group}"),
                "removeUserFromGroup",
            )
        };
        let path = format!(
            "rest/api/user/{}/group/{}",
            segment(username.as_str()),
            segment(group.as_str())
        );
        let verb = if member { Method::PUT } else { Method::DELETE };
        let result = self
            .either(
                Capability::ManageMembership,
                Call::new(verb, path, &action),
                (method, json!([username.as_str(), group.as_str()])),
                &format!("user {username}"),
            )
            .await
            .map(drop);
        // JSON-RPC may say the membership exists already: adding is idempotent.
        if member { created(result) } else { result }
    }
}
