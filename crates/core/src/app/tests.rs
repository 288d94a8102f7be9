//! The app model's validation and TOML shape, without a store.

use super::*;
use crate::mapping::FieldProblem;
use crate::policy::SyncPolicy;

fn draft(replacement: &str) -> AppDraft {
    let mut policy = SyncPolicy::default();
    policy.username.regex = r"^([^@]+)@example\.com$".into();
    policy.username.replacement = replacement.into();
    AppDraft {
        name: "Jira".into(),
        okta: OktaDraft {
            url: "https://example.okta.com".into(),
            credential: OktaCredential::ApiToken {
                token: SecretInput::from_text("env:OKTA_TOKEN"),
            },
        },
        target: TargetDraft {
            kind: "jira".into(),
            url: "https://jira.example.com".into(),
            credential: TargetCredential::Pat {
                token: SecretInput::from_text("env:JIRA_PAT"),
            },
        },
        schedule: Schedule::Manual,
        policy,
        events: EventSettings::default(),
        notify: super::NotifySettings::default(),
    }
}

fn refusal(replacement: &str) -> FieldProblem {
    draft(replacement).validate().unwrap_err()
}

#[test]
fn a_replacement_with_text_after_a_group_number_is_accepted_as_the_engine_reads_it() {
    let valid = draft("$1abc").validate().expect("the engine accepts $1abc");
    assert_eq!(valid.policy.username.replacement, "$1abc");
    assert_eq!(valid.target_kind, TargetKind::Jira);
}

#[test]
fn a_replacement_naming_a_missing_group_is_refused_on_the_replacement_field() {
    let problem = refusal("$2");
    assert_eq!(problem.field, "policy.username.replacement");
    assert!(problem.message.contains("group 2"), "{problem}");
    assert_eq!(refusal("${login}").field, "policy.username.replacement");
}

#[test]
fn policy_problems_found_by_the_compiler_carry_the_policy_prefix() {
    let mut d = draft("$1");
    d.policy.default_groups_new_users = vec![String::new()];
    let problem = d.validate().unwrap_err();
    assert_eq!(problem.field, "policy.default_groups_new_users[0]");
}

#[test]
fn a_new_draft_listens_for_the_default_event_types() {
    assert_eq!(
        draft("$1").events.event_types,
        events::DEFAULT_EVENT_TYPES.to_vec()
    );
}

#[test]
fn an_unknown_key_in_the_file_is_refused_as_a_toml_problem() {
    let problem = apps_from_toml("[[app]]\nname = \"x\"\nnmae = 1\n").unwrap_err();
    assert_eq!(problem.field, "toml");
}

#[test]
fn group_renames_is_read_from_the_policy_table_and_a_bad_value_names_the_choices() {
    let file = |value: &str| {
        format!(
            "[[app]]\nname = \"x\"\n[app.okta]\nurl = \"https://example.okta.com\"\n\
             credential = {{ type = \"api_token\", token = \"env:T\" }}\n[app.target]\n\
             kind = \"jira\"\nurl = \"https://jira.example.com\"\n\
             credential = {{ type = \"pat\", token = \"env:P\" }}\n[app.policy]\n\
             group_renames = \"{value}\"\n"
        )
    };
    let apps = apps_from_toml(&file("recreate")).unwrap();
    assert_eq!(
        apps[0].policy.group_renames,
        crate::policy::GroupRenames::Recreate
    );
    assert_eq!(
        SyncPolicy::default().group_renames,
        crate::policy::GroupRenames::Keep,
        "renames are kept unless an app says otherwise"
    );
    let problem = apps_from_toml(&file("rename")).unwrap_err();
    assert!(
        problem.message.contains("group_renames") && problem.message.contains("recreate"),
        "{problem:?}"
    );
}

#[test]
fn urls_with_user_info_are_refused_on_their_field_without_echoing_the_password() {
    for (url, field) in [
        ("https://:s3cret-pw@example.okta.com", "okta.url"),
        ("https://admin:s3cret-pw@example.okta.com", "okta.url"),
        ("https://admin@example.okta.com", "okta.url"),
    ] {
        let mut d = draft("$1");
        d.okta.url = url.into();
        let problem = d.validate().unwrap_err();
        assert_eq!(problem.field, field, "{url}");
        assert!(problem.message.contains("user info"), "{problem}");
        assert!(!problem.message.contains("s3cret-pw"), "{problem}");
    }
    let mut d = draft("$1");
    d.target.url = "https://:s3cret-pw@jira.example.com/jira".into();
    let problem = d.validate().unwrap_err();
    assert_eq!(problem.field, "target.url");
    assert!(!problem.message.contains("s3cret-pw"), "{problem}");
}
