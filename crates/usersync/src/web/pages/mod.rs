//! The console's HTML pages, one module per area. Every page renders inside the
//! shell (`layout.html`): navigation, the signed-in user, a flash message, and
//! the CSRF token htmx sends with every request.

pub mod apps;
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

/// Reads a flash from the `flash` query parameter set by a redirect (`ok:...`).
#[must_use]
pub fn flash_from_query(value: Option<&str>) -> Option<Flash> {
    let (kind, message) = value?.split_once(':')?;
    let kind = match kind {
        "ok" => "ok",
        "warn" => "warn",
        "bad" => "bad",
        _ => return None,
    };
    Some(Flash {
        kind,
        message: message.to_owned(),
    })
}

/// A redirect target carrying a flash message.
#[must_use]
pub fn with_flash(path: &str, kind: &str, message: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!(
        "{path}{sep}flash={}",
        urlencoding::encode(&format!("{kind}:{message}"))
    )
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
    #[test]
    fn operation_kinds_read_as_words() {
        assert_eq!(super::kind_label("add_member"), "Add member");
        assert_eq!(super::kind_label("deactivate_user"), "Deactivate user");
        assert_eq!(super::kind_label(""), "");
    }
}
