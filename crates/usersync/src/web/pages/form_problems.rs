//! Every problem of a submitted app form at once, so one submit shows each field
//! that needs attention instead of one per try.
//!
//! The form is read as `settings_form::draft_from_form` reads it; a value that does
//! not even fit its field's type (a number that is not one) is noted and left out,
//! and the draft of the rest is checked by the core's `AppDraft::validate_all`, the
//! same checks a save makes.

use usersync_core::app::App;
use usersync_core::mapping::FieldProblem;

use super::settings_form::draft_from_form;

/// Every problem of the form `pairs` (of the stored app `stored`, if any), in the
/// order found, one per field.
#[must_use]
pub fn all_problems(pairs: &[(String, String)], stored: Option<&App>) -> Vec<FieldProblem> {
    let mut problems: Vec<FieldProblem> = Vec::new();
    let mut pairs = pairs.to_vec();
    // Each round leaves out the field refused last; a form has a bounded number of fields.
    for _ in 0..=pairs.len() {
        match draft_from_form(&pairs, stored) {
            Ok(draft) => {
                if let Err(found) = draft.validate_all() {
                    problems.extend(found);
                }
                break;
            }
            Err(problem) => {
                let before = pairs.len();
                // The field, or (a value that does not fit its object) the object's fields.
                let within = format!("{}.", problem.field);
                pairs.retain(|(key, _)| key != &problem.field && !key.starts_with(&within));
                problems.push(problem);
                if pairs.len() == before {
                    break;
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.field.clone()));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn one_submit_reports_a_bad_number_a_bad_url_and_a_bad_cron_together() {
        let pairs = form(&[
            ("name", "Jira"),
            ("okta.url", "ftp://example.okta.com"),
            ("okta.credential.type", "api_token"),
            ("okta.credential.token", "env:OKTA"),
            ("target.kind", "jira"),
            ("target.url", "https://jira.example.com"),
            ("target.credential.type", "pat"),
            ("target.credential.token", "env:JIRA"),
            ("schedule.every_minutes", ""),
            ("schedule.cron", "0 */2 * *"),
            ("events.poll_interval_seconds", "often"),
        ]);
        let problems = all_problems(&pairs, None);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(
            ["events.poll_interval_seconds", "okta.url", "schedule.cron"]
                .iter()
                .all(|f| fields.contains(f)),
            "{problems:?}"
        );
        let cron = problems
            .iter()
            .find(|p| p.field == "schedule.cron")
            .unwrap();
        assert!(
            cron.message
                .contains("use 5 fields: minute hour day month weekday"),
            "{cron:?}"
        );
    }
}
