//! Writes: users (create, update, disable/enable, asynchronous delete), groups and
//! memberships. Each first checks the server version can do it, and treats the
//! repeats Confluence allows as success: an existing user or group on create, a
//! missing one on delete; membership and disable/enable calls are idempotent on
//! the server.

use http::{Method, StatusCode};
use rand::Rng as _;
use serde_json::json;
use usersync_core::{GroupName, TargetUser, Username};

use super::read::segment;
use super::wire::{TaskStatus, TaskSubmission};
use super::{ConfluenceClient, PRODUCT};
use crate::http::{Call, Reply};
use crate::{Capability, NewUser, TargetError, TargetResult, UserChanges};

/// Types a failed reply: 402 is a licence problem, a 403 naming a read-only
/// directory means the user is managed elsewhere, the rest as usual.
fn refusal(reply: Reply, what: &str, action: &str) -> TargetError {
    match reply.status.as_u16() {
        402 => TargetError::NoLicenceSeat {
            action: action.to_owned(),
        },
        400 | 403 => {
            let text = reply.error_messages().join("; ").to_lowercase();
            if text.contains("read-only") || text.contains("read only") {
                TargetError::ManagedElsewhere {
                    what: what.to_owned(),
                }
            } else {
                reply.into_error()
            }
        }
        _ => reply.into_error(),
    }
}

/// A password nobody will ever use (single sign-on users never type one).
fn unusable_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

impl ConfluenceClient {
    async fn write(&self, call: Call, what: &str) -> TargetResult<Reply> {
        let reply = self.http.send(&call).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(refusal(reply, what, call.action()))
        }
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
        self.require(Capability::CreateUser, &action).await?;
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
        let reply = self.http.send(&call).await?;
        // 409: the user exists already; creating it again is success.
        if !reply.is_success() && reply.status != StatusCode::CONFLICT {
            return Err(refusal(reply, &format!("user {name}"), &action));
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
        self.require(Capability::UpdateUser, &action).await?;
        let mut body = json!({});
        if let Some(name) = &changes.display_name {
            body["fullName"] = json!(name);
        }
        if let Some(email) = &changes.email {
            body["email"] = json!(email.as_str());
        }
        let path = format!("rest/api/admin/user/{}", segment(username.as_str()));
        let call = Call::new(Method::PUT, path, &action).json(body);
        self.write(call, &format!("user {username}"))
            .await
            .map(drop)
    }

    pub(super) async fn set_active(&self, username: &Username, active: bool) -> TargetResult<()> {
        let verb = if active { "enable" } else { "disable" };
        let action = format!("{verb} user {username}");
        self.require(Capability::SetActive, &action).await?;
        let path = format!("rest/api/admin/user/{}/{verb}", segment(username.as_str()));
        self.write(
            Call::new(Method::PUT, path, &action),
            &format!("user {username}"),
        )
        .await
        .map(drop)
    }

    /// Deletes and waits for the long task; an already-missing user is success.
    pub(super) async fn delete_user(&self, username: &Username) -> TargetResult<()> {
        let action = format!("delete user {username}");
        self.require(Capability::DeleteUser, &action).await?;
        let path = format!("rest/api/admin/user/{}", segment(username.as_str()));
        let reply = self
            .http
            .send(&Call::new(Method::DELETE, path, &action))
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        if reply.status != StatusCode::ACCEPTED {
            // Some releases may delete synchronously (200/204): nothing to wait for.
            return if reply.is_success() {
                Ok(())
            } else {
                Err(refusal(reply, &format!("user {username}"), &action))
            };
        }
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
        self.require(Capability::CreateGroup, &action).await?;
        let call = Call::new(Method::POST, "rest/api/admin/group", &action)
            .json(json!({ "name": name.as_str(), "type": "group" }));
        let reply = self.http.send(&call).await?;
        if reply.is_success() || reply.status == StatusCode::CONFLICT {
            return Ok(());
        }
        Err(refusal(reply, &format!("group {name}"), &action))
    }

    pub(super) async fn delete_group(&self, name: &GroupName) -> TargetResult<()> {
        let action = format!("delete group {name}");
        self.require(Capability::DeleteGroup, &action).await?;
        let path = format!("rest/api/admin/group/{}", segment(name.as_str()));
        let reply = self
            .http
            .send(&Call::new(Method::DELETE, path, &action))
            .await?;
        if reply.is_success() || reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(refusal(reply, &format!("group {name}"), &action))
    }

    pub(super) async fn membership(
        &self,
        group: &GroupName,
        username: &Username,
        member: bool,
    ) -> TargetResult<()> {
        let action = if member {
            format!("add {username} to {group}")
        } else {
            format!("remove {username} from {group}")
        };
        self.require(Capability::ManageMembership, &action).await?;
        let path = format!(
            "rest/api/user/{}/group/{}",
            segment(username.as_str()),
            segment(group.as_str())
        );
        let method = if member { Method::PUT } else { Method::DELETE };
        self.write(
            Call::new(method, path, &action),
            &format!("user {username}"),
        )
        .await
        .map(drop)
    }
}
