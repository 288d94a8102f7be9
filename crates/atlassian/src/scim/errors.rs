//! SCIM error bodies (RFC 7644 §3.12) typed into [`TargetError`]: 401 and 403 as
//! for every target, 404 as not found, anything else with a `scimType` (or none)
//! as [`TargetError::Scim`], and Atlassian Cloud's refusal of an unverified e-mail
//! domain as [`TargetError::UnverifiedDomain`].

use crate::http::{Reply, error_messages};
use crate::{ScimType, TargetError};

use super::wire::ErrorBody;
use super::{ScimClient, ScimProfile};

impl ScimClient {
    /// A non-2xx reply to the call whose action is `action`, typed.
    pub(super) fn error(&self, action: &str, reply: Reply) -> TargetError {
        let status = reply.status.as_u16();
        if matches!(status, 401 | 403) {
            return reply.into_error();
        }
        let body: Option<ErrorBody> = serde_json::from_slice(&reply.body).ok();
        let detail = body
            .as_ref()
            .and_then(|b| b.detail.clone())
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| {
                let text = error_messages(&reply.body).join("; ");
                if text.is_empty() {
                    format!("HTTP {status}")
                } else {
                    text
                }
            });
        if status == 404 {
            return TargetError::NotFound {
                what: format!("{action}: {detail}"),
            };
        }
        TargetError::Scim {
            product: self.product(),
            action: action.to_owned(),
            status,
            scim_type: ScimType::parse(body.as_ref().and_then(|b| b.scim_type.as_deref())),
            detail: detail.chars().take(500).collect(),
        }
    }

    /// Atlassian Cloud answers a user on an unverified domain with a 400 naming the
    /// domain (reference §4.6 1); other errors pass through.
    pub(super) fn domain_error(&self, email: &str, error: TargetError) -> TargetError {
        let TargetError::Scim {
            status: 400,
            detail,
            ..
        } = &error
        else {
            return error;
        };
        let lower = detail.to_ascii_lowercase();
        if self.profile == ScimProfile::AtlassianCloud
            && lower.contains("domain")
            && lower.contains("verified")
        {
            let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
            return TargetError::UnverifiedDomain {
                email: email.to_owned(),
                domain,
            };
        }
        error
    }
}
