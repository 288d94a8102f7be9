//! Tests for the mapping: the product page's username examples, compile errors, attributes.
use pretty_assertions::assert_eq;

use super::*;
use crate::ids::OktaUserId;
use crate::snapshot::OktaStatus;
use std::collections::BTreeMap;

fn rule(regex: &str, replacement: &str) -> UsernameRule {
    UsernameRule {
        regex: regex.into(),
        replacement: replacement.into(),
    }
}

fn user(profile: &[(&str, &str)]) -> OktaUser {
    OktaUser {
        id: OktaUserId::parse("00u1").unwrap(),
        status: OktaStatus::Active,
        login: "demouser@example.com".into(),
        profile: profile
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

#[test]
fn the_product_page_examples_map_logins_as_documented() {
    let preview =
        |r: &str, rep: &str| preview_username(&rule(r, rep), "demouser@example.com").unwrap();
    assert_eq!(preview("(.*)@.*", "$1").mapped, "demouser");
    assert_eq!(preview("(.*)@.*", "$1abc").mapped, "demouserabc");
    assert_eq!(preview("(?P<name>.*)@.*", "${name}").mapped, "demouser");
    let no_match = preview("(.*)@corp\\.com", "$1");
    assert_eq!(
        (no_match.mapped.as_str(), no_match.matched),
        ("demouser@example.com", false)
    );
}

#[test]
fn the_preview_says_whether_each_product_accepts_the_name() {
    let preview = preview_username(&rule("(.*)@.*", "$1"), "Demo User@x.org").unwrap();
    assert_eq!(
        preview.jira,
        UsernameVerdict::Invalid {
            problem: "contains whitespace (' ')".into()
        }
    );
    let preview = preview_username(&rule("", ""), "Demo@x.org").unwrap();
    assert_eq!(
        preview.jira,
        UsernameVerdict::Valid {
            username: "Demo@x.org".into()
        }
    );
    assert_eq!(
        preview.confluence,
        UsernameVerdict::Valid {
            username: "demo@x.org".into()
        }
    );
}

#[test]
fn compile_errors_name_every_bad_field() {
    let policy = SyncPolicy {
        username: rule("(.*", "$1"),
        default_groups_new_users: vec!["ok".into(), " ".into()],
        scope: crate::policy::Scope {
            group_exclude: Some("[".into()),
            ..Default::default()
        },
        ..SyncPolicy::default()
    };
    let err = CompiledPolicy::compile(&policy).unwrap_err();
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "username.regex",
            "scope.group_exclude",
            "default_groups_new_users[1]"
        ]
    );
    assert!(
        err.to_string()
            .starts_with("username.regex: unclosed group"),
        "{err}"
    );
    let err = CompiledPolicy::compile(&SyncPolicy {
        username: rule("(.*)@", "$2"),
        ..SyncPolicy::default()
    });
    assert_eq!(
        err.unwrap_err().to_string(),
        "username.replacement: refers to group 2 but the regex has 1 group"
    );
}

#[test]
fn display_name_prefers_the_configured_attribute_then_first_and_last_name() {
    let policy = CompiledPolicy::compile(&SyncPolicy::default()).unwrap();
    let both = user(&[
        ("displayName", "Demo U."),
        ("firstName", "Demo"),
        ("lastName", "User"),
    ]);
    assert_eq!(policy.display_name(&both), "Demo U.");
    let names = user(&[
        ("displayName", " "),
        ("firstName", "Demo"),
        ("lastName", "User"),
    ]);
    assert_eq!(policy.display_name(&names), "Demo User");
    assert_eq!(policy.display_name(&user(&[])), "demouser@example.com");
}

#[test]
fn email_comes_from_the_configured_attribute_and_must_look_like_one() {
    let mut settings = SyncPolicy::default();
    settings.attributes.email = "workEmail".into();
    let policy = CompiledPolicy::compile(&settings).unwrap();
    let u = user(&[("email", "home@x.org"), ("workEmail", "demo@corp.com")]);
    assert_eq!(policy.email(&u).unwrap().as_str(), "demo@corp.com");
    assert_eq!(
        policy.email(&user(&[("workEmail", "not-an-address")])),
        None
    );
}

#[test]
fn group_types_are_pushed_into_the_okta_query() {
    let policy = CompiledPolicy::compile(&SyncPolicy::default()).unwrap();
    let query = policy.okta_query();
    assert_eq!(
        query.group_filter.as_deref(),
        Some("type eq \"OKTA_GROUP\"")
    );
    assert!(query.include_deprovisioned);
}

#[test]
fn a_full_read_keeps_just_the_attributes_the_mapping_reads() {
    let mut policy = SyncPolicy::default();
    assert_eq!(
        CompiledPolicy::compile(&policy)
            .unwrap()
            .profile_attributes(),
        ["displayName", "email", "firstName", "lastName"]
    );
    policy.attributes.display_name = String::new();
    policy.attributes.email = "workEmail".into();
    assert_eq!(
        CompiledPolicy::compile(&policy)
            .unwrap()
            .profile_attributes(),
        ["firstName", "lastName", "workEmail"]
    );
}
