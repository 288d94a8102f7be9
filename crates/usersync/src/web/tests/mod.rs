//! In-process handler tests: the real router over the real store (in memory) and,
//! where a test needs Okta and Jira, the emulators on 127.0.0.1 port 0.

mod access;
mod api;
mod auth;
mod engine;
mod explain;
mod form;
mod live;
mod login_sync;
mod matrix;
mod metrics;
mod notify;
mod openapi;
mod pages;
mod scale;
mod scim_token;
mod secrets;
mod settings_walk;
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

    /// As if the connection came from `addr` (`ip:port`).
    pub fn peer(mut self, addr: &str) -> Self {
        let addr: std::net::SocketAddr = addr.parse().expect("an ip:port");
        self.builder = self.builder.extension(axum::extract::ConnectInfo(addr));
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

    /// The same harness with its state changed by `change` (e.g. `serve --public-url`).
    #[must_use]
    pub fn with(mut self, change: impl FnOnce(&mut AppState)) -> Self {
        change(&mut self.state);
        self.app = router(self.state.clone());
        self
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
        web_auth::accounts::create_admin_with(
            &self.state.backend,
            ADMIN,
            SecretString::from(PASSWORD.to_owned()),
            "tests",
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

    /// An API token with the `admin` scope.
    pub async fn token(&self) -> String {
        self.token_with("tests", "admin", None).await
    }

    /// An API token named `name` with `scopes` (e.g. `read,sync`) and an optional expiry.
    pub async fn token_with(
        &self,
        name: &str,
        scopes: &str,
        expires_in: Option<chrono::Duration>,
    ) -> String {
        let request = web_auth::accounts::TokenRequest {
            name: name.to_owned(),
            scopes: usersync_store::Scopes::parse(scopes).expect("scopes"),
            expires_in,
        };
        web_auth::accounts::create_api_token_with(&self.state.backend, &request, "tests")
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

/// Every route as the router registered it (see `web::route_table`).
pub fn route_rules(h: &Harness) -> Vec<super::RouteRule> {
    super::route_table(h.state.clone()).1
}

/// A concrete path for a route's template: `{name}`/`{app}` an app that does not
/// exist, `{id}` a run that does not exist, the static wildcard a real file.
pub fn sample_path(template: &str) -> String {
    let path = template
        .replace("{name}", "no-such-app")
        .replace("{app}", "no-such-app")
        .replace("{id}", "999999")
        .replace("{*path}", "app.css");
    if path.ends_with("/explain") && path.starts_with("/api/") {
        format!("{path}?login=a")
    } else {
        path
    }
}

pub fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).expect("a method")
}
