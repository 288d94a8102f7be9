//! Which Confluence release is emulated, and which REST endpoints it has.
//!
//! The gates follow the fact sheet (atlassian-api.md section 2.2): disable, enable
//! and delete arrived in 8.2.0; create user, change password and the all-users list
//! in 8.4; the user-group membership and admin group endpoints are documented from
//! the 9.0 reference; update user from the 10.2 reference; `server-information`
//! from 9.1.0. An endpoint the emulated version lacks answers 404, as Jersey does
//! for an unknown resource. The JSON-RPC service (`super::rpc`) is not gated: it
//! offers the same user-management methods on every release emulated.

use std::fmt;
use std::str::FromStr;

/// A Confluence version such as `8.5.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    #[must_use]
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    fn at_least(self, major: u32, minor: u32) -> bool {
        self >= Self::new(major, minor, 0)
    }

    /// `PUT /admin/user/{u}/disable|enable` and `DELETE /admin/user/{u}`.
    #[must_use]
    pub fn has_disable_and_delete(self) -> bool {
        self.at_least(8, 2)
    }

    /// `POST /admin/user`, `POST /admin/user/{u}/password` and `GET /user/list`.
    #[must_use]
    pub fn has_create_and_list(self) -> bool {
        self.at_least(8, 4)
    }

    /// `PUT|DELETE /user/{u}/group/{g}` and `POST|DELETE /admin/group`.
    #[must_use]
    pub fn has_group_management(self) -> bool {
        self.at_least(9, 0)
    }

    /// `GET /server-information`.
    #[must_use]
    pub fn has_server_information(self) -> bool {
        self.at_least(9, 1)
    }

    /// `PUT /admin/user/{u}` (e-mail and full name).
    #[must_use]
    pub fn has_update_user(self) -> bool {
        self.at_least(10, 2)
    }

    /// `GET /admin/users/list/active`: present in the 9.4 reference, absent from
    /// 9.0's; CONFSERVER-37100 dates it to 9.3.
    #[must_use]
    pub fn has_active_users_list(self) -> bool {
        self.at_least(9, 3)
    }

    /// The `lastLogin` expansion of that list, first documented in the 10.2 reference.
    #[must_use]
    pub fn has_last_login(self) -> bool {
        self.at_least(10, 2)
    }

    /// A plausible build number for the manifest and server information.
    #[must_use]
    pub fn build_number(self) -> u32 {
        self.major * 1000 + self.minor * 10 + self.patch.min(9)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // Confluence needs at least `major.minor`; the patch defaults to 0.
        let (major, minor, patch) = crate::version::parse_release(s, 2).ok_or_else(|| {
            format!("Confluence version {s:?} is not a version like 8.5.0 or 9.2")
        })?;
        Ok(Self::new(major, minor, patch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_or_without_a_patch_number() {
        assert_eq!("8.5.0".parse::<Version>().unwrap(), Version::new(8, 5, 0));
        assert_eq!("9.2".parse::<Version>().unwrap(), Version::new(9, 2, 0));
        assert!("nine".parse::<Version>().unwrap_err().contains("nine"));
        assert!("9".parse::<Version>().is_err());
    }

    #[test]
    fn endpoints_arrive_in_the_documented_releases() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(!v("8.1.4").has_disable_and_delete());
        assert!(v("8.2.0").has_disable_and_delete());
        assert!(!v("8.3.0").has_create_and_list());
        assert!(v("8.4.0").has_create_and_list());
        assert!(!v("8.5.0").has_group_management());
        assert!(v("9.0.0").has_group_management());
        assert!(!v("9.2.0").has_update_user());
        assert!(v("10.2.0").has_update_user());
        assert!(!v("9.2.0").has_active_users_list());
        assert!(v("9.3.0").has_active_users_list());
        assert!(!v("10.1.0").has_last_login());
        assert!(v("10.2.0").has_last_login());
    }
}
