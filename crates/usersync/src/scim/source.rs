//! What Okta pushed, as the engine's source side: a stored SCIM User becomes an
//! `OktaUser` (its Okta id is the `externalId` Okta sends, else `scim-<SCIM id>`;
//! `active: false` or a deletion is inactive, which the app's Enable/Disable Users
//! toggle turns into a deactivation), its pushed groups `OktaGroup`s, and
//! [`sync_pushed`] runs the engine's single-user sync on it (trigger `scim`), the same
//! plan, guard, hold budget and apply as every other run.

use serde_json::Value;
use usersync_core::{OktaGroup, OktaGroupId, OktaGroupType, OktaStatus, OktaUser, OktaUserId};
use usersync_store::{App, RunStatus, RunTrigger, ScimRecord};

use crate::engine::{self, Deps, PushedUser};

/// The Okta id a pushed resource stands for.
fn okta_id(record: &ScimRecord) -> String {
    record
        .external_id
        .clone()
        .unwrap_or_else(|| format!("scim-{}", record.id))
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The primary e-mail, else the first.
fn email(body: &Value) -> Option<String> {
    let emails = body.get("emails")?.as_array()?;
    let primary = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true));
    text(primary.or(emails.first())?.get("value"))
}

/// A stored User as the Okta user it stands for.
///
/// # Errors
/// When its id is unusable as an Okta id.
pub fn okta_user(record: &ScimRecord) -> Result<OktaUser, String> {
    let body: Value = serde_json::from_str(&record.body).unwrap_or(Value::Null);
    let id = OktaUserId::parse(okta_id(record)).map_err(|e| e.to_string())?;
    let name = body.get("name");
    let attributes = [
        ("login", Some(record.name.clone())),
        ("email", email(&body)),
        ("firstName", text(name.and_then(|n| n.get("givenName")))),
        ("lastName", text(name.and_then(|n| n.get("familyName")))),
        ("middleName", text(name.and_then(|n| n.get("middleName")))),
        ("displayName", text(body.get("displayName"))),
        ("nickName", text(body.get("nickName"))),
        ("title", text(body.get("title"))),
        ("locale", text(body.get("locale"))),
        ("preferredLanguage", text(body.get("preferredLanguage"))),
        ("timezone", text(body.get("timezone"))),
        ("userType", text(body.get("userType"))),
    ];
    let profile = attributes
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
    Ok(OktaUser {
        id,
        status: if record.active {
            OktaStatus::Active
        } else {
            OktaStatus::Deprovisioned
        },
        login: record.name.clone(),
        profile,
    })
}

/// A stored Group as the Okta group it stands for.
///
/// # Errors
/// When its id is unusable as an Okta id.
pub fn okta_group(record: &ScimRecord) -> Result<OktaGroup, String> {
    Ok(OktaGroup {
        id: OktaGroupId::parse(okta_id(record)).map_err(|e| e.to_string())?,
        name: record.name.clone(),
        description: None,
        kind: OktaGroupType::OktaGroup,
    })
}

/// Runs the single-user sync of pushed user `record` (inactive when `deleted`), with
/// their pushed groups (and `left`, groups they are no longer in), and logs how it ended. The run is recorded whatever happens;
/// a failure to start one is logged, as the push itself is already stored.
pub async fn sync_pushed(
    deps: &Deps,
    app: &App,
    record: &ScimRecord,
    deleted: bool,
    left: &[OktaGroup],
) {
    let pushed = match pushed_user(deps, app, record, deleted).await {
        Ok(mut p) => {
            p.not_member_of = left.to_vec();
            p
        }
        Err(e) => {
            tracing::warn!(app = %app.name, scim_id = %record.id, "SCIM push not synced: {e}");
            return;
        }
    };
    let (deps, name) = (deps.clone(), app.name.clone());
    // Its own task: a request Okta drops does not cancel a sync half-way.
    let run = tokio::spawn(async move {
        engine::sync_pushed_user(&deps, &name, &pushed, RunTrigger::Scim).await
    })
    .await;
    match run {
        Ok(Ok(outcome)) if outcome.status == RunStatus::Failed => {
            tracing::warn!(app = %app.name, run = ?outcome.run_id, "SCIM push: the run failed: {}", outcome.reasons.join("; "));
        }
        Ok(Ok(outcome)) => {
            tracing::info!(app = %app.name, run = ?outcome.run_id, status = %outcome.status, "SCIM push synced");
        }
        Ok(Err(e)) => tracing::warn!(app = %app.name, "SCIM push: no run: {e}"),
        Err(e) => {
            tracing::error!(app = %app.name, "SCIM push: the run's task ended abnormally: {e}")
        }
    }
}

async fn pushed_user(
    deps: &Deps,
    app: &App,
    record: &ScimRecord,
    deleted: bool,
) -> Result<PushedUser, String> {
    let mut user = okta_user(record)?;
    if deleted {
        user.status = OktaStatus::Deprovisioned;
    }
    // A deleted user keeps their groups here: deletion deactivates, nothing more.
    let groups = deps
        .store
        .scim_user_groups(app.id, &record.id)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(okta_group)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PushedUser {
        user,
        groups,
        not_member_of: Vec::new(),
    })
}
