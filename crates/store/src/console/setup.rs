//! First start: the one-time setup code, and creating the first administrator.
//!
//! While no administrator exists, anyone who reaches the console could claim it. The
//! console therefore asks for a setup code that only the person who started `serve`
//! can know (it is printed in the server's log, as Jenkins and Grafana do). The code is
//! kept in `store_meta` until the first administrator exists, then deleted. Checking
//! the code, checking that no administrator exists and inserting one happen in one
//! write transaction, so of many simultaneous attempts exactly one succeeds.

use chrono::Utc;
use rand::Rng as _;

use super::{Admin, AdminId, check_label};
use crate::Store;
use crate::audit::{self, Subject};
use crate::error::{DbContext as _, StoreError};
use crate::stamp::Ts;

const SETUP_CODE_META: &str = "setup_code";
/// No 0/O or 1/I/L: the code is read from a log and typed by a person.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// What became of an attempt to create the first administrator.
#[derive(Debug)]
pub enum FirstAdmin {
    Created(Admin),
    /// The setup code was missing or wrong; nothing was created.
    WrongCode,
    /// An administrator exists already: setup is closed.
    SetupClosed,
}

/// A new code: three groups of four, about 59 bits.
fn new_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The code as typed: dashes, spaces and case do not matter.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Store {
    /// The setup code while no administrator exists (made and kept on first call),
    /// `None` once one does.
    ///
    /// # Errors
    /// Database failures.
    pub async fn setup_code(&self) -> Result<Option<String>, StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins")
            .fetch_one(&mut *tx)
            .await
            .ctx("counting administrators")?;
        if admins > 0 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(SETUP_CODE_META)
        .bind(new_code())
        .execute(&mut *tx)
        .await
        .ctx("making a setup code")?;
        let code: String = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
            .bind(SETUP_CODE_META)
            .fetch_one(&mut *tx)
            .await
            .ctx("reading the setup code")?;
        tx.commit().await.ctx("making a setup code")?;
        Ok(Some(code))
    }

    /// Creates the first administrator when `code` is the setup code and no
    /// administrator exists, atomically (see the module docs); the code is then spent.
    ///
    /// # Errors
    /// [`StoreError::Validation`] for a bad username; database failures.
    pub async fn create_first_admin(
        &self,
        username: &str,
        password_hash: &str,
        code: &str,
    ) -> Result<FirstAdmin, StoreError> {
        let username = check_label("username", username)?;
        let mut tx = self.gate.begin(&self.db).await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
                .bind(SETUP_CODE_META)
                .fetch_optional(&mut *tx)
                .await
                .ctx("reading the setup code")?;
        let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins")
            .fetch_one(&mut *tx)
            .await
            .ctx("counting administrators")?;
        if admins > 0 {
            return Ok(FirstAdmin::SetupClosed);
        }
        let typed = normalise(code);
        if stored.is_none_or(|stored| typed.is_empty() || normalise(&stored) != typed) {
            return Ok(FirstAdmin::WrongCode);
        }
        let now = Utc::now();
        // `WHERE NOT EXISTS` keeps the insert itself conditional, whatever the isolation.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO admins (username, username_folded, password_hash, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $4 WHERE NOT EXISTS (SELECT 1 FROM admins) RETURNING id",
        )
        .bind(&username)
        .bind(username.to_lowercase())
        .bind(password_hash)
        .bind(Ts(now))
        .fetch_optional(&mut *tx)
        .await
        .ctx("adding the first administrator")?;
        let Some(id) = id else {
            return Ok(FirstAdmin::SetupClosed);
        };
        sqlx::query("DELETE FROM store_meta WHERE key = $1")
            .bind(SETUP_CODE_META)
            .execute(&mut *tx)
            .await
            .ctx("spending the setup code")?;
        let actor = format!("setup:{username}");
        let fields = [format!("admin {username}")];
        audit::write(&mut tx, &actor, Subject::NONE, "admin.create", &fields).await?;
        let created = super::admins::load(&mut tx, AdminId(id)).await?;
        tx.commit().await.ctx("adding the first administrator")?;
        Ok(FirstAdmin::Created(created))
    }
}
