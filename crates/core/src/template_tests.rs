use super::*;
use crate::ids::OktaUserId;
use crate::snapshot::OktaStatus;

fn user(profile: &[(&str, &str)]) -> OktaUser {
    OktaUser {
        id: OktaUserId::parse("00u1").unwrap(),
        status: OktaStatus::Active,
        login: "ada@example.com".into(),
        profile: profile
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[test]
fn a_bare_attribute_name_reads_that_attribute_custom_ones_included() {
    let t = Template::parse("costCenterName").unwrap();
    assert!(t.is_bare());
    assert_eq!(t.attributes(), ["costCenterName"]);
    let u = user(&[("costCenterName", " R&D Berlin ")]);
    assert_eq!(t.render(&u, true).as_deref(), Some("R&D Berlin"));
    assert_eq!(t.render(&user(&[]), true), None);
}

#[test]
fn a_template_joins_standard_and_custom_attributes_and_tidies_whitespace() {
    let t = Template::parse("{firstName} {lastName} ({department_code})").unwrap();
    assert_eq!(t.attributes(), ["firstName", "lastName", "department_code"]);
    let u = user(&[
        ("firstName", "Ada"),
        ("lastName", "Lovelace"),
        ("department_code", "ENG"),
    ]);
    assert_eq!(t.render(&u, false).as_deref(), Some("Ada Lovelace (ENG)"));
    let partial = user(&[("firstName", "Ada"), ("department_code", "ENG")]);
    assert_eq!(
        t.render(&partial, false).as_deref(),
        Some("Ada (ENG)"),
        "a missing attribute leaves no double space"
    );
    assert_eq!(
        t.render(&partial, true),
        None,
        "an e-mail needs every attribute"
    );
    assert_eq!(t.render(&user(&[]), false), None, "nothing of the user's");
}

#[test]
fn login_is_always_available_and_doubled_braces_are_literal() {
    let t = Template::parse("{{{login}}}").unwrap();
    assert_eq!(
        t.render(&user(&[]), true).as_deref(),
        Some("{ada@example.com}")
    );
    let mail = Template::parse("{employeeId}@corp.example.com").unwrap();
    assert_eq!(
        mail.render(&user(&[("employeeId", "e123")]), true)
            .as_deref(),
        Some("e123@corp.example.com")
    );
}

#[test]
fn hostile_templates_are_refused_with_the_fix() {
    let cases: &[(&str, &str)] = &[
        ("{firstName", "never closed"),
        ("{firstName {lastName}", "never closed"),
        ("firstName}", "closes nothing"),
        ("{} x", "empty placeholder"),
        ("{first name}", "{first name}"),
        ("{../../etc/passwd}", "not an Okta attribute name"),
        ("{$(reboot)}", "not an Okta attribute name"),
        (
            "first name",
            "neither an Okta profile attribute name nor a template",
        ),
        ("x\u{0}y", "control character"),
        ("{a}\n{b}", "control character"),
    ];
    for (source, expected) in cases {
        let err = Template::parse(source).expect_err(source).to_string();
        assert!(err.contains(expected), "{source:?}: {err}");
    }
    let long = "x".repeat(MAX_TEMPLATE_CHARS + 1);
    assert!(matches!(
        Template::parse(&long),
        Err(TemplateError::TooLong { len }) if len == MAX_TEMPLATE_CHARS + 1
    ));
    let many = "{a}".repeat(MAX_PLACEHOLDERS + 1);
    assert!(matches!(
        Template::parse(&many),
        Err(TemplateError::TooManyPlaceholders { count }) if count == MAX_PLACEHOLDERS + 1
    ));
    let huge_name = format!("{{{}}}", "a".repeat(200));
    assert!(Template::parse(&huge_name).is_err());
}

#[test]
fn placeholders_missing_from_the_orgs_profile_schema_are_named() {
    let schema =
        ProfileSchema::new(["firstName", "lastName", "login", "costCenter"].map(String::from));
    let t = Template::parse("{firstName} {lastNmae} {costCenter} {team}").unwrap();
    assert_eq!(t.unknown_in(&schema), ["lastNmae", "team"]);
    assert!(
        Template::parse("costCenter")
            .unwrap()
            .unknown_in(&schema)
            .is_empty()
    );
}
