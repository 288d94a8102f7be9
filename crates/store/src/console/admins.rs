//! Administrators and their sessions.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::{Admin, AdminId, Session, check_label};
use crate::Store;
use crate::audit::{self, Subject};
use crate::error::{DbContext as _, StoreError, is_unique_violation};
use crate::stamp::Ts;

/// A session to create, as the server computed it.
#[derive(Clone)]
pub struct NewSession {
    /// A hash of the session id in the cookie (the id itself is not stored).
    pub id_hash: String,
    pub admin: AdminId,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

type SessionRow = (String, i64, String, Ts, Ts);
type AdminRow = (i64, String, String, Ts, Ts);

const SELECT_ADMIN: &str = "SELECT id, username, password_hash, created_at, updated_at FROM admins";

fn admin(row: AdminRow) -> Admin {
    let (id, username, password_hash, created_at, updated_at) = row;
    Admin {
        id: AdminId(id),
        username,
        password_hash,
        created_at: created_at.0,
        updated_at: updated_at.0,
    }
}

pub(super) async fn load(conn: &mut AnyConnection, id: AdminId) -> Result<Admin, StoreError> {
    let row: Option<AdminRow> = sqlx::query_as(&format!("{SELECT_ADMIN} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .ctx("reading an administrator")?;
    row.map(admin)
        .ok_or_else(|| StoreError::not_found(format!("administrator {id}")))
}

impl Store {
    /// Adds an administrator with an Argon2id PHC hash computed by the caller.
    ///
    /// # Errors
    /// [`StoreError::Validation`] for a bad username, [`StoreError::Conflict`] when it is taken.
    pub async fn create_admin(
        &self,
        username: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<Admin, StoreError> {
        let username = check_label("username", username)?;
        let mut tx = self.gate.begin(&self.db).await?;
        let now = Utc::now();
        let id: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO admins (username, username_folded, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(&username)
        .bind(username.to_lowercase())
        .bind(password_hash)
        .bind(Ts(now))
        .fetch_one(&mut *tx)
        .await;
        let id = match id {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "an administrator named {username:?} already exists"
                )));
            }
            other => AdminId(other.ctx("adding an administrator")?),
        };
        let fields = [format!("admin {username}")];
        audit::write(&mut tx, actor, Subject::NONE, "admin.create", &fields).await?;
        let created = load(&mut tx, id).await?;
        tx.commit().await.ctx("adding an administrator")?;
        Ok(created)
    }

    /// The administrator with this username (ignoring case), if any.
    ///
    /// # Errors
    /// Database failures.
    pub async fn admin_by_username(&self, username: &str) -> Result<Option<Admin>, StoreError> {
        let row: Option<AdminRow> =
            sqlx::query_as(&format!("{SELECT_ADMIN} WHERE username_folded = $1"))
                .bind(username.trim().to_lowercase())
                .fetch_optional(&self.db)
                .await
                .ctx("reading an administrator")?;
        Ok(row.map(admin))
    }

    /// Every administrator, by username.
    ///
    /// # Errors
    /// Database failures.
    pub async fn list_admins(&self) -> Result<Vec<Admin>, StoreError> {
        let rows: Vec<AdminRow> =
            sqlx::query_as(&format!("{SELECT_ADMIN} ORDER BY username_folded"))
                .fetch_all(&self.db)
                .await
                .ctx("listing administrators")?;
        Ok(rows.into_iter().map(admin).collect())
    }

    /// Replaces an administrator's password hash and ends all their sessions.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    pub async fn set_admin_password(
        &self,
        id: AdminId,
        password_hash: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let existing = load(&mut tx, id).await?;
        sqlx::query("UPDATE admins SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(Ts::now())
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .ctx("changing a password")?;
        sqlx::query("DELETE FROM sessions WHERE admin_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .ctx("ending sessions")?;
        let fields = [
            format!("admin {}", existing.username),
            "password".to_owned(),
        ];
        audit::write(&mut tx, actor, Subject::NONE, "admin.password", &fields).await?;
        tx.commit().await.ctx("changing a password")
    }

    /// Removes an administrator and their sessions; never the last one (the console
    /// would have no one to sign in, and setup is closed once an administrator existed).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] for the last administrator.
    pub async fn delete_admin(&self, id: AdminId, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.gate.begin(&self.db).await?;
        let existing = load(&mut tx, id).await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins")
            .fetch_one(&mut *tx)
            .await
            .ctx("counting administrators")?;
        if count <= 1 {
            return Err(StoreError::Conflict(format!(
                "{} is the last administrator and cannot be deleted: create another first",
                existing.username
            )));
        }
        sqlx::query("DELETE FROM admins WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .ctx("removing an administrator")?;
        let fields = [format!("admin {}", existing.username)];
        audit::write(&mut tx, actor, Subject::NONE, "admin.delete", &fields).await?;
        tx.commit().await.ctx("removing an administrator")
    }

    /// Stores a new session.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the administrator does not exist.
    pub async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO sessions (id_hash, admin_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(session.admin.0)
        .bind(&session.csrf_token)
        .bind(Ts::now())
        .bind(Ts(session.expires_at))
        .execute(&self.db)
        .await;
        match result {
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(
                StoreError::not_found(format!("administrator {}", session.admin)),
            ),
            other => other.map(|_| ()).ctx("creating a session"),
        }
    }

    /// The session with this id hash, unless it has expired by `now`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT id_hash, admin_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(Ts(now))
        .fetch_optional(&self.db)
        .await
        .ctx("reading a session")?;
        let Some((id_hash, admin_id, csrf_token, created_at, expires_at)) = row else {
            return Ok(None);
        };
        let mut conn = self.db.acquire().await.ctx("reading a session")?;
        let admin = load(&mut conn, AdminId(admin_id)).await?;
        Ok(Some(Session {
            id_hash,
            admin,
            csrf_token,
            created_at: created_at.0,
            expires_at: expires_at.0,
        }))
    }

    /// Ends one session (sign-out).
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.db)
            .await
            .ctx("ending a session")?;
        Ok(())
    }

    /// Removes sessions expired by `now`; returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(Ts(now))
            .execute(&self.db)
            .await
            .ctx("removing expired sessions")?;
        Ok(done.rows_affected())
    }
}
