//! Test connection on the settings page checks the values in the form, saved or not,
//! and never sends a stored secret to a host other than the one it was saved for.

use axum::http::StatusCode;
use usersync_testkit::{Sims, small_org, start_jira};

use super::{Browser, Harness, Reply, app_json, post};
use crate::web::pages::settings_form::FormState;

const JIRA_PASSWORD: &str = "jira-SECRET-admin-password";

/// A form's fields by their draft paths, as a browser submits them.
struct Fields(Vec<(String, String)>);

impl Fields {
    /// Sets the field `path` to `value`, as typing into it does.
    fn set(&mut self, path: &str, value: &str) {
        self.0.retain(|(k, _)| k != path);
        self.0.push((path.to_owned(), value.to_owned()));
    }
}

struct World {
    h: Harness,
    b: Browser,
    sims: Sims,
}

impl World {
    async fn new() -> Self {
        let sims = Sims::with_jira_password(small_org(5, 1, 3), JIRA_PASSWORD).await;
        let h = Harness::new().await;
        let b = h.admin().await;
        let token = h.token().await;
        let app = app_json(
            "jira",
            &sims.okta.base_url(),
            sims.okta.api_token(),
            sims.jira.base_url(),
            JIRA_PASSWORD,
        );
        let created = h.call(post("/api/v1/apps").bearer(&token).json(&app)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        Self { h, b, sims }
    }

    /// The saved app's form fields, as the settings page fills them (secrets blank).
    async fn saved_form(&self) -> Fields {
        let app = self.h.state.backend.get_app("jira").await.unwrap();
        Fields(FormState::for_app(&app).pairs().to_vec())
    }

    /// Presses Test connection with `form`'s values.
    async fn test(&self, form: &Fields) -> Reply {
        let mut pairs: Vec<(&str, &str)> = form
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push(("csrf", &self.b.csrf));
        let reply = self
            .h
            .call(post("/apps/jira/check").cookie(&self.b.cookie).form(&pairs))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        for secret in [self.sims.okta.api_token(), JIRA_PASSWORD] {
            assert!(!reply.body.contains(secret), "{}", reply.body);
        }
        reply
    }
}

#[tokio::test]
async fn the_saved_values_with_blank_secrets_pass_using_the_stored_secrets() {
    let w = World::new().await;
    let reply = w.test(&w.saved_form().await).await;
    assert!(reply.body.contains("all checks passed"), "{}", reply.body);
}

#[tokio::test]
async fn an_unsaved_okta_url_is_the_one_tested() {
    let w = World::new().await;
    let mut form = w.saved_form().await;
    let jira = w.sims.jira.base_url().to_owned();
    form.set("okta.url", &jira);
    form.set("okta.credential.token", w.sims.okta.api_token());
    let reply = w.test(&form).await;
    assert!(
        reply.body.contains("does not look like an Okta org"),
        "{}",
        reply.body
    );
    let saved = w.h.state.backend.get_app("jira").await.unwrap();
    assert_eq!(
        saved.okta.url.as_str().trim_end_matches('/'),
        w.sims.okta.base_url().trim_end_matches('/'),
        "nothing is saved"
    );
}

#[tokio::test]
async fn a_blank_secret_is_never_sent_to_a_host_other_than_the_saved_one() {
    let w = World::new().await;
    let elsewhere = start_jira(usersync_sim::jira::JiraSimConfig::default()).await;
    let mut form = w.saved_form().await;
    form.set("target.url", elsewhere.base_url());
    let reply = w.test(&form).await;
    assert!(
        reply.body.contains("target.credential.password")
            && reply.body.contains("enter the secret"),
        "{}",
        reply.body
    );
    assert!(
        elsewhere.requests().is_empty(),
        "no request reaches the other host: {:?}",
        elsewhere.requests()
    );

    // Typed again, the secret is used for the new host.
    form.set("target.credential.password", elsewhere.admin_password());
    let reply = w.test(&form).await;
    assert!(reply.body.contains("all checks passed"), "{}", reply.body);
}
