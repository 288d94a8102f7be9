//! A reply the retry loop let through, and Atlassian error bodies typed into
//! [`TargetError`]: Jira's `{"errorMessages":[],"errors":{}}` and Confluence's
//! `{"message":..}`.

use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::{TargetError, TargetResult};

/// A response that was not retried away: any status the caller may want to branch on.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub(super) product: &'static str,
    pub(super) base: String,
    pub(super) action: String,
}

impl Reply {
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// Decodes the body as JSON.
    ///
    /// # Errors
    /// [`TargetError::Decode`] when the body is not the expected JSON.
    pub fn json<T: DeserializeOwned>(&self) -> TargetResult<T> {
        serde_json::from_slice(&self.body).map_err(|e| TargetError::Decode {
            product: self.product,
            action: self.action.clone(),
            message: format!("{e} (HTTP {})", self.status.as_u16()),
        })
    }

    /// The messages of an Atlassian error body, joined; the raw text when it is not one.
    #[must_use]
    pub fn error_messages(&self) -> Vec<String> {
        error_messages(&self.body)
    }

    /// The success body as JSON, or this reply typed as an error.
    ///
    /// # Errors
    /// [`Reply::into_error`] for a non-2xx reply, [`TargetError::Decode`] for a bad body.
    pub fn success_json<T: DeserializeOwned>(self) -> TargetResult<T> {
        if self.is_success() {
            self.json()
        } else {
            Err(self.into_error())
        }
    }

    /// Succeeds for 2xx, otherwise types the error.
    ///
    /// # Errors
    /// See [`Reply::into_error`].
    pub fn success(self) -> TargetResult<()> {
        if self.is_success() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    /// Types a non-2xx reply: 401 unauthenticated, 403 forbidden, 404 not found,
    /// 409 already exists, other 4xx rejected with the product's messages.
    #[must_use]
    pub fn into_error(self) -> TargetError {
        let message = self.error_messages().join("; ");
        match self.status.as_u16() {
            401 => TargetError::Unauthenticated {
                product: self.product,
                url: self.base,
                detail: non_empty(message, "HTTP 401"),
            },
            403 => TargetError::Forbidden {
                product: self.product,
                action: self.action,
                needed: non_empty(message, "administrator permission"),
            },
            404 => TargetError::NotFound {
                what: non_empty(message, &self.action),
            },
            409 => TargetError::AlreadyExists {
                what: non_empty(message, &self.action),
            },
            status => TargetError::Rejected {
                product: self.product,
                action: self.action,
                message: non_empty(message, &format!("HTTP {status}")),
            },
        }
    }
}

fn non_empty(message: String, fallback: &str) -> String {
    if message.trim().is_empty() {
        fallback.to_owned()
    } else {
        message
    }
}

/// Reads `{"errorMessages":[..],"errors":{field:msg}}` (Jira) and `{"message":..}`
/// (Confluence) bodies; anything else is returned as trimmed text.
#[must_use]
pub fn error_messages(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        let text = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(300)
            .collect();
        return if body.is_empty() { vec![] } else { vec![text] };
    };
    let mut out = Vec::new();
    if let Some(list) = value.get("errorMessages").and_then(|v| v.as_array()) {
        out.extend(list.iter().filter_map(|m| m.as_str().map(str::to_owned)));
    }
    if let Some(map) = value.get("errors").and_then(|v| v.as_object()) {
        for (field, msg) in map {
            let msg = msg.as_str().map_or_else(|| msg.to_string(), str::to_owned);
            out.push(format!("{field}: {msg}"));
        }
    }
    if let Some(msg) = value.get("message").and_then(|v| v.as_str()) {
        out.push(msg.to_owned());
    }
    out
}
