//! Which caller may use which route: every route of the console and the API is added
//! through [`Routes`], which makes its author say who may call it ([`Access`]) and
//! records it in a table. The protected routes pass [`super::guard`] (authentication,
//! CSRF) and then [`require`] (the caller's scopes); the table is what the
//! authorization matrix test walks, so a route cannot be added without a rule nor
//! escape the test.

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use usersync_store::Scope;

use super::Admin;
use crate::web::error::ApiError;
use crate::web::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, sign-in, setup, static files.
    Public,
    /// A signed-in administrator, or an API token holding this scope (or `admin`).
    Needs(Scope),
    /// The app's SCIM bearer token and nothing else (`/scim/v2/{app}`, checked by
    /// `scim::auth` in each handler; no session, API token or CSRF applies).
    ScimToken,
}

/// One route as registered: what the authorization matrix test walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    pub method: Method,
    /// The path template, e.g. `/apps/{name}`.
    pub path: &'static str,
    pub access: Access,
}

/// A router under construction that records each route's [`Access`].
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    rules: Vec<RouteRule>,
}

impl Routes {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler` for `method` on `path`, callable as `access` says.
    #[must_use]
    pub fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("{method} is not a method a route can answer"));
        let mut method_router: MethodRouter<AppState> = on(filter, handler);
        if let Access::Needs(scope) = access {
            method_router =
                method_router.route_layer(middleware::from_fn(move |r: Request, n: Next| {
                    require(scope, r, n)
                }));
        }
        self.router = self.router.route(path, method_router);
        self.rules.push(RouteRule {
            method,
            path,
            access,
        });
        self
    }

    #[must_use]
    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::GET, path, access, handler)
    }

    #[must_use]
    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::POST, path, access, handler)
    }

    #[must_use]
    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::PUT, path, access, handler)
    }

    #[must_use]
    pub fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::PATCH, path, access, handler)
    }

    #[must_use]
    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        self.add(Method::DELETE, path, access, handler)
    }

    /// Adds every route of `other`.
    #[must_use]
    pub fn merge(mut self, other: Self) -> Self {
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        self
    }

    /// The routes so far, each protected one behind the sign-in `guard` layer; refuses
    /// a table mixing public routes into it (they would then need a caller).
    #[must_use]
    pub fn guarded(self, state: &AppState) -> Self {
        assert!(
            self.rules
                .iter()
                .all(|r| matches!(r.access, Access::Needs(_))),
            "a public route was put behind the sign-in guard"
        );
        Self {
            router: self
                .router
                .route_layer(middleware::from_fn_with_state(state.clone(), super::guard)),
            rules: self.rules,
        }
    }

    /// The router and the table of its routes.
    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteRule>) {
        (self.router, self.rules)
    }
}

/// Refuses a caller whose scopes do not allow `scope` (403); runs after `guard`.
async fn require(scope: Scope, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let allowed = request
        .extensions()
        .get::<Admin>()
        .is_some_and(|admin| admin.scopes.allows(scope));
    if allowed {
        return next.run(request).await;
    }
    let message = format!("this API token lacks the `{scope}` scope this route needs");
    if api {
        ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", message).into_response()
    } else {
        (StatusCode::FORBIDDEN, message).into_response()
    }
}
