//! The authorization matrix: every route the router registered (its own table, so a
//! new route is in here the moment it exists) against every kind of caller:
//! anonymous, a wrong token, a forged session, an expired and a revoked token, a
//! token of each scope, and a session without its CSRF token.

use axum::http::{Method, StatusCode};
use usersync_store::Scope;

use super::{Harness, Reply, req, route_rules, sample_path};
use crate::web::auth::SESSION_COOKIE;
use crate::web::{Access, RouteRule};

fn protected(h: &Harness) -> Vec<(RouteRule, Scope)> {
    route_rules(h)
        .into_iter()
        .filter_map(|r| match r.access {
            Access::Needs(scope) => Some((r, scope)),
            Access::Public | Access::ScimToken => None,
        })
        .collect()
}

fn is_api(rule: &RouteRule) -> bool {
    rule.path.starts_with("/api/")
}

fn refused_as_unauthenticated(rule: &RouteRule, who: &str, reply: &Reply) {
    let (m, p) = (&rule.method, rule.path);
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{who}: {m} {p}: {}",
        reply.body
    );
    if is_api(rule) {
        assert_eq!(reply.json()["code"], "unauthenticated", "{who}: {m} {p}");
    } else {
        assert!(
            reply.body.contains("action=\"/signin\""),
            "{who}: {m} {p} offers sign-in"
        );
    }
}

#[tokio::test]
async fn only_health_sign_in_setup_and_static_files_are_public() {
    let h = Harness::new().await;
    let public: Vec<String> = route_rules(&h)
        .into_iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        public,
        [
            "GET /healthz",
            "GET /readyz",
            "GET /signin",
            "POST /signin",
            "GET /setup",
            "POST /setup",
            "GET /static/{*path}",
        ]
    );
}

#[tokio::test]
async fn approval_needs_approve_syncs_need_sync_changes_need_admin_and_the_rest_read() {
    let h = Harness::new().await;
    let beyond_read: Vec<String> = protected(&h)
        .into_iter()
        .filter(|(_, scope)| *scope != Scope::Read)
        .map(|(r, scope)| format!("{scope} {} {}", r.method, r.path))
        .collect();
    assert_eq!(
        beyond_read,
        [
            "admin GET /new-app",
            "admin POST /new-app",
            "admin POST /apps/{name}",
            "admin POST /apps/{name}/delete",
            "admin POST /apps/{name}/hook-secret",
            "admin POST /apps/{name}/hook-register",
            "admin POST /apps/{name}/scim-token",
            "admin POST /apps/{name}/notify-test",
            "sync POST /apps/{name}/sync",
            "approve POST /runs/{id}/approve",
            "approve POST /runs/{id}/reject",
            "admin GET /settings/access",
            "admin POST /settings/access/tokens",
            "admin POST /settings/access/tokens/{name}/rotate",
            "admin POST /settings/access/tokens/{name}/revoke",
            "admin POST /settings/access/admins",
            "admin POST /settings/access/admins/{name}/password",
            "admin POST /settings/access/admins/{name}/delete",
            "admin POST /api/v1/apps",
            "admin PUT /api/v1/apps/{app}",
            "admin DELETE /api/v1/apps/{app}",
            "sync POST /api/v1/apps/{app}/sync",
            "sync POST /api/v1/apps/{app}/sync-user",
            "approve POST /api/v1/runs/{id}/approve",
            "approve POST /api/v1/runs/{id}/reject",
        ]
    );
}

#[tokio::test]
async fn every_protected_route_refuses_anonymous_wrong_forged_expired_and_revoked_callers() {
    let h = Harness::new().await;
    h.create_admin().await;
    let expired = h
        .token_with("expired", "admin", Some(chrono::Duration::minutes(-1)))
        .await;
    let revoked = h.token_with("revoked", "admin", None).await;
    h.store.revoke_api_token("revoked", "tests").await.unwrap();
    let rules = protected(&h);
    assert!(
        rules.len() > 40,
        "the table lists the routes: {}",
        rules.len()
    );
    for (rule, _) in &rules {
        let path = sample_path(rule.path);
        let call = |who: &str| {
            let r = req(rule.method.clone(), &path);
            match who {
                "anonymous" => r,
                "wrong token" => r.bearer("ust_not-a-real-token"),
                "forged session" => r.cookie(&format!("{SESSION_COOKIE}=forged")),
                "expired token" => r.bearer(&expired),
                _ => r.bearer(&revoked),
            }
        };
        for who in [
            "anonymous",
            "wrong token",
            "forged session",
            "expired token",
            "revoked token",
        ] {
            let reply = h.call(call(who)).await;
            refused_as_unauthenticated(rule, who, &reply);
        }
    }
}

#[tokio::test]
async fn a_token_of_each_scope_opens_exactly_the_routes_that_scope_allows() {
    let h = Harness::new().await;
    h.create_admin().await;
    let mut tokens = Vec::new();
    for scope in Scope::ALL {
        tokens.push((
            scope,
            h.token_with(scope.as_str(), scope.as_str(), None).await,
        ));
    }
    for (rule, needed) in protected(&h) {
        let path = sample_path(rule.path);
        for (scope, token) in &tokens {
            let reply = h.call(req(rule.method.clone(), &path).bearer(token)).await;
            let (m, p) = (&rule.method, rule.path);
            if *scope == needed || *scope == Scope::Admin {
                assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&reply.status),
                    "a {scope} token may call {m} {p}: {} {}",
                    reply.status,
                    reply.body
                );
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "a {scope} token on {m} {p}"
                );
                assert!(
                    reply.body.contains(&format!("`{needed}` scope")),
                    "{m} {p}: {}",
                    reply.body
                );
                if is_api(&rule) {
                    assert_eq!(reply.json()["code"], "insufficient_scope", "{m} {p}");
                }
            }
        }
    }
}

#[tokio::test]
async fn state_changing_requests_with_a_session_but_without_its_csrf_token_are_refused_with_403() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let unsafe_rules: Vec<_> = protected(&h)
        .into_iter()
        .filter(|(r, _)| r.method != Method::GET)
        .collect();
    assert!(!unsafe_rules.is_empty());
    for (rule, _) in unsafe_rules {
        let (m, path) = (rule.method.clone(), sample_path(rule.path));
        let bare = h.call(req(m.clone(), &path).cookie(&b.cookie)).await;
        assert_eq!(
            bare.status,
            StatusCode::FORBIDDEN,
            "{m} {path} without a token"
        );
        let wrong = h
            .call(
                req(m.clone(), &path)
                    .cookie(&b.cookie)
                    .form(&[("csrf", "guess")]),
            )
            .await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{m} {path} with a wrong token"
        );
        let header = h
            .call(
                req(m.clone(), &path)
                    .cookie(&b.cookie)
                    .header("x-csrf-token", "guess"),
            )
            .await;
        assert_eq!(
            header.status,
            StatusCode::FORBIDDEN,
            "{m} {path} with a wrong header"
        );
        if is_api(&rule) {
            assert_eq!(header.json()["code"], "csrf_refused");
        }
        if rule.path == "/signout" {
            continue; // with its token it ends the session the rest of this test uses
        }
        let right = h
            .call(
                req(m.clone(), &path)
                    .cookie(&b.cookie)
                    .header("x-csrf-token", &b.csrf),
            )
            .await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&right.status),
            "{m} {path} with the session's token: {}",
            right.status
        );
    }
    for (rule, _) in protected(&h)
        .into_iter()
        .filter(|(r, _)| r.method == Method::GET)
    {
        let path = sample_path(rule.path);
        let reply = h.call(req(Method::GET, &path).cookie(&b.cookie)).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&reply.status),
            "GET {path} needs no CSRF token: {}",
            reply.status
        );
    }
}

#[tokio::test]
async fn scim_routes_take_only_the_apps_scim_token_never_a_session_or_an_api_token() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let api_token = h.token().await;
    let toml = usersync_testkit::AppToml::new(
        "scimapp",
        "https://example.okta.com",
        "okta-token",
        "https://jira.example.com",
    )
    .to_string();
    usersync_testkit::apply_apps(&h.store, &toml, "tests").await;
    let app = h.store.app_by_name("scimapp").await.unwrap();
    let scim_token = crate::scim::auth::generate(&h.store, &app, "tests")
        .await
        .unwrap();
    let rules: Vec<RouteRule> = route_rules(&h)
        .into_iter()
        .filter(|r| r.access == Access::ScimToken)
        .collect();
    assert_eq!(rules.len(), 22, "{rules:?}");
    for rule in &rules {
        assert!(rule.path.starts_with("/scim/v2/{app}/"), "{}", rule.path);
        let path = rule
            .path
            .replace("{app}", "scimapp")
            .replace("{id}", "999999")
            .replace("{*rest}", "Bulk");
        for (who, r) in [
            ("anonymous", req(rule.method.clone(), &path)),
            (
                "wrong token",
                req(rule.method.clone(), &path).bearer("usc_wrong"),
            ),
            (
                "an admin API token",
                req(rule.method.clone(), &path).bearer(&api_token),
            ),
            (
                "a session",
                req(rule.method.clone(), &path).cookie(&b.cookie),
            ),
        ] {
            let reply = h.call(r).await;
            let (m, p) = (&rule.method, rule.path);
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{who}: {m} {p}");
            assert_eq!(
                reply.headers["content-type"], "application/scim+json",
                "{who}: {m} {p}"
            );
            assert_eq!(reply.json()["status"], "401", "{who}: {m} {p}");
        }
        // The right token on another app's path is refused too.
        let other = rule
            .path
            .replace("{app}", "no-such-app")
            .replace("{id}", "999999")
            .replace("{*rest}", "Bulk");
        let reply = h
            .call(req(rule.method.clone(), &other).bearer(&scim_token))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{} {other}",
            rule.method
        );
        // And the app's token passes authentication (the answer is about the request).
        let reply = h
            .call(req(rule.method.clone(), &path).bearer(&scim_token))
            .await;
        assert_ne!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{} {path}: {}",
            rule.method,
            reply.body
        );
    }
}

#[tokio::test]
async fn the_report_page_its_exports_and_its_api_route_need_the_read_scope() {
    let h = Harness::new().await;
    let report: Vec<String> = protected(&h)
        .into_iter()
        .filter(|(r, _)| r.path.contains("report"))
        .map(|(r, scope)| format!("{scope} {} {}", r.method, r.path))
        .collect();
    assert_eq!(
        report,
        [
            "read GET /apps/{name}/report",
            "read GET /apps/{name}/report.json",
            "read GET /apps/{name}/report.csv",
            "read GET /api/v1/apps/{app}/report",
        ]
    );
}
