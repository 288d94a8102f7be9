//! One mapping of Confluence's refusals to [`TargetError`], whichever API answered:
//! REST says what went wrong with its status code (and a message), JSON-RPC with an
//! HTTP 200 carrying an `error` object whose message (and exception class) say it.
//! Both are reduced to a [`Refusal`] first, so a licence, read-only directory,
//! permission, missing or existing user is the same typed error either way.

use crate::http::Reply;
use crate::{TargetError, TargetResult};

use super::PRODUCT;

/// What kind of "no" the server said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    NotFound,
    AlreadyExists,
    /// The user or group lives in a read-only directory (LDAP, Crowd).
    ReadOnly,
    /// The account lacks a permission.
    Permission,
    /// No licence seat is left for another active user.
    Licence,
    /// Anything else: the request was refused for its content.
    Other,
}

/// The refusal a message describes, from the words Confluence uses in its REST
/// messages and its JSON-RPC exceptions; `None` when the words do not say.
pub(super) fn from_text(text: &str) -> Option<Refusal> {
    let text = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&["read-only", "read only", "readonly"]) {
        Some(Refusal::ReadOnly)
    } else if has(&["licence", "license", "user limit"]) {
        Some(Refusal::Licence)
    } else if has(&["already exists", "already a member"]) {
        Some(Refusal::AlreadyExists)
    } else if has(&[
        "notpermitted",
        "not permitted",
        "permission",
        "not authorized",
    ]) {
        Some(Refusal::Permission)
    } else if has(&[
        "does not exist",
        "not found",
        "no user",
        "no group",
        "unknown user",
    ]) {
        Some(Refusal::NotFound)
    } else {
        None
    }
}

impl Refusal {
    /// The typed error for this refusal of `action` on `what`, with the server's message.
    pub(super) fn into_error(self, what: &str, action: &str, message: String) -> TargetError {
        match self {
            Self::NotFound => TargetError::NotFound {
                what: what.to_owned(),
            },
            Self::AlreadyExists => TargetError::AlreadyExists {
                what: what.to_owned(),
            },
            Self::ReadOnly => TargetError::ManagedElsewhere {
                what: what.to_owned(),
            },
            Self::Permission => TargetError::Forbidden {
                product: PRODUCT,
                action: action.to_owned(),
                needed: format!("system administrator permission ({message})"),
            },
            Self::Licence => TargetError::NoLicenceSeat {
                action: action.to_owned(),
            },
            Self::Other => TargetError::Rejected {
                product: PRODUCT,
                action: action.to_owned(),
                message,
            },
        }
    }
}

/// Types a failed REST reply: its status says the kind (402 licence, 404 not found,
/// 409 exists), and a 400 or 403 whose message names a read-only directory is one.
pub(super) fn rest(reply: Reply, what: &str, action: &str) -> TargetError {
    let message = reply.error_messages().join("; ");
    let kind = match reply.status.as_u16() {
        402 => Refusal::Licence,
        404 => Refusal::NotFound,
        409 => Refusal::AlreadyExists,
        400 | 403 if from_text(&message) == Some(Refusal::ReadOnly) => Refusal::ReadOnly,
        // 401, 403 and the rest keep the shared HTTP typing (sign-in, permission).
        _ => return reply.into_error(),
    };
    kind.into_error(what, action, message)
}

/// Success, or success anyway when the thing being created exists already.
pub(super) fn created(result: TargetResult<()>) -> TargetResult<()> {
    match result {
        Err(TargetError::AlreadyExists { .. }) => Ok(()),
        other => other,
    }
}

/// Success, or success anyway when the thing being deleted is gone already.
pub(super) fn gone(result: TargetResult<()>) -> TargetResult<()> {
    match result {
        Err(TargetError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_either_api_name_the_same_kinds() {
        let cases = [
            (
                "Cannot disable user 'x': the user belongs to a read-only directory (LDAP)",
                Refusal::ReadOnly,
            ),
            (
                "com.atlassian.confluence.rpc.NotPermittedException: You do not have permission",
                Refusal::Permission,
            ),
            (
                "A user with the userName 'x' already exists",
                Refusal::AlreadyExists,
            ),
            (
                "Cannot add user 'x': the licence's user limit is reached",
                Refusal::Licence,
            ),
            ("No user with the username 'x' exists", Refusal::NotFound),
            ("Group 'g' does not exist", Refusal::NotFound),
        ];
        for (text, kind) in cases {
            assert_eq!(from_text(text), Some(kind), "{text}");
        }
        assert_eq!(from_text("fullName should not be blank"), None);
    }
}
