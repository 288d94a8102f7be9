//! What an API token may do: its scopes, stored as space-separated words.
//!
//! `read` reads apps, runs, plans and the audit log; `sync` starts syncs; `approve`
//! approves or rejects held runs; `admin` changes apps, administrators and tokens and
//! implies every other scope. Administrators signed in with a session hold `admin`.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

/// One permission an API token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Sync,
    Approve,
    Admin,
}

impl Scope {
    /// Every scope, weakest first.
    pub const ALL: [Self; 4] = [Self::Read, Self::Sync, Self::Approve, Self::Admin];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Sync => "sync",
            Self::Approve => "approve",
            Self::Admin => "admin",
        }
    }

    /// The scope named `word`, if any.
    #[must_use]
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's set of scopes (never empty once parsed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Every scope (what a signed-in administrator holds).
    #[must_use]
    pub fn all() -> Self {
        Self(Scope::ALL.into_iter().collect())
    }

    /// Parses words separated by commas or spaces, e.g. `read,sync`.
    ///
    /// # Errors
    /// A message naming the unknown word, or saying the list is empty.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for word in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            let scope = Scope::parse(&word.to_ascii_lowercase()).ok_or_else(|| {
                format!("unknown scope {word:?}: use read, sync, approve or admin")
            })?;
            set.insert(scope);
        }
        if set.is_empty() {
            return Err("give at least one scope: read, sync, approve or admin".into());
        }
        Ok(Self(set))
    }

    /// True when these scopes allow what `needed` guards (`admin` allows everything).
    #[must_use]
    pub fn allows(&self, needed: Scope) -> bool {
        self.0.contains(&needed) || self.0.contains(&Scope::Admin)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_commas_or_spaces_and_name_an_unknown_word() {
        let scopes = Scopes::parse("sync, READ").unwrap();
        assert_eq!(scopes.to_string(), "read sync");
        assert!(
            Scopes::parse("read,write")
                .unwrap_err()
                .contains("\"write\"")
        );
        assert!(Scopes::parse(" , ").is_err());
    }

    #[test]
    fn admin_allows_everything_and_other_scopes_only_themselves() {
        let admin = Scopes::parse("admin").unwrap();
        assert!(Scope::ALL.into_iter().all(|s| admin.allows(s)));
        let sync = Scopes::parse("sync").unwrap();
        assert!(sync.allows(Scope::Sync));
        assert!(!sync.allows(Scope::Read));
        assert!(!sync.allows(Scope::Approve));
    }
}
