//! What one planned op weighs: a first sync of a 100,000-user org plans a million of
//! them and holds them from planning to the end of the apply, so every byte of
//! `PlannedOp` is a megabyte of the run's peak memory.

use compact_str::CompactString;

use crate::ids::{GroupName, OktaUserId, Username};
use crate::plan::ops::{Op, PlannedOp, Rule};

#[test]
fn a_planned_op_is_at_most_136_bytes() {
    // A membership op is two 32-byte names; `CreateUser` and `RenameUser` set the
    // op's size, and the rare large rules are boxed.
    assert!(size_of::<Op>() <= 96, "Op is {} bytes", size_of::<Op>());
    assert!(
        size_of::<Rule>() <= 40,
        "Rule is {} bytes",
        size_of::<Rule>()
    );
    assert!(
        size_of::<PlannedOp>() <= 136,
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
                rule: CompactString::from("group_map[0]"),
                okta_user: okta_user.clone(),
            },
            r#"{"kind":"group_map","rule":"group_map[0]","okta_user":"00u1"}"#,
        ),
        (
            Rule::GroupMapLeft {
                group: CompactString::from("jira-users"),
                okta_user,
            },
            r#"{"kind":"group_map_left","group":"jira-users","okta_user":"00u1"}"#,
        ),
        (
            Rule::GroupRenamed {
                okta_group: CompactString::from("Eng"),
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
