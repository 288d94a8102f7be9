//! Checking an app's values before they are saved: the console's Test connection
//! tests what the form holds, so a changed URL or a new secret is tried as typed.
//!
//! A secret left blank means "the stored one", but a stored secret is only ever sent
//! to the origin (scheme, host and port) it was saved for: when the form's URL points
//! elsewhere, the check refuses with a field problem asking for the secret instead of
//! handing it to a host nobody vouched for. Nothing is saved.

use secrecy::SecretString;
use usersync_atlassian::http::AtlassianAuth;
use usersync_core::FieldProblem;
use usersync_core::app::origin_of;
use usersync_okta::OktaAuth;
use usersync_store::secret::{SecretInput, SecretRef, resolve};
use usersync_store::{App, AppDraft, OktaCredential, SecretSlot, StoreError, TargetCredential};

use super::check::{CheckReport, Subject, check_connections};
use super::connect::{Endpoints, build, side_trust};
use super::{Deps, EngineError};

/// Why values could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum DraftCheckError {
    /// A field of the values is wrong or must be given (e.g. a secret for a new host).
    #[error("{0}")]
    Field(FieldProblem),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Checks `draft`, values for the saved app `saved_name` not saved yet.
///
/// # Errors
/// [`DraftCheckError::Field`] for values that do not validate or a blank secret whose
/// URL left the saved origin; [`DraftCheckError::Engine`] for an unknown app or a
/// store failure. Every problem of the connections is a line of the report.
pub async fn check_draft(
    deps: &Deps,
    saved_name: &str,
    draft: AppDraft,
) -> Result<CheckReport, DraftCheckError> {
    let saved = super::run::find_app(deps, saved_name).await?;
    // References read this server's files and environment: from the console only what
    // the server allows, exactly as saving the draft would.
    deps.secret_refs
        .check(&draft)
        .map_err(DraftCheckError::Field)?;
    let valid = draft.validate().map_err(DraftCheckError::Field)?;
    let keep = Keep {
        deps,
        saved: &saved,
    };
    let okta_same = same_origin(&valid.okta_url, &saved.okta.url);
    let okta_auth = match &valid.okta_credential {
        OktaCredential::ApiToken { token } => OktaAuth::ApiToken(
            keep.secret(token, SecretSlot::OktaApiToken, okta_same)
                .await?,
        ),
        OktaCredential::OAuth {
            client_id,
            key_id,
            private_key,
        } => OktaAuth::ServiceApp {
            client_id: client_id.clone(),
            private_key_pem: keep
                .secret(private_key, SecretSlot::OktaPrivateKey, okta_same)
                .await?,
            key_id: key_id.clone(),
            scopes: Vec::new(),
        },
    };
    let target_same = same_origin(&valid.target_url, &saved.target.url);
    let target_auth = match &valid.target_credential {
        TargetCredential::Pat { token } | TargetCredential::Bearer { token } => {
            AtlassianAuth::Bearer(
                keep.secret(token, SecretSlot::TargetToken, target_same)
                    .await?,
            )
        }
        // A Crowd application signs in with HTTP basic auth too, its name as the user.
        TargetCredential::Basic {
            username: name,
            password,
        }
        | TargetCredential::Application { name, password } => AtlassianAuth::Basic {
            username: name.clone(),
            password: keep
                .secret(password, SecretSlot::TargetPassword, target_same)
                .await?,
        },
    };
    let user_server = match &valid.target_user_server {
        Some(server) => Some(AtlassianAuth::Basic {
            username: server.name.clone(),
            password: keep
                .secret(
                    &server.password,
                    SecretSlot::UserServerPassword,
                    target_same,
                )
                .await?,
        }),
        None => None,
    };
    let okta_trust = side_trust(deps, "okta.ca_file", valid.okta_ca_file.as_deref())
        .map_err(DraftCheckError::Field)?;
    let target_trust = side_trust(deps, "target.ca_file", valid.target_ca_file.as_deref())
        .map_err(DraftCheckError::Field)?;
    let conns = build(
        deps,
        &valid.name,
        Endpoints {
            okta_url: &valid.okta_url,
            okta_auth,
            okta_trust,
            kind: valid.target_kind,
            target_url: &valid.target_url,
            target_auth,
            target_trust,
            user_server,
        },
    );
    let subject = Subject {
        name: &valid.name,
        kind: valid.target_kind,
        target_url: &valid.target_url,
        policy: &valid.policy,
    };
    Ok(check_connections(&subject, conns).await)
}

/// Same scheme, host and port: the only place a stored secret may go (the origin the
/// store binds each secret to).
fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    origin_of(a) == origin_of(b)
}

/// The saved app whose stored secrets a blank field stands for.
struct Keep<'a> {
    deps: &'a Deps,
    saved: &'a App,
}

impl Keep<'_> {
    /// The value of one secret field as the check will use it.
    async fn secret(
        &self,
        input: &SecretInput,
        slot: SecretSlot,
        same_origin: bool,
    ) -> Result<SecretString, DraftCheckError> {
        let field = slot.field();
        match input {
            SecretInput::Value(value) => Ok(value.clone()),
            SecretInput::Reference(text) => {
                let reference = SecretRef::parse(text, field)
                    .map_err(DraftCheckError::Field)?
                    .ok_or_else(|| {
                        DraftCheckError::Field(FieldProblem::new(field, "give a secret to test"))
                    })?;
                resolve(&reference, self.deps.store.data_dir())
                    .map_err(|e| field_problem(field, &e.to_string()))
            }
            SecretInput::Keep if !same_origin => Err(field_problem(
                field,
                "the URL now points at another host than the saved one; enter the secret to \
                 test it there (the stored secret is only ever sent to the host it was saved for)",
            )),
            SecretInput::Keep => self
                .deps
                .store
                .resolve_secret(self.saved, slot)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound { .. } => {
                        field_problem(field, "no secret is stored here; enter one to test")
                    }
                    other => DraftCheckError::Engine(other.into()),
                }),
        }
    }
}

fn field_problem(field: &str, message: &str) -> DraftCheckError {
    DraftCheckError::Field(FieldProblem::new(field, message))
}
