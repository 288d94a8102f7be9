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
            ca_file: None,
        },
        target: TargetDraft {
            kind: "jira".into(),
            url: "https://jira.example.com".into(),
            credential: TargetCredential::Pat {
                token: SecretInput::from_text("env:JIRA_PAT"),
            },
            ca_file: None,
            user_server: None,
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

#[test]
fn a_scim_target_needs_a_bearer_token_and_a_data_center_target_refuses_one() {
    let mut scim = draft("$1");
    scim.target.kind = "atlassian-cloud".into();
    let problem = scim.validate().unwrap_err();
    assert_eq!(problem.field, "target.credential.type");
    assert!(problem.message.contains("bearer"), "{}", problem.message);

    let mut scim = draft("$1");
    scim.target.kind = "SCIM".into();
    scim.target.credential = TargetCredential::Bearer {
        token: SecretInput::from_text("env:SCIM_TOKEN"),
    };
    assert_eq!(scim.validate().unwrap().target_kind, TargetKind::Scim);

    let mut jira = draft("$1");
    jira.target.credential = TargetCredential::Bearer {
        token: SecretInput::from_text("env:JIRA_PAT"),
    };
    assert_eq!(jira.validate().unwrap_err().field, "target.credential.type");
}

#[test]
fn every_target_kind_round_trips_its_name() {
    for kind in TargetKind::ALL {
        assert_eq!(TargetKind::parse(kind.as_str()), Some(kind));
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
    }
}

#[test]
fn a_crowd_target_takes_an_application_name_and_password_and_nothing_else() {
    let crowd = |credential| {
        let mut d = draft("$1");
        d.target.kind = "Crowd".into();
        d.target.credential = credential;
        d.validate()
    };
    let valid = crowd(TargetCredential::Application {
        name: "usersync".into(),
        password: SecretInput::from_text("env:CROWD_APP_PASSWORD"),
    })
    .expect("an application credential is Crowd's");
    assert_eq!(valid.target_kind, TargetKind::Crowd);
    assert_eq!(
        valid.target_credential.secrets()[0].0,
        SecretSlot::TargetPassword
    );
    let problem = crowd(TargetCredential::Application {
        name: " ".into(),
        password: SecretInput::from_text("env:P"),
    })
    .unwrap_err();
    assert_eq!(problem.field, "target.credential.name");
    let problem = crowd(TargetCredential::Pat {
        token: SecretInput::from_text("env:P"),
    })
    .unwrap_err();
    assert_eq!(problem.field, "target.credential.type");
    assert!(problem.message.contains("application"), "{problem}");

    let mut jira = draft("$1");
    jira.target.credential = TargetCredential::Application {
        name: "usersync".into(),
        password: SecretInput::from_text("env:P"),
    };
    let problem = jira.validate().unwrap_err();
    assert_eq!(problem.field, "target.credential.type");
    assert!(problem.message.contains("crowd"), "{problem}");
}

#[test]
fn a_crowd_app_reads_from_toml_with_its_application_credential() {
    let apps = apps_from_toml(
        "[[app]]\nname = \"c\"\n[app.okta]\nurl = \"https://example.okta.com\"\n\
         credential = { type = \"api_token\", token = \"env:T\" }\n[app.target]\n\
         kind = \"crowd\"\nurl = \"https://crowd.example.com/crowd\"\n\
         credential = { type = \"application\", name = \"usersync\", password = \"env:CROWD\" }\n",
    )
    .unwrap();
    let valid = apps.into_iter().next().unwrap().validate().unwrap();
    assert_eq!(valid.target_kind, TargetKind::Crowd);
    assert!(matches!(
        valid.target_credential,
        TargetCredential::Application { ref name, .. } if name == "usersync"
    ));
}

#[test]
fn a_relative_ca_file_is_refused_on_its_sides_field_and_a_blank_one_means_none() {
    let mut d = draft("$1");
    d.target.ca_file = Some("certs/corp.pem".into());
    let problem = d.validate().unwrap_err();
    assert_eq!(problem.field, "target.ca_file");
    assert!(problem.message.contains("absolute path"), "{problem}");
    let mut d = draft("$1");
    d.okta.ca_file = Some("  ".into());
    d.target.ca_file = Some(" /etc/ssl/corp.pem ".into());
    let valid = d.validate().expect("valid");
    assert_eq!(valid.okta_ca_file, None);
    assert_eq!(valid.target_ca_file.as_deref(), Some("/etc/ssl/corp.pem"));
}

#[test]
fn a_ca_file_per_side_reads_from_toml() {
    let text = r#"
[[app]]
name = "Jira"
[app.okta]
url = "https://example.okta.com"
credential = { type = "api_token", token = "env:T" }
[app.target]
kind = "jira"
url = "https://jira.example.com"
credential = { type = "pat", token = "env:P" }
ca_file = "/etc/ssl/corp.pem"
"#;
    let drafts = apps_from_toml(text).expect("parses");
    assert_eq!(
        drafts[0].target.ca_file.as_deref(),
        Some("/etc/ssl/corp.pem")
    );
    assert_eq!(drafts[0].okta.ca_file, None);
}

#[test]
fn a_jira_user_server_needs_a_name_and_a_password_and_only_jira_takes_one() {
    let server = |name: &str, password: &str| {
        Some(UserServer {
            name: name.into(),
            password: SecretInput::from_text(password),
        })
    };
    let mut d = draft("$1");
    d.target.user_server = server(" usersync ", "env:JIRA_APP_PASSWORD");
    let valid = d.validate().expect("valid");
    assert_eq!(valid.target_user_server.as_ref().unwrap().name, "usersync");
    let mut d = draft("$1");
    d.target.user_server = server("  ", "pw");
    assert_eq!(d.validate().unwrap_err().field, "target.user_server.name");
    let mut d = draft("$1");
    d.target.user_server = server("usersync", "");
    assert_eq!(
        d.validate().unwrap_err().field,
        "target.user_server.password"
    );
    let mut d = draft("$1");
    d.target.kind = "confluence".into();
    d.target.user_server = server("usersync", "pw");
    assert_eq!(d.validate().unwrap_err().field, "target.user_server");
}

#[test]
fn a_jira_user_server_reads_from_toml_and_its_password_is_a_target_secret() {
    let text = r#"
[[app]]
name = "Jira 8.2"
[app.okta]
url = "https://example.okta.com"
credential = { type = "api_token", token = "env:OKTA_TOKEN" }
[app.target]
kind = "jira"
url = "https://jira.example.com"
credential = { type = "basic", username = "admin", password = "env:JIRA_PASSWORD" }
user_server = { name = "usersync", password = "env:JIRA_APP_PASSWORD" }
"#;
    let drafts = apps_from_toml(text).expect("parses");
    let slots: Vec<_> = drafts[0].secret_inputs().iter().map(|(s, _)| *s).collect();
    assert!(slots.contains(&SecretSlot::UserServerPassword), "{slots:?}");
    assert_eq!(SecretSlot::UserServerPassword.side(), SecretSide::Target);
    let valid = drafts
        .into_iter()
        .next()
        .unwrap()
        .validate()
        .expect("valid");
    let server = valid.target_user_server.expect("kept");
    assert!(matches!(server.password, SecretInput::Reference(r) if r == "env:JIRA_APP_PASSWORD"));
}

#[test]
fn group_map_rules_are_read_from_the_toml_and_a_bad_rule_names_its_field() {
    let file = |target: &str| {
        format!(
            "[[app]]\nname = \"x\"\n[app.okta]\nurl = \"https://example.okta.com\"\n\
             credential = {{ type = \"api_token\", token = \"env:T\" }}\n[app.target]\n\
             kind = \"jira\"\nurl = \"https://jira.example.com\"\n\
             credential = {{ type = \"pat\", token = \"env:P\" }}\n[app.policy.attributes]\n\
             display_name = \"{{firstName}} {{lastName}} ({{costCenter}})\"\n\
             [[app.policy.group_map]]\nokta_group_id = \"00g1eng\"\n\
             okta_group_name = \"Engineering\"\ntarget_group = \"jira-software-users\"\n\
             [[app.policy.group_map]]\nokta_group_id = \"00g2sup\"\n\
             target_group = \"{target}\"\n"
        )
    };
    let mut apps = apps_from_toml(&file("jira-software-users")).unwrap();
    let rules = &apps[0].policy.group_map;
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].okta_group_name, "Engineering");
    assert_eq!(rules[1].target_group, "jira-software-users");
    assert!(apps.remove(0).validate().is_ok());
    let mut bad = apps_from_toml(&file("  ")).unwrap();
    let problem = bad.remove(0).validate().map(|_| ()).unwrap_err();
    assert_eq!(problem.field, "policy.group_map[1].target_group");
    assert!(
        problem
            .message
            .contains("name the target group, e.g. jira-software-users"),
        "{problem:?}"
    );
}

#[test]
fn every_problem_of_a_draft_is_reported_at_once_in_file_order() {
    let mut d = draft("$2");
    d.name = String::new();
    d.okta.url = "http://example.okta.com".into();
    d.target.kind = "jirra".into();
    d.schedule = Schedule::Cron("0 */2 * *".into());
    d.events.poll_interval_seconds = 1;
    let fields: Vec<String> = d
        .validate_all()
        .unwrap_err()
        .into_iter()
        .map(|p| p.field)
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "okta.url",
            "target.kind",
            "schedule.cron",
            "policy.username.replacement",
            "events.poll_interval_seconds"
        ]
    );
    assert!(draft("$1").validate_all().is_ok());
}

#[test]
fn cron_errors_say_in_words_how_many_fields_and_which_one_is_wrong() {
    let problem = |cron: &str| {
        let mut d = draft("$1");
        d.schedule = Schedule::Cron(cron.into());
        d.validate().unwrap_err()
    };
    let four = problem("0 */2 * *");
    assert_eq!(four.field, "schedule.cron");
    assert!(
        four.message
            .contains("has 4 field(s); use 5 fields: minute hour day month weekday"),
        "{four}"
    );
    let hour = problem("0 25 * * *");
    assert!(
        hour.message
            .starts_with("the hour field \"25\" of \"0 25 * * *\" is not valid (it takes 0-23"),
        "{hour}"
    );
    let weekday = problem("0 9 * * MONDAYS");
    assert!(
        weekday.message.contains("the weekday field \"MONDAYS\""),
        "{weekday}"
    );
    assert!(
        problem(" ")
            .message
            .starts_with("the cron expression is empty; use 5 fields")
    );
}
