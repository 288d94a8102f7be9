//! Confluence's legacy JSON-RPC service, `POST /rpc/json-rpc/confluenceservice-v2`
//! (atlassian-api.md section 2.4): the user-management methods of the SOAP
//! `UsersSoapService`, called without the SOAP token argument and authenticated as
//! every other request (Basic, with or without `?os_authType=basic`, or the PAT).
//!
//! Every answer is HTTP 200: `{"jsonrpc":"2.0","id":..,"result":..}`, or an `error`
//! object `{"code","message","data":{"exception"}}` carrying the exception the SOAP
//! service throws (`NotPermittedException` for permission, `RemoteException` with a
//! message for the rest). Protocol errors use JSON-RPC 2.0's codes (-32700 parse,
//! -32600 request, -32601 method, -32602 params). The fact sheet records neither the
//! error object's exact fields nor the messages: these are the emulator's choice,
//! keeping the words that say what happened ("not found", "already exists",
//! "read-only directory", "licence"), which is what a client can rely on.
//! Every release emulated serves it (present through 9.0 per the fact sheet; 10.x
//! is UNCONFIRMED there, and usersync needs nothing of it from 10.2 on).

use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{App, Caller};
use super::state::{ApiError, User};

pub const PATH: &str = "/rpc/json-rpc/confluenceservice-v2";

/// The methods that only read.
pub const READS: [&str; 6] = [
    "getActiveUsers",
    "getUser",
    "hasUser",
    "getUserGroups",
    "getGroups",
    "hasGroup",
];

pub fn routes() -> Router<App> {
    Router::new().route(PATH, post(call))
}

/// A JSON-RPC failure: the code, the message and the exception class behind it.
struct Fault {
    code: i64,
    message: String,
    exception: &'static str,
}

const REMOTE: &str = "com.atlassian.confluence.rpc.RemoteException";
const NOT_PERMITTED: &str = "com.atlassian.confluence.rpc.NotPermittedException";

impl Fault {
    fn protocol(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            exception: "",
        }
    }

    fn not_permitted(message: &str) -> Self {
        Self {
            code: -32000,
            message: format!("{NOT_PERMITTED}: {message}"),
            exception: NOT_PERMITTED,
        }
    }
}

/// The store's refusals, as the SOAP service throws them.
impl From<ApiError> for Fault {
    fn from(e: ApiError) -> Self {
        if e.status == 403 && !e.message.contains("read-only") {
            return Self::not_permitted(&e.message);
        }
        Self {
            code: -32000,
            message: format!("{REMOTE}: {}", e.message),
            exception: REMOTE,
        }
    }
}

type RpcResult = Result<Value, Fault>;

#[derive(Debug, Deserialize)]
struct Envelope {
    method: Option<String>,
    #[serde(default)]
    params: Value,
    #[serde(default)]
    id: Value,
}

async fn call(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Json<Value> {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return answer(&Value::Null, Err(Fault::protocol(-32700, "Parse error")));
    };
    let outcome = match (&envelope.method, &envelope.params) {
        (Some(method), Value::Array(params)) => dispatch(&app, &caller, method, params),
        (Some(_), Value::Null) => Err(Fault::protocol(-32602, "params must be an array")),
        (Some(_), _) => Err(Fault::protocol(-32602, "params must be an array")),
        (None, _) => Err(Fault::protocol(-32600, "Invalid Request: no method")),
    };
    answer(&envelope.id, outcome)
}

fn answer(id: &Value, outcome: RpcResult) -> Json<Value> {
    Json(match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(f) => {
            let data = if f.exception.is_empty() {
                Value::Null
            } else {
                json!({ "exception": f.exception })
            };
            json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": { "code": f.code, "message": f.message, "data": data },
            })
        }
    })
}

/// The `n`th parameter as a string.
fn text(params: &[Value], n: usize, name: &str) -> Result<String, Fault> {
    params
        .get(n)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Fault::protocol(-32602, format!("parameter {n} ({name}) must be a string")))
}

fn signed_in(caller: &Caller) -> Result<&str, Fault> {
    match caller {
        Caller::User(u) => Ok(u),
        Caller::Anonymous => Err(Fault::not_permitted(
            "You're not allowed to perform this operation: sign in first",
        )),
    }
}

fn sysadmin(app: &App, caller: &Caller) -> Result<(), Fault> {
    let user = signed_in(caller)?;
    if app.store().is_sysadmin(user) {
        Ok(())
    } else {
        Err(Fault::not_permitted(
            "You do not have the permission to manage users and groups",
        ))
    }
}

fn remote_user(app: &App, user: &User) -> Value {
    json!({
        "name": user.username,
        "fullname": user.display_name,
        "email": user.email,
        "key": user.key,
        "url": format!("{}/display/~{}", app.base_url, user.username),
    })
}

fn dispatch(app: &App, caller: &Caller, method: &str, params: &[Value]) -> RpcResult {
    match method {
        "getActiveUsers" | "getUser" | "hasUser" | "getUserGroups" | "getGroups" | "hasGroup" => {
            signed_in(caller)?;
            read(app, method, params)
        }
        "addUser"
        | "editUser"
        | "deactivateUser"
        | "reactivateUser"
        | "removeUser"
        | "addGroup"
        | "removeGroup"
        | "addUserToGroup"
        | "removeUserFromGroup" => {
            sysadmin(app, caller)?;
            write(app, method, params)
        }
        other => Err(Fault::protocol(
            -32601,
            format!("Method not found: {other}"),
        )),
    }
}

fn no_user(name: &str) -> Fault {
    ApiError::new(404, format!("No user with the username '{name}' exists")).into()
}

fn read(app: &App, method: &str, params: &[Value]) -> RpcResult {
    let store = app.store();
    match method {
        "getActiveUsers" => {
            let all = params.first().and_then(Value::as_bool).ok_or_else(|| {
                Fault::protocol(-32602, "parameter 0 (viewAll) must be a boolean")
            })?;
            let names: Vec<&String> = store
                .users
                .values()
                .filter(|u| all || u.active)
                .map(|u| &u.username)
                .collect();
            Ok(json!(names))
        }
        "getUser" => {
            let name = text(params, 0, "username")?;
            let user = store.user(&name).ok_or_else(|| no_user(&name))?;
            Ok(remote_user(app, user))
        }
        "hasUser" => Ok(json!(store.user(&text(params, 0, "username")?).is_some())),
        "getUserGroups" => {
            let name = text(params, 0, "username")?;
            store.user(&name).ok_or_else(|| no_user(&name))?;
            Ok(json!(store.groups_of(&name)))
        }
        "getGroups" => Ok(json!(store.groups.values().collect::<Vec<_>>())),
        _ => Ok(json!(store.group(&text(params, 0, "group")?).is_some())),
    }
}

/// `RemoteUser` as a parameter.
#[derive(Debug, Deserialize)]
struct RemoteUserParam {
    name: Option<String>,
    fullname: Option<String>,
    email: Option<String>,
}

fn remote_user_param(params: &[Value]) -> Result<RemoteUserParam, Fault> {
    params
        .first()
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| Fault::protocol(-32602, "parameter 0 must be a RemoteUser object"))
}

fn write(app: &App, method: &str, params: &[Value]) -> RpcResult {
    let mut store = app.store();
    match method {
        "addUser" => {
            let user = remote_user_param(params)?;
            let password = text(params, 1, "password")?;
            let name = user.name.unwrap_or_default();
            let full = user.fullname.unwrap_or_default();
            let email = user.email.unwrap_or_default();
            if name.trim().is_empty() || full.trim().is_empty() || !email.contains('@') {
                return Err(ApiError::new(
                    400,
                    "A user needs a name, a full name and a valid e-mail address",
                )
                .into());
            }
            store.create_user(&name, &full, &email, Some(&password))?;
            Ok(Value::Null)
        }
        "editUser" => {
            let user = remote_user_param(params)?;
            let name = user.name.unwrap_or_default();
            store.user(&name).ok_or_else(|| no_user(&name))?;
            store.update_user(&name, user.email.as_deref(), user.fullname.as_deref())?;
            Ok(json!(true))
        }
        "deactivateUser" | "reactivateUser" => {
            let name = text(params, 0, "username")?;
            store.set_active(&name, method == "reactivateUser")?;
            Ok(json!(true))
        }
        "removeUser" => {
            store.remove_user(&text(params, 0, "username")?)?;
            Ok(json!(true))
        }
        "addGroup" => {
            store.create_group(&text(params, 0, "group")?)?;
            Ok(json!(true))
        }
        "removeGroup" => {
            store.delete_group(&text(params, 0, "group")?)?;
            Ok(json!(true))
        }
        _ => {
            let name = text(params, 0, "username")?;
            let group = text(params, 1, "group")?;
            store.set_membership(&name, &group, method == "addUserToGroup")?;
            Ok(json!(true))
        }
    }
}
