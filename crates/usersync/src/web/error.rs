//! Errors as HTTP answers: JSON with a stable `code` and a `message` for the API,
//! a rendered page for the console. Messages never carry secret values (the
//! store and engine errors they come from are written not to).

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::backend::BackendError;
use super::pages::Shell;

/// The body of every API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `unauthenticated`, `csrf_refused`, `not_found`,
    /// `validation_failed`, `conflict`, `busy`, `upstream_failed`, `bad_request`,
    /// `throttled`, `internal`.
    pub code: String,
    pub message: String,
    /// The offending field, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                field: None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// Status and stable code of a backend error.
#[must_use]
pub fn classify(err: &BackendError) -> (StatusCode, &'static str) {
    match err {
        BackendError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        BackendError::Validation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        BackendError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        BackendError::Busy(_) => (StatusCode::CONFLICT, "busy"),
        BackendError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream_failed"),
        BackendError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl From<BackendError> for ApiError {
    fn from(err: BackendError) -> Self {
        let (status, code) = classify(&err);
        if let BackendError::Internal(e) = &err {
            tracing::error!("API request failed: {e:#}");
        }
        let field = match &err {
            BackendError::Validation { field, .. } => Some(field.clone()),
            _ => None,
        };
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: err.to_string(),
                field,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    shell: &'a Shell,
    heading: &'a str,
    message: &'a str,
}

/// A console error, rendered as a page inside the app shell.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub heading: String,
    pub message: String,
    pub shell: Shell,
}

impl PageError {
    pub fn new(shell: &Shell, err: BackendError) -> Self {
        let (status, _) = classify(&err);
        if let BackendError::Internal(e) = &err {
            tracing::error!("page request failed: {e:#}");
        }
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "Not possible right now",
            StatusCode::BAD_GATEWAY => "Okta or the target could not be used",
            _ => "Something went wrong",
        };
        Self {
            status,
            heading: heading.into(),
            message: err.to_string(),
            shell: shell.clone(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            shell: &self.shell,
            heading: &self.heading,
            message: &self.message,
        };
        (self.status, render(&page)).into_response()
    }
}

/// Renders a template; a template failure is a bug, answered as a plain 500.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template failed to render: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}
