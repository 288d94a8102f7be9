//! The group-mapping table of the settings form (`policy.group_map`): one row per rule,
//! each row three inputs named by the rule's field paths
//! (`policy.group_map.okta_group_id`, `.okta_group_name`, `.target_group`), read back
//! row by row into the draft's list of rules. A hidden `policy.group_map` field says
//! the table was on the page, so a table emptied of rows clears the rules.

use serde_json::{Value, json};

use super::FormState;

/// The hidden field that marks the table as submitted.
pub const TABLE: &str = "policy.group_map";
const COLUMNS: [&str; 3] = [
    "policy.group_map.okta_group_id",
    "policy.group_map.okta_group_name",
    "policy.group_map.target_group",
];

/// One row of the table as shown.
pub struct Row {
    pub okta_group_id: String,
    pub okta_group_name: String,
    pub target_group: String,
}

impl FormState {
    /// The table's rows (the stored or submitted rules), then one empty row to add a rule.
    #[must_use]
    pub fn group_map_rows(&self) -> Vec<Row> {
        let columns: Vec<Vec<&str>> = COLUMNS.iter().map(|c| self.values(c).collect()).collect();
        let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
        let cell = |c: usize, r: usize| columns[c].get(r).copied().unwrap_or("").to_owned();
        let mut out: Vec<Row> = (0..rows)
            .map(|r| Row {
                okta_group_id: cell(0, r),
                okta_group_name: cell(1, r),
                target_group: cell(2, r),
            })
            .filter(|row| !row.is_blank())
            .collect();
        out.push(Row {
            okta_group_id: String::new(),
            okta_group_name: String::new(),
            target_group: String::new(),
        });
        out
    }
}

impl Row {
    fn is_blank(&self) -> bool {
        [
            &self.okta_group_id,
            &self.okta_group_name,
            &self.target_group,
        ]
        .iter()
        .all(|c| c.trim().is_empty())
    }
}

/// Takes the table's fields out of `fields`; when the table was submitted, the rules
/// it holds (blank rows left out), in the order of the rows.
pub fn take_rules(fields: &mut Vec<(&str, Vec<&str>)>) -> Option<Value> {
    let column = |fields: &[(&str, Vec<&str>)], name: &str| -> Vec<String> {
        fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.iter().map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default()
    };
    let submitted = fields.iter().any(|(k, _)| *k == TABLE);
    let [ids, names, targets] = COLUMNS.map(|c| column(fields, c));
    fields.retain(|(k, _)| *k != TABLE && !COLUMNS.contains(k));
    if !submitted {
        return None;
    }
    let rows = ids.len().max(names.len()).max(targets.len());
    let cell = |c: &[String], r: usize| c.get(r).cloned().unwrap_or_default();
    let rules = (0..rows)
        .map(|r| (cell(&ids, r), cell(&names, r), cell(&targets, r)))
        .filter(|(i, n, t)| !(i.is_empty() && n.is_empty() && t.is_empty()))
        .map(|(i, n, t)| json!({"okta_group_id": i, "okta_group_name": n, "target_group": t}))
        .collect();
    Some(Value::Array(rules))
}
