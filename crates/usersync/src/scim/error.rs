//! SCIM error responses (RFC 7644 §3.12): `{"schemas": [...Error], "status": "400",
//! "scimType": "invalidFilter", "detail": "..."}` as `application/scim+json`. The
//! `detail` names the field and the fix; it never carries a secret or a token.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use usersync_store::StoreError;

/// The SCIM media type every answer carries.
pub const SCIM_JSON: &str = "application/scim+json";

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error: the HTTP status, the optional `scimType` and a detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 `invalidValue`: a request value is missing or unusable.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    /// 400 `invalidSyntax`: the body is not the JSON the request needs.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
    }

    /// 400 `invalidPath` (a PATCH path).
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    /// 400 `mutability`: an attempt to change a read-only attribute.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("mutability"), detail)
    }

    /// 404: no such resource.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// 401: the app's SCIM bearer token is missing or wrong.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "this SCIM endpoint needs the app's SCIM bearer token in the Authorization header \
             (`Authorization: Bearer <token>`); generate one with `usersync app scim-token APP` \
             or the app page's Generate SCIM token",
        )
    }

    /// A store failure, typed: a name clash is `409 uniqueness`.
    pub fn store(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => {
                Self::new(StatusCode::CONFLICT, Some("uniqueness"), message)
            }
            StoreError::NotFound { what } => Self::not_found(format!("{what} was not found")),
            other => {
                tracing::error!("SCIM server: the store failed: {other}");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "usersync cannot use its store right now; retry later",
                )
            }
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(kind) = self.scim_type {
            body["scimType"] = json!(kind);
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A SCIM JSON answer with `status`.
pub fn scim_json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}
