//! What one planned op weighs: a first sync of a 100,000-user org plans a million of
//! them and holds them from planning to the end of the apply, so every byte of
//! `PlannedOp` is a megabyte of the run's peak memory.

use compact_str::CompactString;

use crate::ids::{GroupName, OktaUserId, Username};
use crate::plan::ops::{Op, PlannedOp, Rule};

#[test]
fn a_planned_op_is_at_most_96_bytes() {
    // A membership op is two 24-byte names; every rarer op keeps at most 56 bytes
    // inline (its large parts boxed), and the rare large rules are boxed.
    assert!(size_of::<Op>() <= 64, "Op is {} bytes", size_of::<Op>());
    assert!(
        size_of::<Rule>() <= 32,
        "Rule is {} bytes",
        size_of::<Rule>()
    );
    assert!(
        size_of::<PlannedOp>() <= 96,
        "PlannedOp is {} bytes",
        size_of::<PlannedOp>()
    );
}

#[test]
fn boxed_rules_keep_their_json_form() {
    let okta_user = Box::new(OktaUserId::parse("00u1").unwrap());
    let op = Op::AddMember {
        group: GroupName::parse("Jira-Users").unwrap(),
        username: Username::parse("Alice").unwrap(),
    };
    let rules = [
        (
            Rule::GroupMap {
                rule: "group_map[0]".into(),
                okta_user: okta_user.clone(),
            },
            r#"{"kind":"group_map","rule":"group_map[0]","okta_user":"00u1"}"#,
        ),
        (
            Rule::GroupMapLeft {
                group: "jira-users".into(),
                okta_user,
            },
            r#"{"kind":"group_map_left","group":"jira-users","okta_user":"00u1"}"#,
        ),
        (
            Rule::GroupRenamed {
                okta_group: "Eng".into(),
                old_name: Box::new(CompactString::from("eng-old")),
            },
            r#"{"kind":"group_renamed","okta_group":"Eng","old_name":"eng-old"}"#,
        ),
    ];
    for (rule, json) in rules {
        let planned = PlannedOp {
            op: op.clone(),
            rule,
        };
        let text = serde_json::to_string(&planned).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"op":{{"kind":"add_member","group":"Jira-Users","username":"Alice"}},"rule":{json}}}"#
            )
        );
        let back: PlannedOp = serde_json::from_str(&text).unwrap();
        assert_eq!(back, planned);
        assert_eq!(back.op.group().map(GroupName::as_str), Some("Jira-Users"));
    }
}

#[test]
fn boxed_ops_keep_their_json_form() {
    let ops = [
        (
            Op::CreateUser {
                okta_id: OktaUserId::parse("00u1").unwrap(),
                username: Username::parse("Alice").unwrap(),
                account: Box::new(crate::plan::ops::NewAccount {
                    display_name: "Alice A".into(),
                    email: Some(crate::ids::Email::parse("Alice@example.com").unwrap()),
                    active: true,
                }),
            },
            r#"{"kind":"create_user","okta_id":"00u1","username":"Alice","display_name":"Alice A","email":"Alice@example.com","active":true}"#,
        ),
        (
            Op::RenameUser {
                okta_id: OktaUserId::parse("00u1").unwrap(),
                from: Box::new(Username::parse("alice").unwrap()),
                to: Username::parse("Alice2").unwrap(),
            },
            r#"{"kind":"rename_user","okta_id":"00u1","from":"alice","to":"Alice2"}"#,
        ),
        (
            Op::LinkUser {
                okta_id: OktaUserId::parse("00u1").unwrap(),
                username: Username::parse("alice").unwrap(),
                key: Some(Box::new(
                    crate::ids::TargetUserKey::parse("JIRAUSER1").unwrap(),
                )),
            },
            r#"{"kind":"link_user","okta_id":"00u1","username":"alice","key":"JIRAUSER1"}"#,
        ),
    ];
    for (op, json) in ops {
        assert_eq!(serde_json::to_string(&op).unwrap(), json);
        assert_eq!(serde_json::from_str::<Op>(json).unwrap(), op);
    }
    // A create recorded without an e-mail (an older version's) still reads back.
    let old = r#"{"kind":"create_user","okta_id":"00u1","username":"a","display_name":"A","email":null,"active":false}"#;
    assert!(
        matches!(serde_json::from_str::<Op>(old).unwrap(), Op::CreateUser { account, .. } if account.email.is_none())
    );
}
