//! Confluence's legacy JSON-RPC service (`POST /rpc/json-rpc/confluenceservice-v2`,
//! fact sheet section 2.4): what usersync asks of it when the server's REST API
//! lacks an ability (group and membership changes before 9.0, user updates before
//! 10.2, disable/enable and delete before 8.2, create and list-all before 8.4).
//!
//! A request is `{"jsonrpc":"2.0","method":..,"params":[..],"id":..}` with the SOAP
//! signature's token argument left out; Basic auth adds `?os_authType=basic` as the
//! reference says. A refusal arrives as HTTP 200 with an `error` object, typed
//! through [`super::refusal`] exactly as REST refusals are. The wire types live here
//! and go no further.

use std::sync::atomic::{AtomicU64, Ordering};

use http::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use usersync_core::{Email, TargetUser, Username};

use super::refusal::{self, Refusal};
use super::{ConfluenceClient, PRODUCT};
use crate::http::{AtlassianAuth, Call};
use crate::{TargetError, TargetResult};

const PATH: &str = "rpc/json-rpc/confluenceservice-v2";

/// JSON-RPC 2.0's "method not found".
const METHOD_NOT_FOUND: i64 = -32601;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `{"jsonrpc":"2.0","method","params","id"}`.
#[derive(Serialize)]
struct Request<'a> {
    jsonrpc: &'static str,
    method: &'a str,
    params: Value,
    id: u64,
}

/// The answer: `result` or `error`, always with HTTP 200.
#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    result: Value,
    error: Option<RpcError>,
}

#[derive(Deserialize)]
struct RpcError {
    code: Option<i64>,
    message: Option<String>,
    #[serde(default)]
    data: Value,
}

impl RpcError {
    /// The message and any exception class or detail in `data`, for classifying.
    fn text(&self) -> String {
        let mut text = self.message.clone().unwrap_or_default();
        if !self.data.is_null() {
            text.push(' ');
            text.push_str(&self.data.to_string());
        }
        text
    }
}

/// `RemoteUser`: `name`, `fullname`, `email` (and `key`, `url` on reads).
#[derive(Serialize, Deserialize)]
pub(super) struct RemoteUser {
    name: String,
    #[serde(default)]
    fullname: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, skip_serializing)]
    key: Option<String>,
}

impl ConfluenceClient {
    /// Calls `method` with `params`; `what` names the user or group for errors.
    async fn rpc<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        what: &str,
        action: &str,
    ) -> TargetResult<T> {
        let body = Request {
            jsonrpc: "2.0",
            method,
            params,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        };
        let body =
            serde_json::to_value(&body).map_err(|e| self.decode_error(action)(e.to_string()))?;
        let mut call = Call::new(Method::POST, PATH, action).json(body);
        if matches!(self.config.auth, AtlassianAuth::Basic { .. }) {
            call = call.query("os_authType", "basic");
        }
        let reply = self.http.send(&call).await?;
        if reply.status.as_u16() == 404 {
            return Err(self.rpc_missing(action, "the JSON-RPC service answered 404"));
        }
        if !reply.is_success() {
            return Err(refusal::rest(reply, what, action));
        }
        let answer: Response = reply.json()?;
        if let Some(error) = answer.error {
            return Err(self.rpc_error(&error, method, what, action));
        }
        serde_json::from_value(answer.result)
            .map_err(|e| self.decode_error(action)(format!("{method}: {e}")))
    }

    fn rpc_error(&self, error: &RpcError, method: &str, what: &str, action: &str) -> TargetError {
        if error.code == Some(METHOD_NOT_FOUND) {
            return self.rpc_missing(
                action,
                &format!("its JSON-RPC service has no method {method}"),
            );
        }
        let text = error.text();
        // "Remote API is not enabled on this server": an administrator turned it off.
        if text.to_lowercase().contains("remote api") {
            return self.rpc_missing(action, "its Remote API is off");
        }
        let message = error.message.clone().unwrap_or_else(|| text.clone());
        refusal::from_text(&text)
            .unwrap_or(Refusal::Other)
            .into_error(what, action, message)
    }

    fn rpc_missing(&self, action: &str, why: &str) -> TargetError {
        let version = self
            .capabilities
            .get()
            .map_or_else(|| "(version unknown)".to_owned(), |c| c.version.clone());
        TargetError::Unsupported {
            product: PRODUCT,
            version,
            action: action.to_owned(),
            hint: format!(
                "{why}: turn on the Remote API (XML-RPC & SOAP) under General Configuration, or upgrade to a release whose REST API can do it"
            ),
        }
    }

    /// `getActiveUsers(viewAll)`: every username (`true`), or only active ones.
    pub(super) async fn rpc_usernames(&self, view_all: bool) -> TargetResult<Vec<String>> {
        self.rpc(
            "getActiveUsers",
            json!([view_all]),
            "users",
            "list every user",
        )
        .await
    }

    /// `getUser(username)`, as the core's user with the given activity.
    pub(super) async fn rpc_user(&self, username: &str, active: bool) -> TargetResult<TargetUser> {
        let action = format!("read user {username}");
        let remote: RemoteUser = self
            .rpc(
                "getUser",
                json!([username]),
                &format!("user {username}"),
                &action,
            )
            .await?;
        let decode = self.decode_error(&action);
        let name = Username::parse(remote.name.clone())
            .map_err(|e| decode(format!("user {:?}: {e}", remote.name)))?;
        let key = remote
            .key
            .map(usersync_core::TargetUserKey::parse)
            .transpose()
            .map_err(|e| decode(format!("user {name}: {e}")))?;
        Ok(TargetUser {
            key,
            display_name: remote.fullname.unwrap_or_else(|| name.to_string()),
            email: remote.email.and_then(|e| Email::parse(e).ok()),
            username: name,
            active,
            managed_elsewhere: false,
        })
    }

    /// `addUser(RemoteUser, password, notifyUser)`.
    pub(super) async fn rpc_add_user(
        &self,
        user: &crate::NewUser,
        password: &str,
        action: &str,
    ) -> TargetResult<()> {
        let remote = RemoteUser {
            name: user.username.to_string(),
            fullname: Some(user.display_name.clone()),
            email: Some(user.email.to_string()),
            key: None,
        };
        let what = format!("user {}", user.username);
        let params = json!([remote, password, self.config.notify_new_users]);
        self.rpc::<Value>("addUser", params, &what, action)
            .await
            .map(drop)
    }

    /// `editUser(RemoteUser)`: it replaces both e-mail and full name, so the
    /// current values fill in what `changes` leaves alone.
    pub(super) async fn rpc_edit_user(
        &self,
        username: &Username,
        changes: &crate::UserChanges,
        action: &str,
    ) -> TargetResult<()> {
        let what = format!("user {username}");
        let current: RemoteUser = self
            .rpc("getUser", json!([username.as_str()]), &what, action)
            .await?;
        let remote = RemoteUser {
            name: current.name,
            fullname: changes.display_name.clone().or(current.fullname),
            email: changes
                .email
                .as_ref()
                .map(ToString::to_string)
                .or(current.email),
            key: None,
        };
        self.rpc::<Value>("editUser", json!([remote]), &what, action)
            .await
            .map(drop)
    }

    /// A method taking names and answering a boolean (or nothing) that only says
    /// it was done: `deactivateUser`, `addGroup`, `addUserToGroup`, ...
    pub(super) async fn rpc_do(
        &self,
        method: &str,
        params: Value,
        what: &str,
        action: &str,
    ) -> TargetResult<()> {
        self.rpc::<Value>(method, params, what, action)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::confluence::ConfluenceConfig;

    fn client() -> ConfluenceClient {
        let auth = AtlassianAuth::Bearer("t".to_owned().into());
        ConfluenceClient::new(ConfluenceConfig::new("http://127.0.0.1:9", auth)).unwrap()
    }

    fn error(code: i64, message: &str) -> RpcError {
        RpcError {
            code: Some(code),
            message: Some(message.into()),
            data: Value::Null,
        }
    }

    #[test]
    fn an_unknown_method_or_a_remote_api_turned_off_is_unsupported_with_the_way_out() {
        let client = client();
        for e in [
            error(METHOD_NOT_FOUND, "Method not found: addGroup"),
            error(-32000, "Remote API is not enabled on this server"),
        ] {
            let err = client.rpc_error(&e, "addGroup", "group g", "create group g");
            assert!(matches!(err, TargetError::Unsupported { .. }), "{err}");
            assert!(err.to_string().contains("turn on the Remote API"), "{err}");
        }
    }

    #[test]
    fn an_error_the_words_do_not_type_is_a_rejection_with_the_servers_message() {
        let e = error(-32000, "fullname is blank");
        let err = client().rpc_error(&e, "addUser", "user u", "create user u");
        assert!(matches!(err, TargetError::Rejected { .. }), "{err}");
        assert!(err.to_string().contains("fullname is blank"), "{err}");
    }
}
