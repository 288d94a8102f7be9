//! Okta-shaped object ids (`00u…`, `00g…`, `who…`): 20 ASCII characters, stored inline
//! so that a 100,000-user org with a million memberships stays compact and the
//! `BTreeMap` order of ids (the listing and cursor order) is plain byte order.

use std::fmt;

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An Okta object id. Byte order equals string order, so it is the cursor order of lists.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid([u8; 20]);

impl Oid {
    /// A fresh random id with a three-character type prefix (`00u`, `00g`, `who`).
    pub fn random(prefix: &[u8; 3], rng: &mut impl Rng) -> Self {
        let mut bytes = [0u8; 20];
        bytes[..3].copy_from_slice(prefix);
        for b in &mut bytes[3..] {
            *b = ALPHABET[rng.random_range(0..ALPHABET.len())];
        }
        Self(bytes)
    }

    /// Parses an id as a client sent it; `None` when it cannot be one of ours.
    pub fn parse(value: &str) -> Option<Self> {
        let bytes: [u8; 20] = value.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric())
            .then_some(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Every byte came from ALPHABET or passed the ASCII check in `parse`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({})", self.as_str())
    }
}

pub const USER: &[u8; 3] = b"00u";
pub const GROUP: &[u8; 3] = b"00g";
pub const HOOK: &[u8; 3] = b"who";

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ids_round_trip_and_sort_like_their_text() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let a = Oid::random(USER, &mut rng);
        let b = Oid::random(USER, &mut rng);
        assert_eq!(Oid::parse(a.as_str()), Some(a));
        assert_eq!(a.cmp(&b), a.as_str().cmp(b.as_str()));
        assert!(a.as_str().starts_with("00u"));
        assert_eq!(Oid::parse("short"), None);
        assert_eq!(Oid::parse("00u/bad-id-characters"), None);
    }
}
