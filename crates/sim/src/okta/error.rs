//! Okta's error responses: `{errorCode, errorSummary, errorLink, errorId, errorCauses}` with
//! the HTTP status and summary text Okta's error catalogue gives each code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::json;

/// One error the emulator answers with, shaped as Okta's `Error` schema.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        Self {
            status,
            code,
            summary: summary.into(),
            causes: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    /// E0000001: a request's precondition does not hold (`Api validation failed: {what}`).
    pub fn validation(what: &str, cause: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000001",
            format!("Api validation failed: {what}"),
        )
        .with_cause(cause)
    }

    /// E0000003: the body is not JSON of the expected shape.
    pub fn malformed(cause: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
        )
        .with_cause(cause)
    }

    /// E0000006: the caller may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }

    /// E0000007 with Okta's real text: `Not found: Resource not found: {reference} ({kind})`.
    pub fn not_found(reference: &str, kind: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "E0000007",
            format!("Not found: Resource not found: {reference} ({kind})"),
        )
    }

    /// E0000008: no such route.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "E0000008",
            "The requested path was not found",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "E0000009",
            "Internal Server Error",
        )
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        )
    }

    pub fn already_active() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "E0000016",
            "Activation failed because the user is already active",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
        )
    }

    pub fn invalid_date(cause: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000030",
            "Bad request. Invalid date. Dates must be of the form yyyy-MM-dd'T'HH:mm:ss.SSSZZ, e.g. 2013-01-01T12:00:00.000-07:00.",
        )
        .with_cause(cause)
    }

    /// E0000031: the expression parsed but asks for something the endpoint does not support.
    pub fn invalid_search(cause: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000031",
            "Invalid search criteria.",
        )
        .with_cause(cause)
    }

    pub fn unlock_not_allowed() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "E0000032",
            "Unlock is not allowed for this user.",
        )
    }

    pub fn wrong_status(cause: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "E0000038",
            "This operation is not allowed in the user's current status.",
        )
        .with_cause(cause)
    }

    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
    }

    /// E0000053: the filter (or another parameter) could not be understood at all.
    pub fn invalid_filter(cause: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "E0000053", "Invalid SCIM filter.").with_cause(cause)
    }

    pub fn invalid_paging(cause: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000054",
            "Invalid pagination properties.",
        )
        .with_cause(cause)
    }

    /// The body an emulator fault answers with for `status` (see `crate::faults`).
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::invalid_token(),
            403 => Self::forbidden(),
            404 => Self::no_route(),
            429 => Self::rate_limited(),
            503 => Self::new(status, "E0000010", "Service is in read only mode"),
            400..=499 => Self::new(status, "E0000001", "Api validation failed: request"),
            _ => Self::new(status, "E0000009", "Internal Server Error"),
        }
    }
}

/// A per-response support id shaped like Okta's (`oae` + 22 characters).
pub fn error_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
    let mut rng = rand::rng();
    let tail: String = (0..22)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("oae{tail}")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let causes: Vec<_> = self
            .causes
            .iter()
            .map(|c| json!({ "errorSummary": c }))
            .collect();
        let body = json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": error_id(),
            "errorCauses": causes,
        });
        (self.status, Json(body)).into_response()
    }
}

/// The fault middleware's body function: Okta-shaped errors for injected statuses.
pub fn fault_body(status: StatusCode) -> Response {
    ApiError::for_status(status).into_response()
}

pub type ApiResult<T> = Result<T, ApiError>;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.summary)?;
        for cause in &self.causes {
            write!(f, "; {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}
