//! Which secret references a remote caller may give: the server's allow-list.
//!
//! A reference (`env:NAME`, `file:/path`) makes usersync read something of the machine it
//! runs on and send it to the app's hosts, so references are a deployment feature: whoever
//! applies a file with `usersync app apply -f` may use any (outside the data directory,
//! which the store enforces for everyone), while the API and the console accept only those
//! the server's own configuration allows (`usersync serve --allow-secret-refs
//! file:/run/secrets/,env:USERSYNC_`). The list is empty unless configured.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use super::model::AppDraft;
use super::secret::{SecretInput, SecretRef};
use crate::mapping::FieldProblem;

/// One allowed prefix: a directory for `file:`, a name prefix for `env:`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Directory(PathBuf),
    EnvPrefix(String),
}

/// The references the API and the console accept. [`Default`] allows none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRefAllowList {
    allowed: Vec<Allowed>,
}

impl SecretRefAllowList {
    /// True when `reference` lies under an allowed directory or starts with an allowed prefix.
    #[must_use]
    pub fn permits(&self, reference: &SecretRef) -> bool {
        self.allowed
            .iter()
            .any(|allowed| match (allowed, reference) {
                (Allowed::Directory(dir), SecretRef::File(path)) => {
                    path.starts_with(dir) && path != dir
                }
                (Allowed::EnvPrefix(prefix), SecretRef::Env(name)) => {
                    name.starts_with(prefix.as_str())
                }
                _ => false,
            })
    }

    /// Refuses a draft from a remote caller that names a reference this list does not allow.
    ///
    /// # Errors
    /// A [`FieldProblem`] on the secret's field saying where references are accepted.
    pub fn check(&self, draft: &AppDraft) -> Result<(), FieldProblem> {
        for (slot, input) in draft.secret_inputs() {
            let SecretInput::Reference(text) = input else {
                continue;
            };
            let Some(reference) = SecretRef::parse(text, slot.field())? else {
                continue;
            };
            if !self.permits(&reference) {
                let allowed = if self.allowed.is_empty() {
                    "this server allows none over the API or the console (an operator can \
                     allow some with `usersync serve --allow-secret-refs`)"
                        .to_owned()
                } else {
                    format!("this server allows only {self}")
                };
                return Err(FieldProblem::new(
                    slot.field(),
                    format!(
                        "{reference} is not accepted here: references are read on the server, so \
                         they are accepted from `usersync app apply -f`, and {allowed}; give the \
                         {} itself",
                        slot.noun()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl FromStr for SecretRefAllowList {
    type Err = String;

    /// Parses a comma-separated list such as `file:/run/secrets/,env:USERSYNC_`.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            allowed.push(parse_item(item)?);
        }
        Ok(Self { allowed })
    }
}

fn parse_item(item: &str) -> Result<Allowed, String> {
    if let Some(prefix) = item.strip_prefix("env:") {
        let valid = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        return if valid {
            Ok(Allowed::EnvPrefix(prefix.to_owned()))
        } else {
            Err(format!(
                "{item:?}: write env:PREFIX with letters, digits and _, e.g. env:USERSYNC_"
            ))
        };
    }
    if let Some(dir) = item.strip_prefix("file:") {
        let dir = Path::new(dir);
        let plain = dir.is_absolute()
            && !dir.components().any(|c| c == Component::ParentDir)
            && dir != Path::new("/");
        return if plain {
            Ok(Allowed::Directory(dir.to_path_buf()))
        } else {
            Err(format!(
                "{item:?}: write file:/absolute/directory/ (not / and without ..), e.g. file:/run/secrets/"
            ))
        };
    }
    Err(format!(
        "{item:?} is neither file:/directory/ nor env:PREFIX"
    ))
}

impl fmt::Display for SecretRefAllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .allowed
            .iter()
            .map(|a| match a {
                Allowed::Directory(dir) => format!("file:{}/...", dir.display()),
                Allowed::EnvPrefix(prefix) => format!("env:{prefix}..."),
            })
            .collect();
        f.write_str(&items.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> SecretRef {
        SecretRef::File(path.into())
    }

    #[test]
    fn an_empty_list_permits_no_reference() {
        let none = SecretRefAllowList::default();
        assert!(!none.permits(&file("/run/secrets/okta")));
        assert!(!none.permits(&SecretRef::Env("USERSYNC_OKTA".into())));
    }

    #[test]
    fn files_are_permitted_inside_an_allowed_directory_only() {
        let list: SecretRefAllowList = "file:/run/secrets/, env:USERSYNC_".parse().unwrap();
        assert!(list.permits(&file("/run/secrets/okta")));
        assert!(list.permits(&file("/run/secrets/deeper/okta")));
        assert!(!list.permits(&file("/run/secrets")));
        assert!(!list.permits(&file("/run/secrets-other/okta")));
        assert!(!list.permits(&file("/var/lib/usersync/master.key")));
    }

    #[test]
    fn environment_variables_are_permitted_by_prefix_only() {
        let list: SecretRefAllowList = "env:USERSYNC_".parse().unwrap();
        assert!(list.permits(&SecretRef::Env("USERSYNC_OKTA_TOKEN".into())));
        assert!(!list.permits(&SecretRef::Env("HOME".into())));
        assert!(!list.permits(&file("/run/secrets/okta")));
    }

    #[test]
    fn unusable_allow_list_items_are_refused_with_the_item_named() {
        for bad in [
            "file:relative/",
            "file:/",
            "file:/run/../etc",
            "env:",
            "env:A-B",
            "/x",
        ] {
            let err = bad.parse::<SecretRefAllowList>().unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
        assert_eq!(
            "".parse::<SecretRefAllowList>().unwrap(),
            SecretRefAllowList::default()
        );
    }
}
