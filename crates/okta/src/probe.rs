//! The connection check's proof that the far side is an Okta org.
//!
//! A 404 for a user that does not exist looks the same from any web server, so it
//! proves nothing: a Jira address in `okta.url` used to pass. The probe instead
//! reads one page of one user, `GET /api/v1/users?limit=1`, which every Okta org
//! serves to an API token and to a service app with `okta.users.read` alike, and
//! requires an answer of Okta's shape: a JSON array of user objects. A 404 or a body
//! of another shape becomes [`OktaError::NotOkta`], naming what was answered.

use crate::wire::WireUser;
use crate::{OktaClient, OktaError, path_with_query};

const ACTION: &str = "read one user to prove this is an Okta org";

impl OktaClient {
    /// Proves the org answers like Okta and the credential may read users. One
    /// request (plus the token request of a service app).
    ///
    /// # Errors
    /// [`OktaError::NotOkta`] when the server has no Okta user listing or answers in
    /// another shape; the typed errors of a real Okta answer otherwise (rejected
    /// credential, missing permission, rate limit, unreachable).
    pub async fn probe_org(&self) -> Result<(), OktaError> {
        let url = path_with_query("/api/v1/users", &[("limit", "1".to_owned())]);
        match self.inner.get::<Vec<WireUser>>(&url, ACTION).await {
            Ok(_) => Ok(()),
            Err(OktaError::NotFound { .. }) => Err(self.not_okta(
                "answered 404 to GET /api/v1/users, which every Okta org serves",
            )),
            Err(OktaError::Decode { message, .. }) => Err(self.not_okta(&format!(
                "answered GET /api/v1/users with something other than a list of Okta users ({message})"
            ))),
            Err(e) => Err(e),
        }
    }

    fn not_okta(&self, answer: &str) -> OktaError {
        OktaError::NotOkta {
            org: self.org_host().to_owned(),
            answer: answer.to_owned(),
        }
    }
}
