//! In-process handler tests: the real router over the real store (in memory) and,
//! where a test needs Okta and Jira, the emulators on 127.0.0.1 port 0.

mod api;
mod auth;
mod engine;
mod metrics;
mod openapi;
mod pages;
mod secrets;
mod test_connection;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use secrecy::SecretString;
use serde_json::Value;
use tower::ServiceExt as _;
use usersync_core::app::SecretRefAllowList;
use usersync_store::Store;

use super::{AppState, Backend, auth as web_auth, router};
use crate::engine::{Deps, Silent};

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery staple";

/// A router over a fresh in-memory store.
pub struct Harness {
    pub state: AppState,
    pub app: Router,
    pub store: Store,
}

/// An HTTP answer, body as text.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The value a `Set-Cookie` header gives `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|v| v.split(';').next().unwrap_or("").to_owned())
        })
    }
}

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// Builds a request.
pub struct Req {
    builder: axum::http::request::Builder,
    body: Body,
}

pub fn req(method: Method, path: &str) -> Req {
    Req {
        builder: Request::builder().method(method).uri(path),
        body: Body::empty(),
    }
}

pub fn get(path: &str) -> Req {
    req(Method::GET, path)
}

pub fn post(path: &str) -> Req {
    req(Method::POST, path)
}

impl Req {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.builder = self
            .builder
            .header("content-type", "application/x-www-form-urlencoded");
        self.body = Body::from(body);
        self
    }

    pub fn json(mut self, value: &Value) -> Self {
        self.builder = self.builder.header("content-type", "application/json");
        self.body = Body::from(value.to_string());
        self
    }
}

impl Harness {
    pub async fn new() -> Self {
        let store = Store::open_in_memory().await.expect("in-memory store");
        Self::over(store)
    }

    pub fn over(store: Store) -> Self {
        Self::allowing(store, SecretRefAllowList::default())
    }

    /// A router whose API accepts the secret references `allowed` permits.
    pub fn allowing(store: Store, allowed: SecretRefAllowList) -> Self {
        crate::telemetry::init_for_tests();
        let mut deps = Deps::new(store.clone());
        deps.progress = Arc::new(Silent);
        deps.secret_refs = allowed;
        let state = AppState::new(Backend::new(deps), false);
        Self {
            app: router(state.clone()),
            state,
            store,
        }
    }

    pub async fn call(&self, r: Req) -> Reply {
        let request = r.builder.body(r.body).expect("a valid request");
        let response = self
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
            .await
            .expect("a body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn create_admin(&self) {
        web_auth::create_admin_with(
            &self.state.backend,
            ADMIN,
            SecretString::from(PASSWORD.to_owned()),
        )
        .await
        .expect("admin created");
    }

    /// Signs in through the sign-in form, as a browser does.
    pub async fn sign_in(&self) -> Browser {
        let form = self.call(get("/signin")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let pre = form
            .cookie(web_auth::csrf::PRE_SESSION_COOKIE)
            .expect("a form cookie");
        let reply = self
            .call(
                post("/signin")
                    .cookie(&format!("{}={pre}", web_auth::csrf::PRE_SESSION_COOKIE))
                    .form(&[
                        ("csrf", &pre),
                        ("username", ADMIN),
                        ("password", PASSWORD),
                        ("next", "/"),
                    ]),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let id = reply
            .cookie(web_auth::SESSION_COOKIE)
            .expect("a session cookie");
        let session = self
            .state
            .backend
            .session(&web_auth::sha256_hex(&id))
            .await
            .unwrap()
            .expect("the session is stored");
        Browser {
            cookie: format!("{}={id}", web_auth::SESSION_COOKIE),
            csrf: session.csrf_token,
        }
    }

    /// An administrator signed in.
    pub async fn admin(&self) -> Browser {
        self.create_admin().await;
        self.sign_in().await
    }

    pub async fn token(&self) -> String {
        web_auth::create_api_token_with(&self.state.backend, "tests")
            .await
            .expect("token created")
    }
}

/// The JSON of an app (the draft's shape, as in TOML), pointing at `okta_url` and `jira_url` with the given secrets.
pub fn app_json(
    name: &str,
    okta_url: &str,
    okta_token: &str,
    jira_url: &str,
    jira_password: &str,
) -> Value {
    serde_json::json!({
        "name": name,
        "okta": { "url": okta_url, "credential": { "type": "api_token", "token": okta_token } },
        "target": {
            "kind": "jira",
            "url": jira_url,
            "credential": { "type": "basic", "username": "admin", "password": jira_password }
        },
        "schedule": { "every_minutes": 60 },
        "policy": { "username": { "regex": "(.*)@.*", "replacement": "$1" } }
    })
}

/// Every protected route, with a sample path.
pub const PROTECTED: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/new-app"),
    ("POST", "/new-app"),
    ("POST", "/regex-test"),
    ("GET", "/apps/x"),
    ("POST", "/apps/x"),
    ("POST", "/apps/x/delete"),
    ("POST", "/apps/x/check"),
    ("GET", "/apps/x/explain"),
    ("GET", "/apps/x/preview"),
    ("GET", "/apps/x/preview.json"),
    ("GET", "/apps/x/preview.csv"),
    ("POST", "/apps/x/sync"),
    ("GET", "/apps/x/live"),
    ("GET", "/apps/x/live/events"),
    ("GET", "/runs"),
    ("GET", "/runs/1"),
    ("POST", "/runs/1/approve"),
    ("POST", "/runs/1/reject"),
    ("GET", "/audit"),
    ("GET", "/metrics"),
    ("POST", "/signout"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/apps"),
    ("POST", "/api/v1/apps"),
    ("GET", "/api/v1/apps/x"),
    ("PUT", "/api/v1/apps/x"),
    ("DELETE", "/api/v1/apps/x"),
    ("POST", "/api/v1/apps/x/check"),
    ("GET", "/api/v1/apps/x/plan"),
    ("POST", "/api/v1/apps/x/sync"),
    ("POST", "/api/v1/apps/x/sync-user"),
    ("GET", "/api/v1/apps/x/explain?login=a"),
    ("GET", "/api/v1/runs"),
    ("GET", "/api/v1/runs/1"),
    ("GET", "/api/v1/runs/1/operations"),
    ("POST", "/api/v1/runs/1/approve"),
    ("POST", "/api/v1/runs/1/reject"),
];

pub fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).expect("a method")
}
