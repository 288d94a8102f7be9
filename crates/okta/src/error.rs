//! The typed errors of the Okta client, built from Okta's `errorCode`.
//!
//! Okta says only `errorCode` is stable enough for program logic, so this module
//! branches on it (and the HTTP status when a body is missing) and nothing else.
//! Every message names the org, what usersync was doing, and what a person can do
//! about it. No message ever contains a credential: errors are built from Okta's
//! answer and our own settings, never from request headers.

use serde::Deserialize;

/// Which kind of credential was used, so messages can say how to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    ApiToken,
    ServiceApp,
}

impl CredentialKind {
    fn rejected_hint(self) -> &'static str {
        match self {
            Self::ApiToken => "create a new token under Security > API > Tokens",
            Self::ServiceApp => {
                "check that the service app still exists, is active and has the public key matching private_key_pem"
            }
        }
    }

    fn forbidden_hint(self) -> &'static str {
        match self {
            Self::ApiToken => {
                "an API token acts with its creator's admin role; use a token created by an admin who can read users, groups and the System Log (e.g. Read-Only Administrator)"
            }
            Self::ServiceApp => {
                "grant the service app the okta.users.read, okta.groups.read and okta.logs.read scopes (Okta API Scopes tab) and a read-only admin role"
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::ApiToken => "the API token",
            Self::ServiceApp => "the service app's access token",
        }
    }
}

/// A failed call to Okta.
#[derive(Debug, thiserror::Error)]
pub enum OktaError {
    /// A setting is unusable; nothing was sent.
    #[error("the Okta setting {field} {problem}")]
    Config {
        field: &'static str,
        problem: String,
    },
    /// 401 (E0000011 and friends): the credential was rejected.
    #[error("{credential} was rejected by {org} ({code}): {hint}")]
    InvalidToken {
        org: String,
        credential: &'static str,
        code: String,
        hint: &'static str,
    },
    /// 403 (E0000006): the credential works but may not do this.
    #[error("{org} refused to let usersync {action} ({code}): {hint}")]
    Forbidden {
        org: String,
        action: String,
        code: String,
        hint: &'static str,
    },
    /// 404 (E0000007).
    #[error("{what} was not found in {org} ({code})")]
    NotFound {
        org: String,
        what: String,
        code: String,
    },
    /// 429 (E0000047) after every allowed retry.
    #[error(
        "{org} kept rate limiting usersync while it tried to {action} ({code}, {attempts} attempts): lower rate_share or max_concurrency, or ask the Okta admin to raise this app's share of the rate limit"
    )]
    RateLimited {
        org: String,
        action: String,
        code: String,
        attempts: u32,
    },
    /// 400 (E0000001, E0000031, E0000053, E0000054...): Okta refused the request itself.
    #[error("{org} refused the request to {action} ({code}): {summary}")]
    BadRequest {
        org: String,
        action: String,
        code: String,
        summary: String,
    },
    /// 5xx after every allowed retry.
    #[error(
        "{org} failed to {action}: HTTP {status}{code} after {attempts} attempts; Okta may be degraded, try again later"
    )]
    Server {
        org: String,
        action: String,
        status: u16,
        /// ` (E0000009)` or empty.
        code: String,
        attempts: u32,
    },
    /// Connection failures, timeouts and cut-off bodies after every allowed retry.
    #[error(
        "could not reach {org} to {action} after {attempts} attempts: {message}; check the network path to Okta and base_url"
    )]
    Transport {
        org: String,
        action: String,
        message: String,
        attempts: u32,
    },
    /// The org's TLS certificate was refused (`problem`: unknown issuer, expired, another
    /// name...); `fix` names the setting (`okta.ca_file`, `--ca-file`) or what to change.
    #[error("{org}'s TLS certificate was refused: {problem}; {fix}")]
    Tls {
        org: String,
        problem: usersync_tls::CertProblem,
        fix: String,
    },
    /// A 2xx answer whose body or headers could not be understood.
    #[error("{org} sent a response usersync could not read while trying to {action}: {message}")]
    Decode {
        org: String,
        action: String,
        message: String,
    },
    /// The token endpoint refused the service app (RFC 6749 error body).
    #[error(
        "the service app {client_id} could not get an access token from {org}: {error} ({description}); {hint}"
    )]
    OAuth {
        org: String,
        client_id: String,
        error: String,
        description: String,
        hint: &'static str,
    },
    /// The server at the Okta URL does not answer like an Okta org (e.g. it is Jira).
    #[error(
        "{org} does not look like an Okta org: it {answer}; set the Okta URL to the org's domain, like https://example.okta.com (not a Jira or Confluence address)"
    )]
    NotOkta { org: String, answer: String },
    /// Any other answer Okta documents (e.g. 405, 501).
    #[error("{org} answered HTTP {status} ({code}) when usersync tried to {action}: {summary}")]
    Http {
        org: String,
        action: String,
        status: u16,
        code: String,
        summary: String,
    },
}

impl OktaError {
    /// Okta's `errorCode`, when the error came from one.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::InvalidToken { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::RateLimited { code, .. }
            | Self::BadRequest { code, .. }
            | Self::Http { code, .. } => Some(code),
            Self::Server { code, .. } if !code.is_empty() => {
                Some(code.trim_matches(|c| c == ' ' || c == '(' || c == ')'))
            }
            _ => None,
        }
    }
}

/// Okta's error body: `{errorCode, errorSummary, errorLink, errorId, errorCauses}`.
/// Parsed leniently: some answers omit fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OktaErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_summary: Option<String>,
    #[serde(default)]
    pub error_causes: Vec<ErrorCause>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorCause {
    #[serde(default)]
    pub error_summary: Option<String>,
}

impl OktaErrorBody {
    pub(crate) fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// The summary plus any causes, e.g. `Api validation failed: login (login: already exists)`.
    fn summary(&self) -> String {
        let mut text = self
            .error_summary
            .clone()
            .unwrap_or_else(|| "no error summary".into());
        let causes: Vec<&str> = self
            .error_causes
            .iter()
            .filter_map(|c| c.error_summary.as_deref())
            .collect();
        if !causes.is_empty() {
            text = format!("{text} ({})", causes.join("; "));
        }
        text
    }
}

/// What the caller was doing, for building an error from a final non-2xx answer.
pub(crate) struct Failure<'a> {
    pub org: &'a str,
    pub action: &'a str,
    pub credential: CredentialKind,
    pub attempts: u32,
}

impl Failure<'_> {
    /// Turns a final non-2xx answer into the matching error.
    pub(crate) fn error_for(&self, status: u16, body: &[u8]) -> OktaError {
        let parsed = OktaErrorBody::parse(body);
        let code = parsed
            .error_code
            .clone()
            .unwrap_or_else(|| default_code(status).to_owned());
        let org = self.org.to_owned();
        let action = self.action.to_owned();
        match (status, code.as_str()) {
            (401, _) | (_, "E0000011") => OktaError::InvalidToken {
                org,
                credential: self.credential.describe(),
                code,
                hint: self.credential.rejected_hint(),
            },
            (403, _) | (_, "E0000006") => OktaError::Forbidden {
                org,
                action,
                code,
                hint: self.credential.forbidden_hint(),
            },
            (404, _) | (_, "E0000007") => OktaError::NotFound {
                org,
                what: not_found_subject(&parsed, self.action),
                code,
            },
            (429, _) | (_, "E0000047") => OktaError::RateLimited {
                org,
                action,
                code,
                attempts: self.attempts,
            },
            (400, _) => OktaError::BadRequest {
                org,
                action,
                code,
                summary: parsed.summary(),
            },
            (500..=599, _) => OktaError::Server {
                org,
                action,
                status,
                code: parsed
                    .error_code
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default(),
                attempts: self.attempts,
            },
            _ => OktaError::Http {
                org,
                action,
                status,
                code,
                summary: parsed.summary(),
            },
        }
    }
}

/// The code Okta documents for a status, used when an answer has no body.
fn default_code(status: u16) -> &'static str {
    match status {
        400 => "E0000001",
        401 => "E0000011",
        403 => "E0000006",
        404 => "E0000007",
        429 => "E0000047",
        _ => "no errorCode",
    }
}

/// Okta's 404 summary names the resource (`Not found: Resource not found: x (User)`);
/// fall back to what we were doing.
fn not_found_subject(body: &OktaErrorBody, action: &str) -> String {
    body.error_summary
        .as_deref()
        .and_then(|s| s.strip_prefix("Not found: Resource not found: "))
        .map_or_else(
            || format!("the thing usersync tried to {action}"),
            str::to_owned,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(credential: CredentialKind) -> Failure<'static> {
        Failure {
            org: "acme.okta.com",
            action: "list users",
            credential,
            attempts: 1,
        }
    }

    #[test]
    fn an_invalid_token_says_which_org_rejected_it_and_what_to_do() {
        let body = br#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae1","errorCauses":[]}"#;
        let err = failure(CredentialKind::ApiToken).error_for(401, body);
        assert!(matches!(err, OktaError::InvalidToken { .. }));
        assert_eq!(
            err.to_string(),
            "the API token was rejected by acme.okta.com (E0000011): create a new token under Security > API > Tokens"
        );
        assert_eq!(err.code(), Some("E0000011"));
    }

    #[test]
    fn a_forbidden_answer_explains_the_missing_permission() {
        let err = failure(CredentialKind::ServiceApp).error_for(403, b"");
        let text = err.to_string();
        assert!(matches!(err, OktaError::Forbidden { .. }));
        assert!(
            text.contains("(E0000006)") && text.contains("okta.users.read"),
            "{text}"
        );
    }

    #[test]
    fn bad_requests_keep_the_summary_and_causes() {
        let body = br#"{"errorCode":"E0000031","errorSummary":"Invalid search criteria.","errorCauses":[{"errorSummary":"bad operator"}]}"#;
        let err = failure(CredentialKind::ApiToken).error_for(400, body);
        assert_eq!(err.code(), Some("E0000031"));
        assert!(
            err.to_string()
                .contains("Invalid search criteria. (bad operator)"),
            "{err}"
        );
    }

    #[test]
    fn server_errors_without_a_body_still_name_the_status() {
        let err = failure(CredentialKind::ApiToken).error_for(503, b"<html>");
        assert!(matches!(err, OktaError::Server { status: 503, .. }));
        assert!(
            err.to_string().contains("HTTP 503 after 1 attempts"),
            "{err}"
        );
        assert_eq!(err.code(), None);
    }
}
