//! Users: the full listing of every status, one user by id or login, the users whose
//! login starts with a prefix, and a user's groups.
//!
//! Okta's plain `GET /api/v1/users` hides DEPROVISIONED users, and `search` is
//! only eventually consistent. usersync lists with
//! `filter=lastUpdated gt "1970-01-01T00:00:00.000Z"` instead: Okta documents
//! that `filter` includes DEPROVISIONED users, `lastUpdated` is never null and
//! supports `gt`, so the one listing returns every user of every status,
//! including statuses usersync does not know yet (those are reported rather
//! than silently missing, which a status-by-status filter would do). One listing
//! also keeps the request count at exactly ceil(users / 200).

use usersync_core::{OktaGroup, OktaUser, OktaUserId};

use crate::wire::{Unusable, WireGroup, WireUser};
use crate::{OktaClient, OktaError, path_with_query, quoted};

/// The filter that matches every user, DEPROVISIONED included.
pub(crate) const EVERY_USER_FILTER: &str = r#"lastUpdated gt "1970-01-01T00:00:00.000Z""#;

/// A listing, with the objects Okta returned that could not be understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// One line per object left out, naming it and why (e.g. an unknown status).
    pub unusable: Vec<String>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            unusable: Vec::new(),
        }
    }
}

impl<T> Listing<T> {
    pub(crate) fn push(&mut self, converted: Result<T, Unusable>, what: &str) {
        match converted {
            Ok(item) => self.items.push(item),
            Err(u) => self.unusable.push(format!("{what} {} {}", u.id, u.reason)),
        }
    }
}

impl OktaClient {
    /// The first page URL of the every-status user listing.
    pub(crate) fn users_url(&self) -> String {
        path_with_query(
            "/api/v1/users",
            &[
                ("limit", self.page_sizes.users.to_string()),
                ("filter", EVERY_USER_FILTER.to_owned()),
            ],
        )
    }

    /// Every user of every status, one request per page of 200.
    ///
    /// # Errors
    /// The first failed page, after retries; nothing partial is returned (use
    /// [`OktaClient::read_org`] for a read that keeps what it got).
    pub async fn list_users(&self) -> Result<Listing<OktaUser>, OktaError> {
        let mut listing = Listing::default();
        self.paginate::<WireUser>(self.users_url(), "list users", |page| {
            for user in page {
                listing.push(user.into_user(), "user");
            }
        })
        .await?;
        Ok(listing)
    }

    /// One user by id or login (any status), or `None` when Okta has no such user.
    /// One request.
    ///
    /// # Errors
    /// Typed errors for everything but 404; [`OktaError::Decode`] when the user has
    /// a status usersync does not know.
    pub async fn get_user(&self, id_or_login: &str) -> Result<Option<OktaUser>, OktaError> {
        let action = format!("read the user {id_or_login}");
        if id_or_login.trim().is_empty() {
            return Err(OktaError::Config {
                field: "user id or login",
                problem: "is empty".into(),
            });
        }
        // Okta cannot GET a login containing '/' by path; a filter on profile.login
        // finds it (and filter, unlike the plain list, includes DEPROVISIONED users).
        let wire: Option<WireUser> = if id_or_login.contains('/') {
            let url = path_with_query(
                "/api/v1/users",
                &[
                    ("limit", "2".to_owned()),
                    (
                        "filter",
                        format!("profile.login eq {}", quoted(id_or_login)),
                    ),
                ],
            );
            let page = self.inner.get::<Vec<WireUser>>(&url, &action).await?;
            page.items.into_iter().next()
        } else {
            let url = format!("/api/v1/users/{}", urlencoding::encode(id_or_login));
            match self.inner.get::<WireUser>(&url, &action).await {
                Ok(page) => Some(page.items),
                Err(OktaError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            }
        };
        wire.map(|w| {
            w.into_user().map_err(|u| {
                self.inner
                    .decode(&action, format!("user {} {}", u.id, u.reason))
            })
        })
        .transpose()
    }

    /// Every user (any status) whose login starts with `prefix`, case-insensitively:
    /// `search=profile.login sw "prefix"`, followed page by page. The targeted query a
    /// single-user sync uses to learn who else could map to a username without
    /// listing the org. Okta's `search` is eventually consistent: a user created in
    /// the last second or so may be missing.
    ///
    /// # Errors
    /// The first failed page, after retries; nothing partial is returned.
    pub async fn users_with_login_prefix(
        &self,
        prefix: &str,
    ) -> Result<Listing<OktaUser>, OktaError> {
        let url = path_with_query(
            "/api/v1/users",
            &[
                ("limit", self.page_sizes.users.to_string()),
                ("search", format!("profile.login sw {}", quoted(prefix))),
            ],
        );
        let action = format!("search the users whose login starts with {prefix:?}");
        let mut listing = Listing::default();
        self.paginate::<WireUser>(url, &action, |page| {
            for user in page {
                listing.push(user.into_user(), "user");
            }
        })
        .await?;
        Ok(listing)
    }

    /// The groups a user belongs to (every type). Usually one request; follows `next`
    /// if Okta ever pages this endpoint.
    ///
    /// # Errors
    /// [`OktaError::NotFound`] when the user does not exist; other typed errors.
    pub async fn user_groups(&self, user_id: &OktaUserId) -> Result<Listing<OktaGroup>, OktaError> {
        let url = format!(
            "/api/v1/users/{}/groups",
            urlencoding::encode(user_id.as_str())
        );
        let action = format!("list the groups of user {user_id}");
        let mut listing = Listing::default();
        self.paginate::<WireGroup>(url, &action, |page| {
            for group in page {
                listing.push(group.into_group(), "group");
            }
        })
        .await?;
        Ok(listing)
    }
}
