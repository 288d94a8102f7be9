//! Settings → Access: administrators and API tokens managed from the console, each
//! change in the audit log under the signed-in administrator's name.

use axum::http::StatusCode;

use super::{ADMIN, Harness, get, post};

/// The new token's value the page shows once.
fn shown_value(body: &str) -> String {
    let start = body.find("ust_").expect("the value is shown");
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

#[tokio::test]
async fn an_administrator_creates_rotates_and_revokes_a_scoped_token_on_the_access_page() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let created = h
        .call(post("/settings/access/tokens").cookie(&b.cookie).form(&[
            ("csrf", &b.csrf),
            ("name", "ci"),
            ("scope", "read"),
            ("scope", "sync"),
            ("expires_in", "90d"),
        ]))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let value = shown_value(&created.body);
    assert!(created.body.contains("read sync"), "{}", created.body);
    assert_eq!(
        h.call(get("/api/v1/runs").bearer(&value)).await.status,
        StatusCode::OK
    );
    let listed = h.call(get("/settings/access").cookie(&b.cookie)).await;
    assert!(
        !listed.body.contains(&value),
        "the value is shown only once"
    );

    let rotated = h
        .call(
            post("/settings/access/tokens/ci/rotate")
                .cookie(&b.cookie)
                .form(&[("csrf", &b.csrf)]),
        )
        .await;
    let new_value = shown_value(&rotated.body);
    assert_ne!(new_value, value);
    assert_eq!(
        h.call(get("/api/v1/runs").bearer(&value)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.call(get("/api/v1/runs").bearer(&new_value)).await.status,
        StatusCode::OK
    );

    let revoked = h
        .call(
            post("/settings/access/tokens/ci/revoke")
                .cookie(&b.cookie)
                .form(&[("csrf", &b.csrf)]),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(revoked.location(), "/settings/access?flash=token-revoked");
    assert_eq!(
        h.call(get("/api/v1/runs").bearer(&new_value)).await.status,
        StatusCode::UNAUTHORIZED
    );

    let bad = h
        .call(post("/settings/access/tokens").cookie(&b.cookie).form(&[
            ("csrf", &b.csrf),
            ("name", "x"),
            ("expires_in", "soon"),
        ]))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("scopes:"), "{}", bad.body);

    let entries = h
        .store
        .audit_log(&usersync_store::AuditFilter::default(), 10)
        .await
        .unwrap();
    let seen: Vec<_> = entries
        .iter()
        .take(3)
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (ADMIN, "api_token.revoke"),
            (ADMIN, "api_token.rotate"),
            (ADMIN, "api_token.create")
        ]
    );
}

#[tokio::test]
async fn administrators_are_added_given_passwords_and_deleted_but_never_the_last() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let last = h
        .call(
            post(&format!("/settings/access/admins/{ADMIN}/delete"))
                .cookie(&b.cookie)
                .form(&[("csrf", &b.csrf)]),
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.body);
    assert!(last.body.contains("last administrator"), "{}", last.body);

    let added = h
        .call(post("/settings/access/admins").cookie(&b.cookie).form(&[
            ("csrf", &b.csrf),
            ("username", "bob"),
            ("password", "a long enough password for bob"),
        ]))
        .await;
    assert_eq!(
        added.location(),
        "/settings/access?flash=admin-created",
        "{}",
        added.body
    );
    let page = h
        .call(get("/settings/access?flash=admin-created").cookie(&b.cookie))
        .await;
    assert!(page.body.contains("bob") && page.body.contains("Administrator created."));
    let changed = h
        .call(
            post("/settings/access/admins/bob/password")
                .cookie(&b.cookie)
                .form(&[
                    ("csrf", &b.csrf),
                    ("password", "another long password for bob"),
                ]),
        )
        .await;
    assert_eq!(
        changed.location(),
        "/settings/access?flash=password-changed"
    );
    let deleted = h
        .call(
            post("/settings/access/admins/bob/delete")
                .cookie(&b.cookie)
                .form(&[("csrf", &b.csrf)]),
        )
        .await;
    assert_eq!(deleted.location(), "/settings/access?flash=admin-deleted");
    assert_eq!(h.store.list_admins().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_token_without_the_admin_scope_cannot_open_the_access_page() {
    let h = Harness::new().await;
    h.create_admin().await;
    let approver = h.token_with("approver", "approve,sync,read", None).await;
    let reply = h.call(get("/settings/access").bearer(&approver)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let minted = h
        .call(
            post("/settings/access/tokens")
                .bearer(&approver)
                .form(&[("name", "mine"), ("scope", "admin")]),
        )
        .await;
    assert_eq!(
        minted.status,
        StatusCode::FORBIDDEN,
        "a token cannot mint a stronger one"
    );
    assert!(
        h.store
            .list_api_tokens()
            .await
            .unwrap()
            .iter()
            .all(|t| t.name != "mine")
    );
}
