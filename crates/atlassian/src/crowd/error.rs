//! Crowd's error `reason` codes typed into [`TargetError`].
//!
//! Crowd answers every refusal with `{"reason": CODE, "message": text}`. The code,
//! not the status, says what happened: a membership POST answers 400 for a missing
//! *body* entity and 404 for a missing *path* entity, and "already exists" comes as
//! `INVALID_USER` / `INVALID_GROUP` (400) or `MEMBERSHIP_ALREADY_EXISTS` (409).

use crate::TargetError;
use crate::http::Reply;

use super::PRODUCT;
use super::wire::ErrorEntity;

/// The reasons usersync branches on; every other code is kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    UserNotFound,
    GroupNotFound,
    MembershipNotFound,
    MembershipAlreadyExists,
    InvalidUser,
    InvalidGroup,
    InvalidCredential,
    InvalidEmail,
    IllegalArgument,
    ApplicationPermissionDenied,
    ApplicationAccessDenied,
    Other(String),
    /// No error entity (a proxy's page, an empty body).
    None,
}

impl Reason {
    fn parse(code: Option<&str>) -> Self {
        match code {
            Some("USER_NOT_FOUND") => Self::UserNotFound,
            Some("GROUP_NOT_FOUND") => Self::GroupNotFound,
            Some("MEMBERSHIP_NOT_FOUND") => Self::MembershipNotFound,
            Some("MEMBERSHIP_ALREADY_EXISTS") => Self::MembershipAlreadyExists,
            Some("INVALID_USER") => Self::InvalidUser,
            Some("INVALID_GROUP") => Self::InvalidGroup,
            Some("INVALID_CREDENTIAL") => Self::InvalidCredential,
            Some("INVALID_EMAIL") => Self::InvalidEmail,
            Some("ILLEGAL_ARGUMENT") => Self::IllegalArgument,
            Some("APPLICATION_PERMISSION_DENIED") => Self::ApplicationPermissionDenied,
            Some("APPLICATION_ACCESS_DENIED") => Self::ApplicationAccessDenied,
            Some(other) => Self::Other(other.to_owned()),
            None => Self::None,
        }
    }
}

/// A failed reply's reason and message.
#[derive(Debug)]
pub struct Refusal {
    pub reason: Reason,
    pub message: String,
    reply: Reply,
}

impl Refusal {
    #[must_use]
    pub fn of(reply: Reply) -> Self {
        let entity: ErrorEntity = serde_json::from_slice(&reply.body).unwrap_or_default();
        let reason = Reason::parse(entity.reason.as_deref());
        let message = entity
            .message
            .unwrap_or_else(|| reply.error_messages().join("; "));
        Self {
            reason,
            message,
            reply,
        }
    }

    /// The refusal as the error callers branch on.
    #[must_use]
    pub fn into_error(self, action: &str) -> TargetError {
        let action = action.to_owned();
        let text = |code: &str| format!("{code}: {}", self.message);
        match &self.reason {
            Reason::UserNotFound | Reason::GroupNotFound | Reason::MembershipNotFound => {
                TargetError::NotFound {
                    what: if self.message.is_empty() {
                        action
                    } else {
                        self.message
                    },
                }
            }
            Reason::ApplicationAccessDenied => TargetError::Forbidden {
                product: PRODUCT,
                action,
                needed: format!(
                    "usersync's address among the application's remote addresses (Crowd: Applications → the application → Remote addresses) ({})",
                    self.message
                ),
            },
            Reason::ApplicationPermissionDenied => TargetError::Forbidden {
                product: PRODUCT,
                action,
                needed: format!(
                    "the permission in the application's directory (Crowd: Applications → the application → Directories → Permissions) ({})",
                    self.message
                ),
            },
            Reason::InvalidUser => rejected(action, text("INVALID_USER")),
            Reason::InvalidGroup => rejected(action, text("INVALID_GROUP")),
            Reason::InvalidCredential => rejected(action, text("INVALID_CREDENTIAL")),
            Reason::InvalidEmail => rejected(action, text("INVALID_EMAIL")),
            Reason::IllegalArgument => rejected(action, text("ILLEGAL_ARGUMENT")),
            Reason::MembershipAlreadyExists => rejected(action, text("MEMBERSHIP_ALREADY_EXISTS")),
            Reason::Other(code) => {
                let message = text(code);
                if self.reply.status.as_u16() == 403 {
                    TargetError::Forbidden {
                        product: PRODUCT,
                        action,
                        needed: message,
                    }
                } else {
                    rejected(action, message)
                }
            }
            Reason::None if self.reply.status.as_u16() == 403 => TargetError::Forbidden {
                product: PRODUCT,
                action,
                needed: format!(
                    "usersync's address among the application's remote addresses, and the application's directory permissions ({})",
                    self.message
                ),
            },
            Reason::None => self.reply.into_error(),
        }
    }
}

fn rejected(action: String, message: String) -> TargetError {
    TargetError::Rejected {
        product: PRODUCT,
        action,
        message,
    }
}
