//! The check's look at the org's user profile schema: the attributes that
//! `policy.attributes.display_name` and `.email` name (directly or as template
//! placeholders) must exist in Okta, base or custom. Only asked when the settings
//! are not Okta's standard `displayName` and `email`, which every org has; when the
//! credential may not read the schema, the line says the attributes were not checked.

use usersync_core::CompiledPolicy;
use usersync_core::app::labels::describe;
use usersync_okta::{OktaClient, OktaError};

use super::check::CheckReport;

/// Adds the profile-schema line to `report` when the attributes are not the defaults.
pub(crate) async fn check_profile_schema(
    report: &mut CheckReport,
    okta: &OktaClient,
    policy: &CompiledPolicy,
) {
    let defaults = usersync_core::AttributeMapping::default();
    if policy.policy().attributes == defaults {
        return;
    }
    let what = format!("Okta {}: profile attributes", okta.org_host());
    match okta.user_profile_schema().await {
        Ok(schema) => {
            let problems = policy.profile_schema_problems(&schema);
            if problems.is_empty() {
                report.push(
                    what,
                    true,
                    "every attribute the display name and e-mail use is in the org's user profile",
                );
            } else {
                let text: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}: {}", describe(&p.field), p.message))
                    .collect();
                report.push(what, false, text.join("; "));
            }
        }
        Err(e @ (OktaError::Forbidden { .. } | OktaError::NotFound { .. })) => report.push(
            what,
            true,
            format!(
                "not checked: the profile schema could not be read ({e}); grant okta.schemas.read to check the attributes"
            ),
        ),
        Err(e) => report.push(what, false, e.to_string()),
    }
}
