//! Tests for the mapping: the product page's username examples, compile errors, attributes.
use pretty_assertions::assert_eq;

use super::*;
use crate::ids::OktaUserId;
use crate::snapshot::OktaStatus;

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
            .collect(),
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

#[test]
fn group_map_and_attribute_problems_name_the_field_and_the_fix() {
    use crate::policy::GroupMapRule;
    let mut policy = SyncPolicy::default();
    policy.attributes.display_name = "{firstName} {lastName".into();
    policy.attributes.email = "{employeeId}@corp.example.com".into();
    policy.group_map = vec![
        GroupMapRule {
            okta_group_id: "00g1".into(),
            okta_group_name: "Engineering".into(),
            target_group: "jira-software-users".into(),
        },
        GroupMapRule {
            okta_group_id: "Engineering".into(),
            okta_group_name: String::new(),
            target_group: " ".into(),
        },
        GroupMapRule {
            okta_group_id: "00g1".into(),
            okta_group_name: "Engineering".into(),
            target_group: "JIRA-software-users".into(),
        },
        GroupMapRule::default(),
    ];
    let err = CompiledPolicy::compile(&policy).unwrap_err();
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "attributes.display_name",
            "group_map[1].target_group",
            "group_map[2]",
            "group_map[3].okta_group_id",
            "group_map[3].target_group",
        ],
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("never closed; close it with `}`"), "{text}");
    assert!(text.contains("repeats group_map[0]"), "{text}");
    assert!(
        text.contains("is empty; give the Okta group's id"),
        "{text}"
    );
    policy.group_map[1].okta_group_id = "00g2 OR 1=1".into();
    let err = CompiledPolicy::compile(&policy).unwrap_err().to_string();
    assert!(
        err.contains("group_map[1].okta_group_id: \"00g2 OR 1=1\" is not an Okta group id"),
        "{err}"
    );
}

#[test]
fn templates_read_custom_attributes_and_a_full_read_keeps_them() {
    let mut policy = SyncPolicy::default();
    policy.attributes.display_name = "{nickName} ({costCenter})".into();
    policy.attributes.email = "{employeeId}@corp.example.com".into();
    let compiled = CompiledPolicy::compile(&policy).unwrap();
    assert_eq!(
        compiled.profile_attributes(),
        [
            "costCenter",
            "employeeId",
            "firstName",
            "lastName",
            "nickName"
        ]
    );
    let user = OktaUser {
        id: crate::ids::OktaUserId::parse("00u1").unwrap(),
        status: OktaStatus::Active,
        login: "ada@x.org".into(),
        profile: [
            ("nickName", "Ada"),
            ("costCenter", "R&D"),
            ("employeeId", "e42"),
            ("firstName", "Augusta"),
            ("lastName", "King"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    };
    assert_eq!(compiled.display_name(&user), "Ada (R&D)");
    assert_eq!(
        compiled.email(&user).unwrap().as_str(),
        "e42@corp.example.com"
    );
    let mut bare = user.clone();
    bare.profile
        .retain(|k, _| k == "firstName" || k == "lastName");
    assert_eq!(compiled.display_name(&bare), "Augusta King", "falls back");
    assert_eq!(compiled.email(&bare), None, "no employeeId, no e-mail");
    let schema = crate::template::ProfileSchema::new(
        ["login", "firstName", "lastName", "nickName", "employeeId"].map(String::from),
    );
    let problems = compiled.profile_schema_problems(&schema);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "policy.attributes.display_name");
    assert!(
        problems[0]
            .message
            .contains("has no attribute {costCenter}; fix the spelling"),
        "{}",
        problems[0].message
    );
}
