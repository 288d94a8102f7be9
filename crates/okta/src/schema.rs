//! The org's user profile schema, `GET /api/v1/meta/schemas/user/default`: which
//! profile attributes (base and custom) exist, so `check` can refuse a display-name
//! or e-mail template naming one the org does not have. An admin role or the
//! `okta.schemas.read` scope is needed; without it `check` says so and goes on.

use std::collections::BTreeMap;

use serde::Deserialize;
use usersync_core::template::ProfileSchema;

use crate::{OktaClient, OktaError};

const ACTION: &str = "read the org's user profile schema";

/// Okta's `UserSchema`, only as far as the attribute names.
#[derive(Deserialize)]
struct WireSchema {
    #[serde(default)]
    definitions: WireDefinitions,
}

#[derive(Deserialize, Default)]
struct WireDefinitions {
    #[serde(default)]
    base: WirePart,
    #[serde(default)]
    custom: WirePart,
}

#[derive(Deserialize, Default)]
struct WirePart {
    #[serde(default)]
    properties: BTreeMap<String, serde::de::IgnoredAny>,
}

impl OktaClient {
    /// The attribute names of the default user type's profile (base and custom).
    ///
    /// # Errors
    /// The typed errors of the request (e.g. `Forbidden` without the permission).
    pub async fn user_profile_schema(&self) -> Result<ProfileSchema, OktaError> {
        let schema: WireSchema = self
            .inner
            .get("/api/v1/meta/schemas/user/default", ACTION)
            .await?
            .items;
        let WireDefinitions { base, custom } = schema.definitions;
        Ok(ProfileSchema::new(
            base.properties
                .into_keys()
                .chain(custom.properties.into_keys()),
        ))
    }
}
