//! The app page's Generate SCIM token: shown once, kept by no cache, stored only as a
//! hash, and a new one replaces the old at once.

use axum::http::StatusCode;

use super::{Harness, get, post};

fn shown_token(body: &str) -> Option<String> {
    let notice = body.split("id=\"new-scim-token\"").nth(1)?;
    let pre = notice.split("<pre class=\"mono\">").nth(1)?;
    Some(pre.split("</pre>").next()?.trim().to_owned())
}

#[tokio::test]
async fn generate_scim_token_shows_it_once_and_a_new_one_replaces_the_old() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let toml = usersync_testkit::AppToml::new(
        "jira",
        "https://example.okta.com",
        "okta-token",
        "https://jira.example.com",
    )
    .to_string();
    usersync_testkit::apply_apps(&h.store, &toml, "tests").await;
    let page = h.call(get("/apps/jira").cookie(&b.cookie)).await;
    assert!(
        page.body.contains("/scim/v2/jira\""),
        "the page shows the SCIM base URL"
    );
    assert!(shown_token(&page.body).is_none());

    let press = || {
        post("/apps/jira/scim-token")
            .cookie(&b.cookie)
            .form(&[("csrf", &b.csrf)])
    };
    let first = h.call(press()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.headers["cache-control"], "no-store");
    let token = shown_token(&first.body).expect("the token is shown");
    assert!(token.starts_with("usc_"));
    let app = h.store.app_by_name("jira").await.unwrap();
    let stored = h.store.scim_token_hash(app.id).await.unwrap().unwrap();
    assert_ne!(stored, token, "only a hash is stored");
    let again = h.call(get("/apps/jira").cookie(&b.cookie)).await;
    assert!(!again.body.contains(&token), "shown only once");

    let users = |t: &str| get("/scim/v2/jira/Users").bearer(t);
    assert_eq!(h.call(users(&token)).await.status, StatusCode::OK);
    let second = shown_token(&h.call(press()).await.body).unwrap();
    assert_ne!(second, token);
    assert_eq!(h.call(users(&token)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.call(users(&second)).await.status, StatusCode::OK);
}
