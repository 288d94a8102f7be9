//! The emulated Jira version and the behaviour that depends on it.
//!
//! Differences follow the fact sheet (`atlassian-api.md` §1.2): `active` in
//! `PUT /user` from 8.3; `JIRAUSER` keys from 8.4; `/user/search` truncated to
//! the first 1,000 users up to 8.5, 1,000 per page from 8.6 to 9.x, and capped at
//! the first 100 results on 10.x; `/user/list` from 10.3.

use std::fmt;
use std::str::FromStr;

/// A Jira version such as `9.12.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JiraVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl JiraVersion {
    #[must_use]
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    #[must_use]
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// `PUT /user` understands `active`.
    #[must_use]
    pub fn can_set_active(self) -> bool {
        self.at_least(8, 3)
    }

    /// `GET /user/list` exists.
    #[must_use]
    pub fn has_user_list(self) -> bool {
        self.at_least(10, 3)
    }

    /// The most `/user/search` returns per request.
    #[must_use]
    pub fn search_page_cap(self) -> usize {
        if self.major >= 10 { 100 } else { 1000 }
    }

    /// How far into the results `/user/search` can reach at all (`startAt + maxResults`).
    #[must_use]
    pub fn search_total_cap(self) -> Option<usize> {
        if self.major >= 10 {
            Some(100)
        } else if !self.at_least(8, 6) {
            // JRASERVER-65089: only the first 1,000 matches are ever considered.
            Some(1000)
        } else {
            None
        }
    }

    /// Jira's build number for this version (as `serverInfo` reports it).
    #[must_use]
    pub fn build_number(self) -> u64 {
        u64::from(self.major) * 100_000 + u64::from(self.minor) * 1_000 + u64::from(self.patch)
    }
}

impl fmt::Display for JiraVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for JiraVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // Jira takes a bare major (`9` is 9.0.0).
        let (major, minor, patch) = crate::version::parse_release(s, 1)
            .ok_or_else(|| format!("Jira version {s:?} is not like 9.12.0"))?;
        Ok(Self::new(major, minor, patch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_pick_their_documented_limits() {
        let v: JiraVersion = "9.12.2".parse().unwrap();
        assert_eq!(v, JiraVersion::new(9, 12, 2));
        assert!(v.can_set_active() && !v.has_user_list());
        assert_eq!(v.search_total_cap(), None);
        let old: JiraVersion = "8.2".parse().unwrap();
        assert!(!old.can_set_active());
        assert_eq!(old.search_total_cap(), Some(1000));
        let new: JiraVersion = "10.3.0".parse().unwrap();
        assert!(new.has_user_list());
        assert_eq!(new.search_page_cap(), 100);
        assert!("nine".parse::<JiraVersion>().is_err());
    }
}
