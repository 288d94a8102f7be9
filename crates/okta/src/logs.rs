//! The System Log: bounded queries and polling with a persisted `next` checkpoint.
//!
//! A bounded query (`since` and `until`) has finite pages ordered by `published`.
//! A polling query (no `until`, ascending) never ends: Okta always sends a `next`
//! link, even after an empty page, and that link is the checkpoint to persist;
//! rebuilding since/until windows by hand skips or duplicates events.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::{OktaClient, OktaError, path_with_query};

/// One System Log event (`LogEvent`), with the fields a sync uses. Parsed leniently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    pub uuid: String,
    pub published: DateTime<Utc>,
    pub event_type: String,
    #[serde(default)]
    pub display_message: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub actor: Option<LogActor>,
    #[serde(default)]
    pub target: Option<Vec<LogTarget>>,
    #[serde(default)]
    pub outcome: Option<LogOutcome>,
}

impl LogEvent {
    /// The targets of a given type (`User`, `UserGroup`...): search by type, never by position.
    pub fn targets_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = &'a LogTarget> + 'a {
        self.target.iter().flatten().filter(move |t| t.kind == kind)
    }
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogActor {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub alternate_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// What it was done to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogTarget {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub alternate_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// How it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOutcome {
    pub result: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A bounded query: events published in `[since, until)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// A SCIM filter such as `eventType sw "group.user_membership"`.
    pub filter: Option<String>,
}

/// Where polling continues from. Serializable so it can be stored between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogCheckpoint {
    /// Start polling at events persisted from `since` on (at most 180 days back).
    Start {
        since: DateTime<Utc>,
        filter: Option<String>,
    },
    /// The `next` link of the last page read, exactly as Okta sent it.
    Next { url: String },
}

/// One round of polling: the new events and where to continue.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPoll {
    pub events: Vec<LogEvent>,
    pub checkpoint: LogCheckpoint,
}

/// Pages read in one poll at most, so a huge backlog is taken in bounded bites.
const MAX_PAGES_PER_POLL: usize = 20;

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl OktaClient {
    /// Every event of a bounded query, following `next` until Okta stops sending it.
    ///
    /// # Errors
    /// [`OktaError::Config`] when `since` is not before `until`; typed errors from Okta
    /// (e.g. [`OktaError::BadRequest`] for a bad filter or a `since` over 180 days back).
    pub async fn list_log_events(&self, query: &LogQuery) -> Result<Vec<LogEvent>, OktaError> {
        if query.since >= query.until {
            return Err(OktaError::Config {
                field: "log query",
                problem: format!(
                    "has since ({}) not before until ({}); swap them",
                    iso(query.since),
                    iso(query.until)
                ),
            });
        }
        let mut pairs = vec![
            ("since", iso(query.since)),
            ("until", iso(query.until)),
            ("limit", self.page_sizes.log_events.to_string()),
            ("sortOrder", "ASCENDING".to_owned()),
        ];
        if let Some(filter) = &query.filter {
            pairs.push(("filter", filter.clone()));
        }
        self.collect_all(
            path_with_query("/api/v1/logs", &pairs),
            "read the System Log",
        )
        .await
    }

    /// Reads the events after `checkpoint`: pages are followed until one comes back
    /// shorter than the page size (caught up) or a bound of pages is reached. The
    /// returned checkpoint is the last `next` link, to persist for the next poll.
    ///
    /// # Errors
    /// Typed errors from Okta; [`OktaError::Decode`] if Okta ever omits the `next`
    /// link of a polling query (it documents that it never does).
    pub async fn poll_log_events(&self, checkpoint: &LogCheckpoint) -> Result<LogPoll, OktaError> {
        let action = "poll the System Log";
        let mut url = match checkpoint {
            LogCheckpoint::Next { url } => url.clone(),
            LogCheckpoint::Start { since, filter } => {
                let mut pairs = vec![
                    ("since", iso(*since)),
                    ("limit", self.page_sizes.log_events.to_string()),
                    ("sortOrder", "ASCENDING".to_owned()),
                ];
                if let Some(filter) = filter {
                    pairs.push(("filter", filter.clone()));
                }
                path_with_query("/api/v1/logs", &pairs)
            }
        };
        let mut events = Vec::new();
        for _ in 0..MAX_PAGES_PER_POLL {
            let page = self.inner.get::<Vec<LogEvent>>(&url, action).await?;
            let short = page.items.len() < self.page_sizes.log_events as usize;
            events.extend(page.items);
            url = page.next.ok_or_else(|| {
                self.inner.decode(
                    action,
                    "a polling page came without a next link, so there is no checkpoint to continue from".into(),
                )
            })?;
            if short {
                break;
            }
        }
        Ok(LogPoll {
            events,
            checkpoint: LogCheckpoint::Next { url },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_event_parses_leniently_and_finds_targets_by_type() {
        let json = r#"{"uuid":"dc9fd3c0-598c-11ef-8478-2b7584bf8d5a","published":"2024-08-13T15:58:20.353Z",
            "eventType":"group.user_membership.add","version":0,"severity":"INFO",
            "actor":{"id":"00u1","type":"User","alternateId":"admin@example.com","displayName":"Admin","detailEntry":null},
            "client":{"zone":"null"},"outcome":{"result":"SUCCESS","reason":null},
            "target":[{"id":"00g1","type":"UserGroup","displayName":"Sales"},
                      {"id":"00u2","type":"User","alternateId":"jo@example.com","displayName":"Jo"}]}"#;
        let event: LogEvent = serde_json::from_str(json).unwrap();
        assert_eq!(event.event_type, "group.user_membership.add");
        let users: Vec<_> = event
            .targets_of_type("User")
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(users, ["00u2"]);
        assert_eq!(event.outcome.unwrap().result, "SUCCESS");
    }

    #[test]
    fn a_checkpoint_round_trips_through_json() {
        let c = LogCheckpoint::Next {
            url: "https://acme.okta.com/api/v1/logs?after=1627500044869_1".into(),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<LogCheckpoint>(&json).unwrap(), c);
    }
}
