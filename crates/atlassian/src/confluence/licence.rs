//! What Confluence says about its licence, for `usersync report` (never for a
//! sync): the seats in use and allowed, from the licence REST resource
//! (`/rest/license/1.0/license/userCount` and `/maxUsers`, `{"count": n}`, an
//! unlimited licence answering Java's `Integer.MAX_VALUE`), and each licensed
//! user's last sign-in from `admin/users/list/active?expand=lastLogin`, which the
//! 10.2 reference documents (the list itself is 9.3+, the expansion is not in the
//! 9.4 and 10.0 references).

use http::StatusCode;

use super::wire::{self, Count, LicensedUser};
use super::{ConfluenceClient, PRODUCT};
use crate::http::Call;
use crate::{Seats, SignIn, SignIns, TargetError, TargetResult};

/// `maxUsers` for an unlimited licence.
const UNLIMITED: i64 = i32::MAX as i64;

impl ConfluenceClient {
    /// The seats in use and allowed, or `None` when the licence resource is not
    /// there (404: a server without the licence REST plugin).
    pub(super) async fn licence_seats(&self) -> TargetResult<Option<Vec<Seats>>> {
        let Some(used) = self.licence_count("userCount").await? else {
            return Ok(None);
        };
        let Some(max) = self.licence_count("maxUsers").await? else {
            return Ok(None);
        };
        let decode = self.decode_error("read the licence seats");
        let used =
            u64::try_from(used).map_err(|_| decode(format!("userCount {used} is negative")))?;
        let total = match max {
            UNLIMITED => None,
            n => Some(u64::try_from(n).map_err(|_| decode(format!("maxUsers {n} is negative")))?),
        };
        Ok(Some(vec![Seats {
            application: "confluence".to_owned(),
            used,
            total,
        }]))
    }

    async fn licence_count(&self, which: &str) -> TargetResult<Option<i64>> {
        let action = format!("read the licence's {which}");
        let call = Call::get(format!("rest/license/1.0/license/{which}"), &action);
        let reply = self.http.send(&call).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let count: Count = reply.success_json()?;
        Ok(Some(count.count))
    }

    /// Each licensed user's last sign-in, from 10.2; older releases do not say.
    pub(super) async fn licensed_sign_ins(&self) -> TargetResult<SignIns> {
        let version = self.caps().await?.version.clone();
        let known = wire::parse_version(&version)
            .is_some_and(|(major, minor, _)| (major, minor) >= (10, 2));
        if !known {
            return Ok(SignIns::NotExposed(format!(
                "not exposed: Confluence {version} does not report last sign-ins (the lastLogin expansion of admin/users/list/active is documented from 10.2)"
            )));
        }
        let action = "list the licensed users' last sign-ins";
        let call =
            Call::get("rest/api/admin/users/list/active", action).query("expand", "lastLogin");
        let users: Vec<LicensedUser> = match self.all_pages(call).await {
            Err(TargetError::NotFound { .. }) => {
                return Ok(SignIns::NotExposed(format!(
                    "not exposed: this {PRODUCT} answered 404 to admin/users/list/active"
                )));
            }
            other => other?,
        };
        let decode = self.decode_error(action);
        users
            .into_iter()
            .map(|u| {
                let name = u
                    .username
                    .ok_or_else(|| decode("a user without a username".into()))?;
                let last = match u.last_login {
                    None | Some(serde_json::Value::Null) => None,
                    Some(value) => Some(
                        wire::parse_instant(&value)
                            .map_err(|e| decode(format!("user {name:?}'s lastLogin: {e}")))?,
                    ),
                };
                let username = usersync_core::Username::parse(name.clone())
                    .map_err(|e| decode(format!("user {name:?}: {e}")))?;
                Ok(SignIn { username, last })
            })
            .collect::<TargetResult<_>>()
            .map(SignIns::Reported)
    }
}
