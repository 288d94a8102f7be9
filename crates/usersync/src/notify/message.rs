//! What a notification says: the facts of one run's ending, as the webhook's JSON body
//! (with a Slack-compatible one-line `text`) and as an e-mail's subject and plain text.
//!
//! Both are built from one [`Notice`], so the channels never disagree. Before anything is
//! built, [`Notice::redact`] removes every secret value of the app from the free text
//! (reasons carry error messages), so no channel can carry one even if an error did.

use serde_json::{Value, json};
use usersync_core::app::NotifyOn;
use usersync_store::{RunCounts, RunId, RunStatus, RunTrigger};

/// The JSON body's version; fields are only ever added.
pub const BODY_VERSION: u32 = 1;
/// Reasons longer than this are cut (an error chain can be long; the run page has all).
const MAX_REASON_CHARS: usize = 500;
const MAX_REASONS: usize = 10;
/// Secrets shorter than this are not searched for: they would match ordinary words (a
/// password "admin" in "administrator"). Secrets never enter reasons by construction;
/// this is the second line.
pub(crate) const MIN_REDACTED: usize = 8;

/// The facts of one run's ending that an app is told about.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub app: String,
    pub run_id: RunId,
    pub event: NotifyOn,
    pub status: RunStatus,
    pub trigger: RunTrigger,
    pub reasons: Vec<String>,
    pub counts: RunCounts,
    /// The run's page in the console, when usersync knows its public URL.
    pub link: Option<String>,
    /// A test message from the console: no run ended (`run_id` and `status` mean nothing).
    pub test: bool,
    /// A call to the app's event hook was refused for a wrong secret: no run ended.
    pub hook_refused: bool,
}

impl Notice {
    /// Cuts the reasons to a bounded size and replaces each of `secrets` in them.
    #[must_use]
    pub fn redact(mut self, secrets: &[String]) -> Self {
        let total = self.reasons.len();
        self.reasons.truncate(MAX_REASONS);
        if total > MAX_REASONS {
            self.reasons
                .push(format!("... and {} more", total - MAX_REASONS));
        }
        for reason in &mut self.reasons {
            for secret in secrets.iter().filter(|s| s.len() >= MIN_REDACTED) {
                *reason = reason.replace(secret.as_str(), "[redacted]");
            }
            if reason.chars().count() > MAX_REASON_CHARS {
                *reason = reason.chars().take(MAX_REASON_CHARS).collect::<String>() + "...";
            }
        }
        self
    }

    /// What happened, in a few words: "is held for approval", "failed".
    fn what(&self) -> String {
        let status = match self.status {
            RunStatus::Held => "is held for approval",
            RunStatus::Failed => "failed",
            RunStatus::Partial => "ended partial",
            other => other.as_str(),
        };
        if self.event == NotifyOn::LoginRefused {
            format!("({} sync of one user) {status}, refused", self.trigger)
        } else {
            status.to_owned()
        }
    }

    /// The one-line summary, Slack's mrkdwn: `&`, `<`, `>` escaped, the link as `<url|text>`.
    #[must_use]
    pub fn text(&self) -> String {
        if self.hook_refused {
            return format!(
                "usersync: a call to the event hook of app \"{}\" was refused: {}",
                slack_escape(&self.app),
                slack_escape(&self.reasons.join("; "))
            );
        }
        if self.test {
            return format!(
                "usersync: test notification for app \"{}\" ({}): nothing happened, this channel works",
                slack_escape(&self.app),
                slack_escape(&self.reasons.join("; "))
            );
        }
        let mut line = format!(
            "usersync: run {} of app \"{}\" {}",
            self.run_id,
            slack_escape(&self.app),
            self.what()
        );
        if let Some(first) = self.reasons.first() {
            line.push_str(": ");
            line.push_str(&slack_escape(&first.replace('\n', " ")));
        }
        if let Some(link) = &self.link {
            line.push_str(&format!(" <{link}|Open run {}>", self.run_id));
        }
        line
    }

    /// The webhook's JSON body.
    #[must_use]
    pub fn body(&self) -> Value {
        json!({
            "text": self.text(),
            "app": self.app,
            "run_id": self.run_id.0,
            "status": self.status.as_str(),
            "event": self.event.as_str(),
            "trigger": self.trigger.as_str(),
            "reasons": self.reasons,
            "counts": self.counts,
            "link": self.link,
            "test": self.test,
            "hook_refused": self.hook_refused,
            "version": BODY_VERSION,
        })
    }

    /// The e-mail's subject line.
    #[must_use]
    pub fn subject(&self) -> String {
        if self.hook_refused {
            return format!("[usersync] {}: an event hook call was refused", self.app)
                .replace(['\r', '\n'], " ");
        }
        if self.test {
            return format!("[usersync] {}: test notification", self.app)
                .replace(['\r', '\n'], " ");
        }
        let subject = format!(
            "[usersync] {}: run {} {}",
            self.app,
            self.run_id,
            self.what()
        );
        subject.replace(['\r', '\n'], " ")
    }

    /// The e-mail's plain-text body: the same facts as the JSON body.
    #[must_use]
    pub fn plain_text(&self) -> String {
        if self.hook_refused {
            return format!(
                "A call to the event hook of the app {} was refused.\n{}\n",
                self.app,
                self.reasons.join("\n")
            );
        }
        if self.test {
            return format!(
                "This is a test notification for the app {} ({}).\nNothing happened: \
                 notifications of this app reach this address.\n",
                self.app,
                self.reasons.join("; ")
            );
        }
        let mut out = format!(
            "App: {}\nRun: {}\nStatus: {}\nTrigger: {}\nNotification: {}\n",
            self.app,
            self.run_id,
            self.status,
            self.trigger,
            self.event.label()
        );
        if !self.reasons.is_empty() {
            out.push_str("\nWhy:\n");
            for reason in &self.reasons {
                out.push_str(&wrap(reason, "  - ", "    "));
            }
        }
        if !self.counts.is_empty() {
            out.push_str("\nOperations (planned / applied / failed / skipped):\n");
            for (kind, c) in &self.counts {
                out.push_str(&format!(
                    "  {kind}: {} / {} / {} / {}\n",
                    c.planned, c.applied, c.failed, c.skipped
                ));
            }
        }
        if let Some(link) = &self.link {
            out.push_str(&format!("\nOpen the run: {link}\n"));
        }
        out
    }
}

/// Mail lines are kept under 76 characters (7bit/8bit without re-encoding).
const MAIL_WIDTH: usize = 72;

/// `text` as lines of at most [`MAIL_WIDTH`] characters, the first after `first`, the
/// rest after `rest`, each ending in a newline; a word longer than a line is split.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let room = MAIL_WIDTH.saturating_sub(line.chars().count() + usize::from(!empty));
            if word.len() <= room {
                if !empty {
                    line.push(' ');
                }
                line.extend(word.iter());
                empty = false;
                break;
            }
            if empty {
                // Nothing on this line yet: the word itself is too long; split it.
                let room = room.max(1);
                line.extend(word.drain(..room));
            }
            out.push_str(&line);
            out.push('\n');
            line = rest.to_owned();
            empty = true;
        }
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use usersync_store::OutcomeCounts;

    fn held() -> Notice {
        Notice {
            app: "Jira <prod>".into(),
            run_id: RunId(42),
            event: NotifyOn::Held,
            status: RunStatus::Held,
            trigger: RunTrigger::Scheduled,
            reasons: vec!["3 deactivations exceed limits.max_destructive (2)".into()],
            counts: RunCounts::from([(
                "deactivate_user".to_owned(),
                OutcomeCounts {
                    planned: 3,
                    ..OutcomeCounts::default()
                },
            )]),
            link: Some("https://usersync.example.com/runs/42".into()),
            test: false,
            hook_refused: false,
        }
    }

    #[test]
    fn the_text_is_one_slack_line_with_the_reason_and_a_link_to_the_run() {
        let text = held().text();
        assert_eq!(
            text,
            "usersync: run 42 of app \"Jira &lt;prod&gt;\" is held for approval: 3 deactivations \
             exceed limits.max_destructive (2) <https://usersync.example.com/runs/42|Open run 42>"
        );
        let body = held().body();
        assert_eq!(body["version"], 1);
        assert_eq!(body["counts"]["deactivate_user"]["planned"], 3);
        assert_eq!(body["status"], "held");
    }

    #[test]
    fn a_secret_in_a_reason_is_redacted_and_long_reasons_are_cut() {
        let mut notice = held();
        notice.reasons = vec!["token hunter2-token refused".into(), "x".repeat(2000)];
        let notice = notice.redact(&["hunter2-token".into()]);
        assert_eq!(notice.reasons[0], "token [redacted] refused");
        assert!(notice.reasons[1].chars().count() <= MAX_REASON_CHARS + 3);
        assert!(!notice.plain_text().contains("hunter2"));
    }

    #[test]
    fn mail_lines_are_wrapped_under_the_seven_bit_limit_and_keep_every_word() {
        let reason = format!("{} {}", "word ".repeat(40), "x".repeat(150));
        let text = wrap(&reason, "  - ", "    ");
        assert!(
            text.lines().all(|l| l.chars().count() <= MAIL_WIDTH),
            "{text}"
        );
        let words: String = text.split_whitespace().filter(|w| *w != "-").collect();
        assert_eq!(words, reason.split_whitespace().collect::<String>());
    }

    #[test]
    fn a_subject_never_spans_lines() {
        let mut notice = held();
        notice.app = "evil\r\nBcc: x@example.com".into();
        assert!(!notice.subject().contains('\n'));
    }
}
