//! The Okta rate-limit headroom each app's latest run ended with, shared by every
//! clone of [`super::Deps`] so runs started anywhere in the process (console, API,
//! scheduler, event hooks) report into one place that `/metrics` reads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use usersync_okta::BucketHeadroom;

/// App name to the rate-limit buckets its latest run used. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct OktaHeadroom {
    apps: Arc<Mutex<BTreeMap<String, Vec<BucketHeadroom>>>>,
}

impl OktaHeadroom {
    /// Replaces what is known about `app`; a run that got no answer from Okta
    /// (an empty list) leaves the previous figures in place.
    pub fn record(&self, app: &str, buckets: &[BucketHeadroom]) {
        if buckets.is_empty() {
            return;
        }
        self.apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app.to_owned(), buckets.to_vec());
    }

    /// Every app's latest figures, by app name.
    #[must_use]
    pub fn latest(&self) -> BTreeMap<String, Vec<BucketHeadroom>> {
        self.apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
