//! The store's one error type, shaped for the callers that branch on it.
//!
//! Database driver errors are wrapped as text so `sqlx` stays out of the public API,
//! and no variant ever carries a secret value: references (`env:NAME`) are named,
//! values never are.

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (`what` names it, e.g. `app "Jira prod"`).
    #[error("{what} was not found")]
    NotFound { what: String },
    /// Another app already has this name (names are unique, ignoring case).
    #[error("an app named {name:?} already exists; choose another name or update that app")]
    DuplicateName { name: String },
    /// The change is not allowed in the current state (e.g. approving a run that is not held).
    #[error("{0}")]
    Conflict(String),
    /// Another usersync process holds a live claim on a run of the app (`run`).
    #[error(
        "app {app:?} is already being synced by another usersync process (run {run}); \
         wait for it to finish"
    )]
    Claimed { app: String, run: i64 },
    /// Input refused; `field` is the path of the offending field, e.g. `okta.url`.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// The database was written by a newer usersync than this binary.
    #[error(
        "the database schema is version {found}, newer than this usersync knows (up to {supported}); \
         upgrade usersync, or point --data-dir at another directory"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The master key is missing or wrong, or a secret could not be decrypted.
    #[error("{0}")]
    Crypto(String),
    /// A secret reference (`env:NAME`, `file:/path`) could not be resolved.
    #[error("secret reference {reference} could not be resolved: {message}")]
    SecretReference { reference: String, message: String },
    /// Reading or writing the data directory failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The database failed; `context` says what the store was doing.
    #[error("database error while {context}: {message}")]
    Database { context: String, message: String },
}

impl From<usersync_core::FieldProblem> for StoreError {
    fn from(problem: usersync_core::FieldProblem) -> Self {
        Self::Validation {
            field: problem.field,
            message: problem.message,
        }
    }
}

impl StoreError {
    pub(crate) fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }
}

/// Attaches what the store was doing to a database error.
pub(crate) trait DbContext<T> {
    fn ctx(self, context: &str) -> Result<T, StoreError>;
}

impl<T> DbContext<T> for Result<T, sqlx::Error> {
    fn ctx(self, context: &str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database {
            context: context.to_owned(),
            message: e.to_string(),
        })
    }
}

impl<T> DbContext<T> for Result<T, serde_json::Error> {
    fn ctx(self, context: &str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Database {
            context: context.to_owned(),
            message: format!("stored JSON is unreadable: {e}"),
        })
    }
}

/// True when a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
