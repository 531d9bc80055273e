//! API keys: `kurz_` followed by 40 base62 characters from the operating system's random
//! number generator (about 238 bits). Only their SHA-256 hash is stored: a key this random
//! cannot be guessed from its hash, so a slow password hash would add cost and no safety.

use std::fmt;

use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use rand::Rng;
use sha2::{Digest, Sha256};

/// What every key starts with, so that a leaked key is recognisable (secret scanners, logs).
pub const KEY_PREFIX: &str = "kurz_";
/// Random base62 characters after the prefix.
const RANDOM_CHARS: usize = 40;
/// Random characters kept in clear, after `kurz_`, to name a key in lists.
const SHOWN_CHARS: usize = 8;

/// A key in clear: exists only when it is created (to be printed once) and while a request
/// carrying it is authenticated. Never logged: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A new random key.
    pub fn generate() -> Self {
        let random: String = OsRng
            .sample_iter(&Alphanumeric)
            .take(RANDOM_CHARS)
            .map(char::from)
            .collect();
        Self(format!("{KEY_PREFIX}{random}"))
    }

    /// A key as a client sent it, if it has the shape of one (anything else is refused before
    /// any look-up).
    pub fn parse(value: &str) -> Option<Self> {
        let random = value.strip_prefix(KEY_PREFIX)?;
        (random.len() == RANDOM_CHARS && random.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored and looked up: the SHA-256 of the key, as 64 lower-case hex digits.
    pub fn hash(&self) -> String {
        hash_hex(&self.0)
    }

    /// `kurz_` and the first 8 random characters: enough to tell keys apart in a list, far
    /// too little to guess the rest.
    pub fn display_prefix(&self) -> String {
        self.0[..KEY_PREFIX.len() + SHOWN_CHARS].to_owned()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}…)", self.display_prefix())
    }
}

fn hash_hex(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 45);
        assert_eq!(ApiKey::parse(a.expose()), Some(a.clone()));
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), b.hash());
        assert!(a.display_prefix().starts_with("kurz_") && a.display_prefix().len() == 13);
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "",
            "kurz_",
            "kurz_short",
            &format!("kurz_{}", "a".repeat(41)),
            &format!("kurz_{}!", "a".repeat(39)),
            &format!("kruz_{}", "a".repeat(40)),
        ] {
            assert!(ApiKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
