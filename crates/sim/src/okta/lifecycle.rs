//! `POST /api/v1/users/{id}/lifecycle/{operation}` with Okta's status rules:
//! activate (STAGED or DEPROVISIONED; already ACTIVE is E0000016), deactivate (anything
//! but DEPROVISIONED), suspend (ACTIVE only, else E0000001), unsuspend (SUSPENDED only),
//! reactivate (PROVISIONED or RECOVERY), unlock (LOCKED_OUT, or a no-op on ACTIVE),
//! expire_password and reset_password. Transitions here are immediate, so
//! `transitioningToStatus` never shows.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use usersync_core::snapshot::OktaStatus as S;

use super::error::{ApiError, ApiResult};
use super::logs::Origin;
use super::paging::{self, Base, Query};
use super::server::App;
use super::state::{OrgState, UserRec, activated_status};
use super::users::single;

/// What an operation answers once it is allowed.
enum Answer {
    Empty,
    Activation,
    ResetLink,
    User,
}

/// Checks an operation against the user's status; returns the new status and the answer.
fn transition(user: &UserRec, op: &str) -> ApiResult<(S, Answer)> {
    let status = user.status;
    let refuse = |what: &str| {
        ApiError::wrong_status(format!(
            "Cannot {what} a user whose status is {}",
            status.as_str()
        ))
    };
    Ok(match op {
        "activate" => match status {
            S::Staged | S::Deprovisioned => {
                (activated_status(user.has_password), Answer::Activation)
            }
            S::Active => return Err(ApiError::already_active()),
            _ => return Err(refuse("activate")),
        },
        "deactivate" if status == S::Deprovisioned => return Err(refuse("deactivate")),
        "deactivate" => (S::Deprovisioned, Answer::Empty),
        "suspend" if status == S::Active => (S::Suspended, Answer::Empty),
        "suspend" => {
            return Err(ApiError::validation(
                "status",
                "Cannot suspend a user that is not active",
            ));
        }
        "unsuspend" if status == S::Suspended => (S::Active, Answer::Empty),
        "unsuspend" => {
            return Err(ApiError::validation(
                "status",
                "Cannot unsuspend a user that is not suspended",
            ));
        }
        "reactivate" if matches!(status, S::Provisioned | S::Recovery) => {
            (S::Provisioned, Answer::Activation)
        }
        "reactivate" => return Err(refuse("reactivate")),
        "unlock" if matches!(status, S::LockedOut | S::Active) => (S::Active, Answer::Empty),
        "unlock" => return Err(ApiError::unlock_not_allowed()),
        "expire_password"
            if user.has_password
                && !matches!(status, S::Staged | S::Deprovisioned | S::Suspended) =>
        {
            (S::PasswordExpired, Answer::User)
        }
        "expire_password" => return Err(refuse("expire the password of")),
        "reset_password" if !matches!(status, S::Staged | S::Deprovisioned | S::Suspended) => {
            (S::Recovery, Answer::ResetLink)
        }
        "reset_password" => return Err(refuse("reset the password of")),
        _ => return Err(ApiError::no_route()),
    })
}

/// Applies an allowed operation (a no-op unlock of an ACTIVE user writes nothing).
fn apply(
    org: &mut OrgState,
    reference: &str,
    op: &str,
    origin: &Origin,
) -> ApiResult<(Answer, crate::okta::ids::Oid)> {
    let user = org.find_user(reference)?;
    let id = user.id;
    let (to, answer) = transition(user, op)?;
    if !(op == "unlock" && user.status == S::Active) {
        org.set_status(id, to, origin)?;
    }
    Ok((answer, id))
}

/// The handler.
pub async fn run(
    State(app): State<App>,
    base: Base,
    origin: Origin,
    Path((id, op)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = Query::parse(raw.as_deref());
    let send_email = query.flag("sendEmail", true)?;
    let mut org = app.org();
    let (answer, uid) = apply(&mut org, &id, op.as_str(), &origin)?;
    let token = uuid::Uuid::new_v4().simple().to_string()[..20].to_owned();
    let body = match answer {
        Answer::User => return Ok(single(&base, &org.users[&uid])),
        Answer::Activation if !send_email => json!({
            "activationUrl": format!("{}/welcome/{token}", base.0),
            "activationToken": token,
        }),
        Answer::ResetLink if !send_email => json!({
            "resetPasswordUrl": format!("{}/reset_password/{token}", base.0),
        }),
        _ => Value::Object(Default::default()),
    };
    Ok(paging::json(&body, HeaderMap::new()))
}
