//! What changed in an org since a moment: the reads of an incremental cycle.
//!
//! Users by `filter=lastUpdated gt "<since>"` (a filter, unlike the plain listing,
//! includes DEPROVISIONED users; a profile or status change moves `lastUpdated`),
//! groups by `lastUpdated` (profile: renames) or `lastMembershipUpdated` (members),
//! and the System Log events that name whom a membership or lifecycle change was
//! about ([`CHANGE_EVENTS_FILTER`]). Each item keeps the timestamp Okta gave it, so
//! a caller can tell an item it already handled from a newer change of the same one.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;
use usersync_core::{OktaGroup, OktaGroupType, OktaUser};

use crate::groups::type_filter;
use crate::users::Listing;
use crate::wire::{WireGroup, WireUser};
use crate::{LogEvent, LogQuery, OktaClient, OktaError, path_with_query, quoted};

/// The System Log events that say who changed: memberships, user and group
/// lifecycles, profile updates. Sign-ins and the like are left out by Okta itself.
pub const CHANGE_EVENTS_FILTER: &str = concat!(
    r#"eventType sw "group.user_membership" or eventType sw "user.lifecycle""#,
    r#" or eventType sw "group.lifecycle" or eventType eq "user.account.update_profile""#,
    r#" or eventType eq "group.profile.update""#
);

/// A user with Okta's `lastUpdated`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserChange {
    pub user: OktaUser,
    pub last_updated: DateTime<Utc>,
}

/// A group with Okta's `lastUpdated` (profile) and `lastMembershipUpdated`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupChange {
    pub group: OktaGroup,
    pub last_updated: DateTime<Utc>,
    pub last_membership_updated: DateTime<Utc>,
}

/// The timestamps Okta puts beside a user's or group's fields.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stamps {
    #[serde(default)]
    last_updated: Option<DateTime<Utc>>,
    #[serde(default)]
    last_membership_updated: Option<DateTime<Utc>>,
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Splits one listed object into its timestamps and its wire shape.
fn stamped<T: serde::de::DeserializeOwned>(value: Value) -> Result<(Stamps, T), String> {
    let stamps: Stamps = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let wire: T = serde_json::from_value(value).map_err(|e| e.to_string())?;
    Ok((stamps, wire))
}

fn id_of(value: &Value) -> String {
    value
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("(no id)")
        .to_owned()
}

impl OktaClient {
    /// Users (any status) whose `lastUpdated` is after `since`; one request per page.
    ///
    /// # Errors
    /// The first failed page, after retries; nothing partial is returned.
    pub async fn users_updated_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Listing<UserChange>, OktaError> {
        let url = path_with_query(
            "/api/v1/users",
            &[
                ("limit", self.page_sizes.users.to_string()),
                ("filter", format!("lastUpdated gt {}", quoted(&iso(since)))),
            ],
        );
        let mut listing = Listing::default();
        self.paginate::<Value>(url, "list the users updated since the last cycle", |page| {
            for value in page {
                let id = id_of(&value);
                let change = stamped::<WireUser>(value).and_then(|(stamps, wire)| {
                    let user = wire.into_user().map_err(|u| u.reason)?;
                    let last_updated = stamps.last_updated.ok_or("has no lastUpdated")?;
                    Ok(UserChange { user, last_updated })
                });
                match change {
                    Ok(c) => listing.items.push(c),
                    Err(why) => listing.unusable.push(format!("user {id} {why}")),
                }
            }
        })
        .await?;
        Ok(listing)
    }

    /// Groups of the given types (all when empty) whose profile or membership
    /// changed after `since`; one request per page.
    ///
    /// # Errors
    /// The first failed page, after retries.
    pub async fn groups_changed_since(
        &self,
        since: DateTime<Utc>,
        types: &[OktaGroupType],
    ) -> Result<Listing<GroupChange>, OktaError> {
        let at = quoted(&iso(since));
        let changed = format!("lastUpdated gt {at} or lastMembershipUpdated gt {at}");
        let filter = match type_filter(types) {
            Some(types) => format!("({types}) and ({changed})"),
            None => changed,
        };
        let url = path_with_query(
            "/api/v1/groups",
            &[
                ("limit", self.page_sizes.groups.to_string()),
                ("filter", filter),
            ],
        );
        let mut listing = Listing::default();
        self.paginate::<Value>(
            url,
            "list the groups changed since the last cycle",
            |page| {
                for value in page {
                    let id = id_of(&value);
                    let change = stamped::<WireGroup>(value).and_then(|(stamps, wire)| {
                        let group = wire.into_group().map_err(|u| u.reason)?;
                        Ok(GroupChange {
                            group,
                            last_updated: stamps.last_updated.ok_or("has no lastUpdated")?,
                            last_membership_updated: stamps
                                .last_membership_updated
                                .ok_or("has no lastMembershipUpdated")?,
                        })
                    });
                    match change {
                        Ok(c) => listing.items.push(c),
                        Err(why) => listing.unusable.push(format!("group {id} {why}")),
                    }
                }
            },
        )
        .await?;
        Ok(listing)
    }

    /// The change events ([`CHANGE_EVENTS_FILTER`]) published in `[since, until)`.
    ///
    /// # Errors
    /// As [`OktaClient::list_log_events`].
    pub async fn change_events(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<LogEvent>, OktaError> {
        self.list_log_events(&LogQuery {
            since,
            until,
            filter: Some(CHANGE_EVENTS_FILTER.to_owned()),
        })
        .await
    }
}
