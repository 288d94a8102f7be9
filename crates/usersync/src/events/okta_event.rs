//! What an Okta event means for a sync: parsing an event hook delivery's envelope and
//! turning each `LogEvent` (the same schema from a hook and from the System Log) into
//! an [`Action`]: sync these users, or refresh the groups with a full sync.
//!
//! Which users an event names is read from its targets of type `User`, searched by
//! type and never by position; a sign-in names its user as the actor (an admin who
//! changes someone else is the actor of that change, and is not synced for it).

use serde::Deserialize;
use usersync_core::app::events::LOGIN_EVENTS;
use usersync_okta::LogEvent;
use usersync_store::RunTrigger;

/// What one event asks of usersync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Sync each of these Okta users (by id) on their own.
    SyncUsers {
        users: Vec<String>,
        trigger: RunTrigger,
    },
    /// Groups changed (or a user vanished): a full sync refreshes them.
    FullSync,
}

/// What kind of work an event type leads to, if any (before the app's switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Login,
    User,
    Full,
}

fn kind_of(event_type: &str) -> Option<Kind> {
    if LOGIN_EVENTS.contains(&event_type) {
        Some(Kind::Login)
    } else if event_type.starts_with("user.lifecycle.delete") {
        // The user is gone from Okta: only a full read can tell the target they departed.
        Some(Kind::Full)
    } else if event_type.starts_with("user.lifecycle.")
        || event_type == "user.account.update_profile"
        || event_type.starts_with("group.user_membership.")
    {
        Some(Kind::User)
    } else if event_type.starts_with("group.lifecycle.") || event_type == "group.profile.update" {
        Some(Kind::Full)
    } else {
        None
    }
}

/// What `event` asks for, given the event types the app has switched on; `None` for
/// events that are switched off, unknown, unsuccessful or name nobody.
#[must_use]
pub fn action_for(event: &LogEvent, enabled: &[String]) -> Option<Action> {
    if !enabled.iter().any(|t| t == &event.event_type) {
        return None;
    }
    if event
        .outcome
        .as_ref()
        .is_some_and(|o| !o.result.eq_ignore_ascii_case("SUCCESS"))
    {
        return None;
    }
    let kind = kind_of(&event.event_type)?;
    if kind == Kind::Full {
        return Some(Action::FullSync);
    }
    let mut users: Vec<String> = event
        .targets_of_type("User")
        .map(|t| t.id.clone())
        .collect();
    if users.is_empty()
        && kind == Kind::Login
        && let Some(actor) = event.actor.as_ref().filter(|a| a.kind == "User")
    {
        users.push(actor.id.clone());
    }
    users.dedup();
    let trigger = match kind {
        Kind::Login => RunTrigger::Login,
        _ => RunTrigger::Event,
    };
    (!users.is_empty()).then_some(Action::SyncUsers { users, trigger })
}

/// An event hook delivery as Okta POSTs it (fields usersync does not use are ignored).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// `com.okta.event_hook`.
    pub event_type: String,
    /// Unique per delivery; a redelivery repeats it.
    pub event_id: String,
    pub data: DeliveryData,
}

/// The envelope's `data`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryData {
    pub events: Vec<LogEvent>,
}

/// The envelope's `eventType`.
pub const HOOK_EVENT_TYPE: &str = "com.okta.event_hook";

/// Why a delivery body was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the body is not an Okta event hook delivery: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("eventType is {0:?}; an Okta event hook delivery has \"com.okta.event_hook\"")]
    EventType(String),
}

/// Parses a delivery body.
///
/// # Errors
/// [`DeliveryError`] when the JSON is not Okta's envelope.
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, DeliveryError> {
    let delivery: Delivery = serde_json::from_slice(body)?;
    if delivery.event_type != HOOK_EVENT_TYPE {
        return Err(DeliveryError::EventType(delivery.event_type));
    }
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use usersync_core::app::events::HANDLED_EVENTS;

    use super::*;

    fn event(kind: &str, actor: &str, targets: &str) -> LogEvent {
        serde_json::from_str(&format!(
            r#"{{"uuid":"u1","published":"2026-01-01T00:00:00.000Z","eventType":"{kind}",
            "actor":{actor},"outcome":{{"result":"SUCCESS"}},"target":{targets}}}"#
        ))
        .unwrap()
    }

    fn all() -> Vec<String> {
        HANDLED_EVENTS.iter().map(|s| (*s).to_owned()).collect()
    }

    const ADMIN: &str = r#"{"id":"00uadmin","type":"User"}"#;

    #[test]
    fn a_membership_change_syncs_the_member_and_not_the_admin_who_made_it() {
        let e = event(
            "group.user_membership.add",
            ADMIN,
            r#"[{"id":"00g1","type":"UserGroup"},{"id":"00u2","type":"User"}]"#,
        );
        assert_eq!(
            action_for(&e, &all()),
            Some(Action::SyncUsers {
                users: vec!["00u2".into()],
                trigger: RunTrigger::Event
            })
        );
    }

    #[test]
    fn a_sign_in_without_targets_syncs_its_actor_as_a_login() {
        let e = event("user.session.start", r#"{"id":"00u9","type":"User"}"#, "[]");
        assert_eq!(
            action_for(&e, &all()),
            Some(Action::SyncUsers {
                users: vec!["00u9".into()],
                trigger: RunTrigger::Login
            })
        );
    }

    #[test]
    fn group_lifecycle_and_user_deletion_ask_for_a_full_sync() {
        for kind in ["group.lifecycle.create", "user.lifecycle.delete.initiated"] {
            let e = event(kind, ADMIN, r#"[{"id":"00g1","type":"UserGroup"}]"#);
            assert_eq!(action_for(&e, &all()), Some(Action::FullSync), "{kind}");
        }
    }

    #[test]
    fn switched_off_unknown_and_failed_events_ask_for_nothing() {
        let e = event("user.session.start", r#"{"id":"00u9","type":"User"}"#, "[]");
        assert_eq!(action_for(&e, &["user.lifecycle.create".into()]), None);
        let e = event("policy.lifecycle.update", ADMIN, "[]");
        assert_eq!(action_for(&e, &["policy.lifecycle.update".into()]), None);
        let mut e = event("user.session.start", r#"{"id":"00u9","type":"User"}"#, "[]");
        e.outcome.as_mut().unwrap().result = "FAILURE".into();
        assert_eq!(action_for(&e, &all()), None);
    }

    #[test]
    fn a_delivery_with_another_event_type_is_refused_by_name() {
        let body = br#"{"eventType":"something.else","eventId":"e1","data":{"events":[]}}"#;
        let err = parse_delivery(body).unwrap_err();
        assert!(err.to_string().contains("com.okta.event_hook"), "{err}");
    }
}
