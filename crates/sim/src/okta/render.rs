//! JSON renderings of users and groups in Okta's exact shapes (compare the recorded
//! responses in `okta/recorded/*.har`): the same fields, nulls where Okta sends nulls,
//! full lifecycle `_links` on a single user and only `self` in collections.

use serde_json::{Map, Value, json};
use usersync_core::snapshot::{OktaGroupType, OktaStatus};

use super::filter::format_time;
use super::state::{GroupRec, UserRec};

/// The default user type every emulated user has.
pub const USER_TYPE_ID: &str = "oty1usersync0sim0000";

/// Whether a user appears alone (full links) or in a collection (`self` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Single,
    Collection,
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_time(t)))
}

pub fn user(base: &str, u: &UserRec, form: Form) -> Value {
    let href = format!("{base}/api/v1/users/{}", u.id);
    let mut links = Map::new();
    if form == Form::Single {
        for (name, path) in lifecycle_links(u.status) {
            let target = if path.starts_with("credentials") {
                format!("{href}/{path}")
            } else {
                format!("{href}/lifecycle/{path}")
            };
            links.insert(
                (*name).to_owned(),
                json!({"href": target, "method": "POST"}),
            );
        }
    }
    links.insert("self".into(), json!({ "href": href }));
    let mut credentials = Map::new();
    if u.has_password {
        credentials.insert("password".into(), json!({}));
    }
    credentials.insert("provider".into(), json!({"type": "OKTA", "name": "OKTA"}));
    json!({
        "id": u.id.as_str(),
        "status": u.status.as_str(),
        "created": format_time(u.created),
        "activated": time(u.activated),
        "statusChanged": time(u.status_changed),
        "lastLogin": time(u.last_login),
        "lastUpdated": format_time(u.last_updated),
        "passwordChanged": time(u.password_changed),
        "type": { "id": USER_TYPE_ID },
        "profile": u.profile,
        "credentials": credentials,
        "_links": links,
    })
}

/// The lifecycle operations Okta offers a user in each status (relation, path).
fn lifecycle_links(status: OktaStatus) -> &'static [(&'static str, &'static str)] {
    use OktaStatus as S;
    match status {
        S::Staged => &[("activate", "activate"), ("deactivate", "deactivate")],
        S::Provisioned => &[
            ("reactivate", "reactivate"),
            ("resetPassword", "reset_password"),
            ("deactivate", "deactivate"),
        ],
        S::Active => &[
            ("suspend", "suspend"),
            ("resetPassword", "reset_password"),
            ("expirePassword", "expire_password"),
            (
                "changeRecoveryQuestion",
                "credentials/change_recovery_question",
            ),
            ("deactivate", "deactivate"),
            ("changePassword", "credentials/change_password"),
        ],
        S::Recovery | S::PasswordExpired => &[
            ("resetPassword", "reset_password"),
            ("suspend", "suspend"),
            ("deactivate", "deactivate"),
        ],
        S::LockedOut => &[
            ("unlock", "unlock"),
            ("resetPassword", "reset_password"),
            ("deactivate", "deactivate"),
        ],
        S::Suspended => &[("unsuspend", "unsuspend"), ("deactivate", "deactivate")],
        S::Deprovisioned => &[("activate", "activate")],
    }
}

pub fn group(base: &str, g: &GroupRec, members: Option<usize>) -> Value {
    let href = format!("{base}/api/v1/groups/{}", g.id);
    let logo_kind = if g.kind == OktaGroupType::AppGroup {
        "app"
    } else {
        "okta"
    };
    let logo = |size: &str| {
        json!({
            "name": size,
            "href": format!("https://op1static.oktacdn.com/assets/img/logos/groups/{logo_kind}-{size}.png"),
            "type": "image/png",
        })
    };
    let mut links = json!({
        "logo": [logo("medium"), logo("large")],
        "users": {"href": format!("{href}/users")},
        "apps": {"href": format!("{href}/apps")},
    });
    if let Some(app) = &g.source_app {
        links["source"] = json!({ "href": format!("{base}/api/v1/apps/{app}") });
    }
    let mut value = json!({
        "id": g.id.as_str(),
        "created": format_time(g.created),
        "lastUpdated": format_time(g.last_updated),
        "lastMembershipUpdated": format_time(g.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": g.kind.as_str(),
        "profile": g.profile,
        "_links": links,
    });
    if let Some(count) = members {
        value["_embedded"] = json!({
            "stats": {
                "usersCount": count,
                "appsCount": 0,
                "groupPushMappingsCount": 0,
                "hasAdminPrivlege": false,
            }
        });
    }
    value
}
