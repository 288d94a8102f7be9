//! The Notifications section's action as a method of [`Backend`]: a test message
//! through the saved app's channels, by [`crate::notify::send_test`] (the same
//! delivery, TLS trust and redaction as a run's notifications).

use crate::notify::{ChannelResult, send_test};
use crate::web::backend::{Backend, BackendError, BackendResult};

impl Backend {
    /// Sends a test notification through the saved settings of the app `name`.
    pub async fn test_notification(
        &self,
        name: &str,
        actor: &str,
    ) -> BackendResult<Vec<ChannelResult>> {
        let app = self.app(name).await?;
        let deps = self.deps.clone();
        let actor = actor.to_owned();
        // Its own task: a dropped request still audits what was sent.
        tokio::spawn(async move { send_test(&deps, &app, &actor).await })
            .await
            .map_err(|e| {
                BackendError::Internal(anyhow::anyhow!(
                    "the test notification task ended abnormally: {e}"
                ))
            })
    }
}
