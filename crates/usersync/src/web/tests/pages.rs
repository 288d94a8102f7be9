//! The console's pages without Okta or Jira: the settings form, its errors beside
//! their fields, write-only secrets, the regex tester, the apps list and audit log.

use axum::http::StatusCode;

use super::{Browser, Harness, get, post};

const SECRET: &str = "okta-SECRET-from-the-form";

/// The settings form as a browser submits it: fields named by the draft's paths, each
/// checkbox after its hidden "false".
fn settings(regex: &str, token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", "Jira prod".into()),
        ("schedule.every_minutes", "30".into()),
        ("schedule.cron", String::new()),
        ("okta.url", "https://example.okta.com".into()),
        ("okta.credential.type", "api_token".into()),
        ("okta.credential.token", token.into()),
        ("okta.credential.client_id", String::new()),
        ("okta.credential.key_id", String::new()),
        ("okta.credential.private_key", String::new()),
        ("policy.username.regex", regex.into()),
        ("policy.username.replacement", "$1".into()),
        ("sample_login", "demouser@example.com".into()),
        ("policy.attributes.display_name", "displayName".into()),
        ("policy.attributes.email", "email".into()),
        ("policy.toggles.import_users", "false".into()),
        ("policy.toggles.import_users", "true".into()),
        ("policy.toggles.update_users", "false".into()),
        ("policy.toggles.update_users", "true".into()),
        ("policy.toggles.enable_disable_users", "false".into()),
        ("policy.scope.group_types", String::new()),
        ("policy.scope.group_types", "OKTA_GROUP".into()),
        (
            "policy.default_groups_new_users",
            "jira-software-users".into(),
        ),
        ("policy.departed", "deactivate".into()),
        ("policy.limits.max_destructive", "25".into()),
        ("policy.limits.max_destructive_percent", "5".into()),
        ("target.kind", "jira".into()),
        ("target.url", "https://jira.example.com".into()),
        ("target.credential.type", "pat".into()),
        ("target.credential.username", String::new()),
        ("target.credential.token", "jira-SECRET-pat".into()),
        ("target.credential.password", String::new()),
    ]
}

/// `fields` with the last value of `key` replaced.
fn with(
    mut fields: Vec<(&'static str, String)>,
    key: &str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let slot = fields
        .iter_mut()
        .rev()
        .find(|(k, _)| *k == key)
        .expect("a field of the form");
    slot.1 = value.into();
    fields
}

/// The error shown beside the field named `path`, if any.
fn error_beside(body: &str, path: &str) -> Option<String> {
    let after = body.split(&format!("id=\"{path}-error\"")).nth(1)?;
    let text = after.split_once('>')?.1.split("</div>").next()?;
    Some(text.to_owned())
}

async fn submit(
    h: &Harness,
    b: &Browser,
    path: &str,
    fields: &[(&'static str, String)],
) -> super::Reply {
    let mut pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.push(("csrf", &b.csrf));
    h.call(post(path).cookie(&b.cookie).form(&pairs)).await
}

#[tokio::test]
async fn a_bad_regex_is_shown_beside_its_field_and_the_secret_is_not_echoed() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let reply = submit(&h, &b, "/new-app", &settings("(.*@", SECRET)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_beside(&reply.body, "policy.username.regex").is_some(),
        "an error beside the regex field: {}",
        reply.body
    );
    assert!(reply.body.contains("role=\"alert\""));
    assert!(reply.body.contains("aria-invalid=\"true\""));
    assert!(
        !reply.body.contains(SECRET),
        "the typed secret is not sent back"
    );
    assert!(
        reply.body.contains("value=\"(.*@\""),
        "the other values are kept"
    );
}

#[tokio::test]
async fn saving_the_settings_form_creates_the_app_and_later_saves_keep_the_secret() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let created = submit(&h, &b, "/new-app", &settings("(.*)@.*", SECRET)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert!(
        created.location().starts_with("/apps/Jira%20prod?flash="),
        "{}",
        created.location()
    );
    let page = h.call(get(created.location()).cookie(&b.cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("App created."));
    assert!(
        page.body
            .contains("data-secret-state=\"okta.credential.token\">set<"),
        "the token shows only as set"
    );
    assert!(!page.body.contains(SECRET));

    let mut edit = settings("(.*)@.*", "");
    edit.retain(|(k, v)| *k != "policy.toggles.update_users" || v == "false");
    let saved = submit(&h, &b, "/apps/Jira%20prod", &edit).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let app = h.store.app_by_name("Jira prod").await.unwrap();
    assert!(!app.policy.toggles.update_users, "unchecked box saved");
    assert_eq!(
        app.policy.default_groups_new_users,
        vec!["jira-software-users".to_owned()]
    );
    assert_eq!(
        app.okta.credential.secrets()[0].1,
        &usersync_store::SecretState::Stored,
        "empty field kept the secret"
    );

    let list = h.call(get("/").cookie(&b.cookie)).await;
    assert!(
        list.body.contains("Jira prod")
            && list.body.contains("every 30 min")
            && list.body.contains(">Synchronize<")
    );
    let audit = h.call(get("/audit").cookie(&b.cookie)).await;
    assert!(
        audit.body.contains("app.create") && audit.body.contains("app.update"),
        "{}",
        audit.body
    );
    assert!(!audit.body.contains(SECRET));
}

#[tokio::test]
async fn a_duplicate_name_is_shown_beside_the_name_field() {
    let h = Harness::new().await;
    let b = h.admin().await;
    assert_eq!(
        submit(&h, &b, "/new-app", &settings("(.*)@.*", SECRET))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let again = submit(&h, &b, "/new-app", &settings("(.*)@.*", SECRET)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("id=\"name-error\""), "{}", again.body);
}

#[tokio::test]
async fn the_regex_tester_shows_what_a_login_becomes() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let ok = h
        .call(
            post("/regex-test")
                .cookie(&b.cookie)
                .header("x-csrf-token", &b.csrf)
                .form(&[
                    ("policy.username.regex", "(.*)@.*"),
                    ("policy.username.replacement", "$1"),
                    ("sample_login", "demouser@example.com"),
                ]),
        )
        .await;
    assert!(
        ok.body.contains("<b><code>demouser</code></b>"),
        "{}",
        ok.body
    );
    let bad = h
        .call(
            post("/regex-test")
                .cookie(&b.cookie)
                .header("x-csrf-token", &b.csrf)
                .form(&[
                    ("policy.username.regex", "(.*)@.*"),
                    ("policy.username.replacement", "$2"),
                    ("sample_login", "a@b"),
                ]),
        )
        .await;
    assert!(
        bad.body.contains("data-regex-result=\"error\""),
        "{}",
        bad.body
    );
    // The error names the field as the form labels it, not by its stored path.
    assert!(bad.body.contains("Replacement: "), "{}", bad.body);
    assert!(!bad.body.contains("username.replacement"), "{}", bad.body);
}

#[tokio::test]
async fn unknown_apps_and_runs_show_a_not_found_page_inside_the_shell() {
    let h = Harness::new().await;
    let b = h.admin().await;
    for path in ["/apps/missing", "/runs/42", "/apps/missing/preview"] {
        let reply = h.call(get(path).cookie(&b.cookie)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            reply.body.contains("Not found") && reply.body.contains("Sign out"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn apps_named_like_fixed_pages_or_with_url_characters_get_their_own_pages() {
    let h = Harness::new().await;
    let b = h.admin().await;
    for (name, path) in [
        ("new", "/apps/new"),
        ("regex-test", "/apps/regex-test"),
        ("hr/ops ?#%", "/apps/hr%2Fops%20%3F%23%25"),
    ] {
        let mut fields = settings("(.*)@.*", SECRET);
        fields[0].1 = name.into();
        let created = submit(&h, &b, "/new-app", &fields).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        assert!(
            created.location().starts_with(&format!("{path}?flash=")),
            "{}",
            created.location()
        );
        let page = h.call(get(path).cookie(&b.cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{name}: {}", page.body);
        assert!(
            page.body.contains(&format!("action=\"{path}\""))
                && page.body.contains(&format!("href=\"{path}/preview\"")),
            "{name}: the settings page of the app, linking under its own path"
        );
        fields[1].1 = "45".into();
        let saved = submit(&h, &b, path, &fields).await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{name}: {}",
            saved.body
        );
        let app = h.store.app_by_name(name).await.unwrap();
        assert_eq!(
            app.schedule,
            usersync_store::Schedule::EveryMinutes(45),
            "{name}: saving updates the app rather than creating one"
        );
    }
    let list = h.call(get("/").cookie(&b.cookie)).await;
    for href in [
        "/apps/new\"",
        "/apps/regex-test\"",
        "/apps/hr%2Fops%20%3F%23%25\"",
    ] {
        assert!(list.body.contains(&format!("href=\"{href}")), "{href}");
    }
    assert!(
        list.body.contains("href=\"/new-app\""),
        "the Add app button"
    );
    let form = h.call(get("/new-app").cookie(&b.cookie)).await;
    assert!(form.body.contains("<h1>New app</h1>"), "{}", form.body);
}

#[tokio::test]
async fn a_replacement_with_text_after_a_group_is_saved_from_the_form_as_the_engine_reads_it() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let fields = with(
        settings("^([^@]+)@.*$", SECRET),
        "policy.username.replacement",
        "$1abc",
    );
    let created = submit(&h, &b, "/new-app", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let app = h.store.app_by_name("Jira prod").await.unwrap();
    assert_eq!(app.policy.username.replacement, "$1abc");
}

#[tokio::test]
async fn validation_problems_show_beside_the_field_named_by_their_path_as_in_the_api() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let t = h.token().await;
    for (path, value, json_path) in [
        ("policy.username.regex", "(.*@", "/policy/username/regex"),
        (
            "policy.username.replacement",
            "$2",
            "/policy/username/replacement",
        ),
        ("okta.url", "http://example.okta.com", "/okta/url"),
    ] {
        let reply = submit(
            &h,
            &b,
            "/new-app",
            &with(settings("(.*)@.*", SECRET), path, value),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            reply.body
        );
        let beside = error_beside(&reply.body, path);
        assert!(
            beside.as_deref().is_some_and(|e| !e.is_empty()),
            "{path}: {}",
            reply.body
        );

        let mut json = super::app_json(
            "Jira prod",
            "https://example.okta.com",
            SECRET,
            "https://jira.example.com",
            "jira-SECRET-pat",
        );
        *json.pointer_mut(json_path).expect("a path of the draft") = value.into();
        let api = h.call(post("/api/v1/apps").bearer(&t).json(&json)).await;
        assert_eq!(
            api.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            api.body
        );
        assert_eq!(api.json()["field"], path, "the API names the same field");
        assert_eq!(
            api.json()["message"].as_str().map(html_escape),
            beside.map(|words| format!("{path}: {words}")),
            "the same words in both"
        );
    }
}

/// What askama's HTML escaping makes of a message.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn the_group_renames_choice_is_shown_saved_and_a_bad_value_is_refused_beside_it() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let form = h.call(get("/new-app").cookie(&b.cookie)).await;
    assert!(
        form.body
            .contains("<option value=\"keep\" selected>Keep the old name"),
        "keep is the default: {}",
        form.body
    );
    let mut bad = settings("(.*)@.*", SECRET);
    bad.push(("policy.group_renames", "rename".into()));
    let refused = submit(&h, &b, "/new-app", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = error_beside(&refused.body, "policy.group_renames")
        .expect("an error beside the group renames field");
    assert!(error.contains("recreate"), "{error}");
    let mut fields = settings("(.*)@.*", SECRET);
    fields.push(("policy.group_renames", "recreate".into()));
    let created = submit(&h, &b, "/new-app", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let app = h.store.app_by_name("Jira prod").await.unwrap();
    assert_eq!(
        app.policy.group_renames,
        usersync_core::policy::GroupRenames::Recreate
    );
    let page = h.call(get("/apps/Jira%20prod").cookie(&b.cookie)).await;
    assert!(
        page.body
            .contains("<option value=\"recreate\" selected>Recreate"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_apps_list_shows_a_held_run_even_when_a_later_run_of_the_app_succeeded() {
    use usersync_store::{RunStatus, RunTrigger};
    let h = Harness::new().await;
    let b = h.admin().await;
    let created = submit(&h, &b, "/new-app", &settings("(.*)@.*", SECRET)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let app = h.store.app_by_name("Jira prod").await.unwrap();
    let held = h.store.start_run(app.id, RunTrigger::Login).await.unwrap();
    h.store
        .finish_run(held.id, RunStatus::Held, Some("over the limits"))
        .await
        .unwrap();
    let later = h.store.start_run(app.id, RunTrigger::Login).await.unwrap();
    h.store
        .finish_run(later.id, RunStatus::Succeeded, None)
        .await
        .unwrap();

    let list = h.call(get("/").cookie(&b.cookie)).await;
    assert!(
        list.body.contains(&format!(
            "href=\"/runs/{}\"><span class=\"badge held\"",
            held.id
        )),
        "the held run is flagged beside the latest one: {}",
        list.body
    );
    let t = h.token().await;
    let api = h.call(get("/api/v1/apps").bearer(&t)).await;
    assert_eq!(api.json()[0]["last_run"]["status"], "succeeded");
    assert_eq!(api.json()[0]["held_run"]["id"], held.id.0);
}

#[tokio::test]
async fn the_app_form_offers_scim_and_atlassian_cloud_and_saves_one_with_a_bearer_token() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let form = h.call(get("/new-app").cookie(&b.cookie)).await;
    assert!(
        form.body.contains("<option value=\"scim\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("<option value=\"atlassian-cloud\""));
    assert!(
        form.body
            .contains("name=\"target.credential.type\" value=\"bearer\"")
    );
    let fields = with(
        with(
            with(
                settings("(.*)@.*", SECRET),
                "target.kind",
                "atlassian-cloud",
            ),
            "target.credential.type",
            "bearer",
        ),
        "target.url",
        "https://api.atlassian.com/scim/directory/abc",
    );
    let created = submit(&h, &b, "/new-app", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let app = h.store.app_by_name("Jira prod").await.unwrap();
    assert_eq!(app.target.kind, usersync_store::TargetKind::AtlassianCloud);
    assert!(matches!(
        app.target.credential,
        usersync_store::TargetCredential::Bearer { .. }
    ));
    let list = h.call(get("/").cookie(&b.cookie)).await;
    assert!(list.body.contains("Atlassian Cloud"), "{}", list.body);
}

#[tokio::test]
async fn a_scim_kind_with_a_password_credential_is_refused_beside_the_credential_type() {
    let h = Harness::new().await;
    let b = h.admin().await;
    let fields = with(settings("(.*)@.*", SECRET), "target.kind", "scim");
    let reply = submit(&h, &b, "/new-app", &fields).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error =
        error_beside(&reply.body, "target.credential.type").expect("an error beside the type");
    assert!(error.contains("bearer"), "{error}");
}
