//! Identity newtypes, parsed at the boundary.
//!
//! No raw `String` id crosses a module boundary: Okta ids, target usernames and
//! group names each have their own type. Usernames and group names compare
//! case-insensitively, as Jira and Confluence do, so maps keyed by them join
//! Okta data with Atlassian data correctly.
//!
//! The text is a [`CompactString`]: ids and names up to 24 bytes (nearly all of
//! them) live inside the value instead of behind a heap pointer, so the planner's
//! million-membership joins read them without a cache miss per id. A name that
//! is not lower case keeps its folded form in the same string, after its spelling
//! (a name is 32 bytes, not the 48 of two strings). Each type serialises as a plain
//! JSON string, exactly as a `String` would.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use compact_str::CompactString;
use serde::{Deserialize, Serialize, Serializer};

/// Why a string could not become an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} {value:?} is too long ({len} characters, at most {max})")]
    TooLong {
        what: &'static str,
        value: String,
        len: usize,
        max: usize,
    },
    #[error("{what} {value:?} contains {reason}")]
    BadCharacter {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
}

fn check(what: &'static str, value: &str, max: usize) -> Result<(), IdError> {
    if value.trim().is_empty() {
        return Err(IdError::Empty { what });
    }
    let len = value.chars().count();
    if len > max {
        return Err(IdError::TooLong {
            what,
            value: value.to_owned(),
            len,
            max,
        });
    }
    if value.chars().any(char::is_control) {
        return Err(IdError::BadCharacter {
            what,
            value: value.to_owned(),
            reason: "a control character",
        });
    }
    Ok(())
}

/// An exact-match identifier (Okta ids, target user keys).
macro_rules! exact_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "CompactString")]
        pub struct $name(CompactString);

        impl $name {
            /// Parses an id, refusing empty or over-long values.
            ///
            /// # Errors
            /// [`IdError`] when the value is empty, too long or has control characters.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                Self::try_from(CompactString::from(value.into()))
            }
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<CompactString> for $name {
            type Error = IdError;
            fn try_from(value: CompactString) -> Result<Self, IdError> {
                check($what, &value, $max)?;
                Ok(Self(value))
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.into_string()
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The lower-case form of `value`, or `None` when it is already lower case (most
/// names are, and then no second copy is kept).
fn fold(value: &str) -> Option<CompactString> {
    if value.is_ascii() {
        let has_upper = value.bytes().any(|b| b.is_ascii_uppercase());
        return has_upper.then(|| {
            let mut folded = CompactString::from(value);
            folded.make_ascii_lowercase();
            folded
        });
    }
    let folded = value.to_lowercase();
    (folded != value).then(|| CompactString::from(folded))
}

/// Where a name's spelling ends and its folded form begins (see `folded_name!`).
const FOLDED_AFTER: char = '\0';

/// A name's spelling and its folded form (the spelling itself when that is lower case).
fn split_folded(text: &str) -> (&str, &str) {
    match text.split_once(FOLDED_AFTER) {
        Some((spelled, folded)) => (spelled, folded),
        None => (text, text),
    }
}

/// A case-insensitive name: keeps the spelling it was given, compares folded.
macro_rules! folded_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Clone, Deserialize)]
        #[serde(try_from = "CompactString")]
        pub struct $name {
            /// The spelling as given, then, when the folded form differs, a NUL and
            /// the folded form (one string of 24 bytes, inline up to 24 bytes of text,
            /// not two: plans hold two names in each of a million membership ops).
            /// Names refuse control characters, so the NUL cannot be part of either.
            text: CompactString,
        }

        impl $name {
            /// Parses a name, refusing empty, over-long or control-character values.
            ///
            /// # Errors
            /// [`IdError`] when the value is not a usable name.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                Self::try_from(CompactString::from(value.into()))
            }
            /// The name as it was spelled.
            #[must_use]
            pub fn as_str(&self) -> &str {
                split_folded(&self.text).0
            }
            /// The lower-case form used for comparison.
            #[must_use]
            pub fn folded(&self) -> &str {
                split_folded(&self.text).1
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("original", &self.as_str())
                    .field("folded", &self.folded())
                    .finish()
            }
        }
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.folded() == other.folded()
            }
        }
        impl Eq for $name {}
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                self.folded().cmp(other.folded())
            }
        }
        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.folded().hash(state);
            }
        }
        impl TryFrom<CompactString> for $name {
            type Error = IdError;
            fn try_from(original: CompactString) -> Result<Self, IdError> {
                check($what, &original, $max)?;
                let mut text = original;
                if let Some(folded) = fold(&text) {
                    text.push(FOLDED_AFTER);
                    text.push_str(&folded);
                }
                Ok(Self { text })
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                let spelled = value.as_str().len();
                let mut text = value.text.into_string();
                text.truncate(spelled);
                text
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

exact_id!(
    /// Okta's immutable user id, e.g. `00ub0oNGTSWTBKOLGLNR`.
    OktaUserId, "Okta user id", 64
);
exact_id!(
    /// Okta's immutable group id, e.g. `00g1emaKYZTWRYYRRTSK`.
    OktaGroupId, "Okta group id", 64
);
exact_id!(
    /// The target's immutable key for a user (Jira's user key such as `JIRAUSER10100`,
    /// Confluence's `userKey`). Survives renames.
    TargetUserKey, "target user key", 255
);
folded_name!(
    /// A username in the target (Jira `name`, Confluence `username`).
    Username, "username", 255
);
folded_name!(
    /// A group name in Okta or the target.
    GroupName, "group name", 255
);
folded_name!(
    /// An e-mail address, compared case-insensitively.
    Email, "e-mail address", 254
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn usernames_compare_case_insensitively_but_keep_their_spelling() {
        let a = Username::parse("Alice").unwrap();
        let b = Username::parse("alice").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Alice");
        let set: HashSet<_> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn empty_and_control_character_names_are_refused_with_the_field_named() {
        let err = GroupName::parse("  ").unwrap_err();
        assert_eq!(err.to_string(), "group name must not be empty");
        let err = Username::parse("a\u{7}b").unwrap_err();
        assert!(err.to_string().contains("control character"), "{err}");
    }

    #[test]
    fn ids_round_trip_through_serde() {
        let id = OktaUserId::parse("00ub0oNGTSWTBKOLGLNR").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"00ub0oNGTSWTBKOLGLNR\"");
        let back: OktaUserId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<OktaUserId>("\"\"").is_err());
    }

    #[test]
    fn names_serialise_as_spelled_short_or_long_and_fold_when_read_back() {
        for spelling in [
            "Alice",
            "alice",
            "Ärger-Gruppe",
            "A-Group-Name-Longer-Than-24-Bytes",
        ] {
            let name = GroupName::parse(spelling).unwrap();
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(json, format!("{spelling:?}"));
            let back: GroupName = serde_json::from_str(&json).unwrap();
            assert_eq!(back.as_str(), spelling);
            assert_eq!(back.folded(), spelling.to_lowercase());
            assert_eq!(back, GroupName::parse(spelling.to_uppercase()).unwrap());
        }
        assert!(serde_json::from_str::<Username>("\" \"").is_err());
    }

    #[test]
    fn a_name_is_as_small_as_one_compact_string() {
        // Plans hold two names in each of a million membership ops.
        assert_eq!(std::mem::size_of::<Username>(), 24);
        assert_eq!(std::mem::size_of::<Option<GroupName>>(), 24);
    }

    proptest::proptest! {
        #[test]
        fn a_name_keeps_its_spelling_and_folds_to_its_lower_case(spelling in "[a-zA-Z0-9 ._ÄäÉéİıẞß-]{1,40}") {
            proptest::prop_assume!(!spelling.trim().is_empty());
            let name = Username::parse(spelling.as_str()).unwrap();
            proptest::prop_assert_eq!(name.as_str(), spelling.as_str());
            proptest::prop_assert_eq!(name.folded(), spelling.to_lowercase());
            proptest::prop_assert_eq!(name.to_string(), spelling.clone());
            proptest::prop_assert_eq!(String::from(name.clone()), spelling.clone());
            let upper = Username::parse(spelling.to_uppercase()).unwrap();
            proptest::prop_assert_eq!(name == upper, spelling.to_lowercase() == spelling.to_uppercase().to_lowercase());
        }
    }
}
