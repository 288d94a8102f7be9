//! SCIM error responses (RFC 7644 §3.12): `status` as a string, as Atlassian sends
//! it, and a `scimType` for the 400 and 409 kinds.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error the emulator answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimFault {
    pub status: u16,
    pub scim_type: String,
    pub detail: String,
}

impl ScimFault {
    pub(crate) fn new(status: u16, scim_type: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: scim_type.to_owned(),
            detail: detail.into(),
        }
    }

    /// A 400 with `scim_type`.
    pub(crate) fn bad(scim_type: &str, detail: impl Into<String>) -> Self {
        Self::new(400, scim_type, detail)
    }
}

impl IntoResponse for ScimFault {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if !self.scim_type.is_empty() {
            body["scimType"] = json!(self.scim_type);
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            [(axum::http::header::CONTENT_TYPE, super::MEDIA_TYPE)],
            body.to_string(),
        )
            .into_response()
    }
}
