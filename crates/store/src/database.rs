//! Which database a store lives in: SQLite in the data directory (the default) or a
//! PostgreSQL database named by a URL (`--database-url`, `USERSYNC_DATABASE_URL`), shared
//! by every replica.
//!
//! The URL may carry a password: [`DatabaseUrl`] never shows it (Debug, Display and every
//! error print it as `***`), so it cannot reach logs, API answers or error messages.

use std::fmt;

use crate::error::StoreError;

/// The environment variable that selects PostgreSQL (as `--database-url` does).
pub const DATABASE_URL_ENV: &str = "USERSYNC_DATABASE_URL";

/// A PostgreSQL connection URL (`postgres://user:password@host:port/database?sslmode=...`).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Checks the URL names a PostgreSQL database.
    ///
    /// # Errors
    /// Another scheme or an unreadable URL, as a `Validation` error naming `database_url`.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        let problem = |message: String| StoreError::Validation {
            field: "database_url".into(),
            message,
        };
        let url = url::Url::parse(text).map_err(|err| {
            problem(format!(
                "{} is not a URL ({err}); give postgres://user:password@host:5432/database",
                redacted(text)
            ))
        })?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(problem(format!(
                "{} is not a PostgreSQL URL; give postgres://user:password@host:5432/database, \
                 or leave the database URL unset to keep SQLite in the data directory",
                redacted(text)
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(problem(
                "the URL names no host; give postgres://user:password@host:5432/database".into(),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The URL with its password, for connecting only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redacted(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted(&self.0))
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The URL with its password (and any `password=` parameter) shown as `***`.
pub(crate) fn redacted(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return "the database URL".into();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// `message` with any secret of `url` replaced, for errors of the driver that may quote it.
pub(crate) fn without(message: &str, url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return message.to_owned();
    };
    let mut out = message.replace(url, &redacted(url));
    let secrets = parsed.password().map(str::to_owned).into_iter().chain(
        parsed
            .query_pairs()
            .filter(|(k, _)| k == "password")
            .map(|(_, v)| v.into_owned()),
    );
    for secret in secrets.filter(|s| !s.is_empty()) {
        out = out.replace(&secret, "***");
    }
    out
}

/// Creates the empty database `name` on the server of `server` (whose user may create
/// databases) and returns its URL: each test of the PostgreSQL suite gets its own, so
/// tests run in parallel. Not for production use.
///
/// # Errors
/// A name that is not lower-case letters, digits and `_`, or the server refused.
#[doc(hidden)]
pub async fn create_database(server: &DatabaseUrl, name: &str) -> Result<DatabaseUrl, StoreError> {
    use sqlx::{Connection as _, Executor as _};
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::validation(
            "name",
            "use lower-case letters, digits and _",
        ));
    }
    crate::db::install_drivers();
    let context = format!("creating the database {name} on {server}");
    let fail = |err: sqlx::Error| StoreError::Database {
        context: context.clone(),
        message: without(&err.to_string(), server.expose()),
    };
    let mut conn = sqlx::AnyConnection::connect(server.expose())
        .await
        .map_err(fail)?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .map_err(fail)?;
    let _ = conn.close().await;
    let mut url = url::Url::parse(server.expose())
        .map_err(|e| StoreError::validation("database_url", e.to_string()))?;
    url.set_path(name);
    Ok(DatabaseUrl(url.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_never_shows_its_password() {
        let url =
            DatabaseUrl::parse("postgres://sync:s3cretPW@db.example.com:5432/usersync").unwrap();
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(!shown.contains("s3cretPW"), "{shown}");
            assert!(shown.contains("db.example.com"), "{shown}");
        }
        let query = "postgres://db/usersync?password=qPW9";
        assert!(!redacted(query).contains("qPW9"));
        assert_eq!(
            without("failed for qPW9 at x", query),
            "failed for *** at x"
        );
    }

    #[test]
    fn a_database_url_that_is_not_postgres_is_refused_naming_the_setting() {
        for bad in [
            "sqlite:/var/lib/usersync.db",
            "mysql://db/x",
            "not a url",
            "postgres:///x",
        ] {
            let err = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("database_url"), "{bad}: {err}");
            assert!(err.contains("postgres://"), "{bad}: {err}");
        }
    }
}
