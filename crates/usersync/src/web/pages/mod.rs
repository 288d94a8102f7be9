//! The console's HTML pages, one module per area. Every page renders inside the
//! shell (`layout.html`): navigation, the signed-in user, a flash message, and
//! the CSRF token htmx sends with every request.

pub mod access;
pub mod apps;
pub mod form_problems;
pub mod live;
pub mod login_sync;
pub mod paging;
pub mod preview;
pub mod report;
pub mod runs;
pub mod settings;
pub mod settings_form;
pub mod test_connection;

use super::auth::Admin;

/// A one-line message shown at the top of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `ok`, `warn` or `bad` (a CSS class).
    pub kind: &'static str,
    pub message: String,
}

/// What the layout needs on every page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shell {
    pub user: Option<String>,
    pub csrf: String,
    /// Which navigation entry is current: `apps`, `runs` or `audit`.
    pub section: &'static str,
    pub flash: Option<Flash>,
}

impl Shell {
    /// The shell for a signed-in administrator.
    #[must_use]
    pub fn for_admin(admin: &Admin, section: &'static str) -> Self {
        Self {
            user: Some(admin.actor.clone()),
            csrf: admin.csrf.clone(),
            section,
            flash: None,
        }
    }

    /// The shell before sign-in (no navigation).
    #[must_use]
    pub fn anonymous() -> Self {
        Self::default()
    }

    #[must_use]
    pub fn with_flash(mut self, kind: &'static str, message: impl Into<String>) -> Self {
        self.flash = Some(Flash {
            kind,
            message: message.into(),
        });
        self
    }
}

/// The messages a redirect may ask the next page to show. Only these codes travel in
/// `?flash=`; the text is ours, so a crafted link cannot put words in an official banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    AppCreated,
    SettingsSaved,
    AppDeleted,
    RunInProgress,
    RunApproved,
    RunRejected,
    AdminCreated,
    AdminDeleted,
    PasswordChanged,
    TokenRevoked,
}

impl Notice {
    const ALL: [Self; 10] = [
        Self::AppCreated,
        Self::SettingsSaved,
        Self::AppDeleted,
        Self::RunInProgress,
        Self::RunApproved,
        Self::RunRejected,
        Self::AdminCreated,
        Self::AdminDeleted,
        Self::PasswordChanged,
        Self::TokenRevoked,
    ];

    /// The code in the URL.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::AppCreated => "app-created",
            Self::SettingsSaved => "settings-saved",
            Self::AppDeleted => "app-deleted",
            Self::RunInProgress => "run-in-progress",
            Self::RunApproved => "run-approved",
            Self::RunRejected => "run-rejected",
            Self::AdminCreated => "admin-created",
            Self::AdminDeleted => "admin-deleted",
            Self::PasswordChanged => "password-changed",
            Self::TokenRevoked => "token-revoked",
        }
    }

    fn flash(self) -> Flash {
        let (kind, message) = match self {
            Self::AppCreated => ("ok", "App created."),
            Self::SettingsSaved => ("ok", "Settings saved."),
            Self::AppDeleted => ("ok", "App deleted."),
            Self::RunInProgress => ("warn", "A run of this app is already in progress."),
            Self::RunApproved => ("ok", "Approved. The run's outcome is shown below."),
            Self::RunRejected => ("ok", "Rejected: nothing was applied."),
            Self::AdminCreated => ("ok", "Administrator created."),
            Self::AdminDeleted => ("ok", "Administrator deleted."),
            Self::PasswordChanged => (
                "ok",
                "Password changed; that administrator's sessions were ended.",
            ),
            Self::TokenRevoked => ("ok", "API token revoked."),
        };
        Flash {
            kind,
            message: message.to_owned(),
        }
    }
}

/// The flash a redirect asked for with `?flash=<code>`; unknown codes show nothing.
#[must_use]
pub fn flash_from_query(value: Option<&str>) -> Option<Flash> {
    let value = value?;
    Notice::ALL
        .into_iter()
        .find(|n| n.code() == value)
        .map(Notice::flash)
}

/// A redirect target carrying a notice.
#[must_use]
pub fn with_flash(path: &str, notice: Notice) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}flash={}", notice.code())
}

/// An operation kind as people read it: `add_member` -> `Add member`.
#[must_use]
pub fn kind_label(kind: &str) -> String {
    let spaced = kind.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_is_shown_only_for_a_known_code_never_for_text_from_the_link() {
        let url = with_flash("/apps/x", Notice::SettingsSaved);
        assert_eq!(url, "/apps/x?flash=settings-saved");
        let shown = flash_from_query(Some("settings-saved")).unwrap();
        assert_eq!(
            (shown.kind, shown.message.as_str()),
            ("ok", "Settings saved.")
        );
        assert_eq!(
            flash_from_query(Some("ok:Your password expired, call +1 555")),
            None
        );
        assert_eq!(flash_from_query(Some("bad:anything")), None);
        for notice in Notice::ALL {
            assert_eq!(flash_from_query(Some(notice.code())), Some(notice.flash()));
        }
    }

    #[test]
    fn operation_kinds_read_as_words() {
        assert_eq!(super::kind_label("add_member"), "Add member");
        assert_eq!(super::kind_label("deactivate_user"), "Deactivate user");
        assert_eq!(super::kind_label(""), "");
    }
}
