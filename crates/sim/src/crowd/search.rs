//! The subset of the Crowd Query Language the emulator understands: terms
//! `property = value` joined by `and` (`or` and parentheses are refused with
//! `ILLEGAL_ARGUMENT`, not ignored), values quoted or bare, `*` as a wildcard,
//! compared ignoring case. An empty restriction matches everything.

use super::state::{SimGroup, SimUser};
use super::wire::CrowdError;

/// A parsed restriction: every term must match.
#[derive(Debug, Default)]
pub struct Restriction {
    terms: Vec<(String, String)>,
}

impl Restriction {
    /// Parses `restriction`.
    ///
    /// # Errors
    /// `ILLEGAL_ARGUMENT` for what the subset does not cover.
    pub fn parse(text: &str) -> Result<Self, CrowdError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::default());
        }
        if text.contains('(') || text.contains(')') {
            return Err(CrowdError::illegal(
                "the emulator does not support parentheses in CQL",
            ));
        }
        let mut terms = Vec::new();
        for term in split_and(text) {
            if term.to_lowercase().contains(" or ") {
                return Err(CrowdError::illegal(
                    "the emulator does not support `or` in CQL",
                ));
            }
            let (property, value) = term
                .split_once('=')
                .ok_or_else(|| CrowdError::illegal(format!("cannot read the CQL term {term:?}")))?;
            let value = value.trim().trim_matches('"').to_owned();
            terms.push((property.trim().to_lowercase(), value));
        }
        Ok(Self { terms })
    }

    pub fn matches_user(&self, user: &SimUser) -> bool {
        self.terms
            .iter()
            .all(|(property, value)| match property.as_str() {
                "name" => wildcard(value, &user.name),
                "email" => wildcard(value, &user.email),
                "firstname" => wildcard(value, &user.first_name),
                "lastname" => wildcard(value, &user.last_name),
                "displayname" => wildcard(value, &user.display_name),
                "active" => value.eq_ignore_ascii_case(&user.active.to_string()),
                _ => false,
            })
    }

    pub fn matches_group(&self, group: &SimGroup) -> bool {
        self.terms
            .iter()
            .all(|(property, value)| match property.as_str() {
                "name" => wildcard(value, &group.name),
                "description" => wildcard(value, &group.description),
                "active" => value.eq_ignore_ascii_case(&group.active.to_string()),
                _ => false,
            })
    }
}

/// The terms between ` and ` (any case).
fn split_and(text: &str) -> Vec<&str> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(at) = lower[start..].find(" and ") {
        out.push(&text[start..start + at]);
        start += at + " and ".len();
    }
    out.push(&text[start..]);
    out
}

/// `pattern` with `*` for any run of characters, against `text`, ignoring case.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.to_lowercase(), text.to_lowercase());
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(after) = rest.strip_prefix(part) else {
                return false;
            };
            rest = after;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_prefixes_suffixes_and_middles_ignoring_case() {
        assert!(wildcard("jo*", "John"));
        assert!(wildcard("*@EXAMPLE.com", "a@example.com"));
        assert!(wildcard("a*c*e", "abcde"));
        assert!(!wildcard("a*c*e", "abde"));
        assert!(wildcard("alice", "ALICE"));
    }

    #[test]
    fn or_and_parentheses_are_refused_rather_than_ignored() {
        assert!(Restriction::parse("name = a or name = b").is_err());
        assert!(Restriction::parse("(name = a)").is_err());
        assert_eq!(
            Restriction::parse("name = \"jo*\" and active = true")
                .unwrap()
                .terms
                .len(),
            2
        );
    }
}
