//! YOURLS's API signatures (see docs/compat.md): a signature token per API key, derived from a
//! server secret as YOURLS derives its users' tokens from its cookie key, and timestamped
//! signatures, the hex digest of the timestamp and the token in either order.
//!
//! kurz stores only hashes of its API keys, so a token that a client hashes with a timestamp
//! cannot be the key itself: it is `HMAC-SHA256(secret, "kurz-yourls-v1:" + key id)`, first 32
//! hex digits. Revoking the key revokes its token; changing the secret revokes every token.

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

/// A key's YOURLS signature token: 32 lower-case hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureToken(String);

impl std::fmt::Debug for SignatureToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignatureToken(..)")
    }
}

impl SignatureToken {
    /// The token of the API key `key_id` under `secret`.
    pub fn derive(secret: &[u8], key_id: i64) -> Self {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(format!("kurz-yourls-v1:{key_id}").as_bytes());
        let digest = format!("{:x}", mac.finalize().into_bytes());
        Self(digest[..32].to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `signature` is this token, in constant time.
    pub fn is(&self, signature: &str) -> bool {
        self.0.as_bytes().ct_eq(signature.as_bytes()).into()
    }

    /// Whether `signature` is `hash(timestamp + token)` or `hash(token + timestamp)` (as YOURLS
    /// accepts both), compared in constant time; hex case is ignored.
    pub fn signs(&self, timestamp: &str, hash: SignatureHash, signature: &str) -> bool {
        let signature = signature.to_ascii_lowercase();
        let before = hash.hex(&format!("{timestamp}{}", self.0));
        let after = hash.hex(&format!("{}{timestamp}", self.0));
        let before: bool = before.as_bytes().ct_eq(signature.as_bytes()).into();
        let after: bool = after.as_bytes().ct_eq(signature.as_bytes()).into();
        before | after
    }
}

/// The digests a timestamped signature may use (YOURLS's `hash` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureHash {
    /// YOURLS before 1.10.5 and most clients; kurz accepts it while `allow_md5` says so.
    Md5,
    Sha256,
    Sha384,
    Sha512,
}

impl SignatureHash {
    /// A `hash` parameter's value (case-insensitive); `None` for a digest YOURLS 1.10.5 does
    /// not accept either.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "md5" => Some(Self::Md5),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    fn hex(self, input: &str) -> String {
        match self {
            Self::Md5 => format!("{:x}", Md5::digest(input.as_bytes())),
            Self::Sha256 => format!("{:x}", Sha256::digest(input.as_bytes())),
            Self::Sha384 => format!("{:x}", Sha384::digest(input.as_bytes())),
            Self::Sha512 => format!("{:x}", Sha512::digest(input.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_an_hmac_of_the_key_id() {
        // python3: hmac.new(b'k'*32, b'kurz-yourls-v1:7', hashlib.sha256).hexdigest()[:32]
        let token = SignatureToken::derive(&[b'k'; 32], 7);
        assert_eq!(token.as_str(), "e7c86c5e956e942e268d402ad02cb9ba");
        assert_ne!(SignatureToken::derive(&[b'k'; 32], 8), token);
        assert_ne!(SignatureToken::derive(&[b'j'; 32], 7), token);
        assert!(token.is("e7c86c5e956e942e268d402ad02cb9ba"));
        assert!(!token.is("e7c86c5e956e942e268d402ad02cb9b"));
        assert!(!format!("{token:?}").contains("e7c8"), "never logged");
    }

    #[test]
    fn timestamped_signatures_match_in_either_order() {
        let token = SignatureToken("0123456789abcdef0123456789abcdef".into());
        // python3: hashlib.md5(b'1700000000' + token).hexdigest()
        let md5 = "a64c37818f49141945df3914fef52fa5";
        assert!(token.signs("1700000000", SignatureHash::Md5, md5));
        assert!(token.signs("1700000000", SignatureHash::Md5, &md5.to_ascii_uppercase()));
        // python3: hashlib.sha256(token + b'1700000000').hexdigest()
        let sha = "ba210a0d369eedbe73307fe3b9c96b81f8e04c678e33b69f1de62d267ac473cb";
        assert!(token.signs("1700000000", SignatureHash::Sha256, sha));
        assert!(!token.signs("1700000001", SignatureHash::Sha256, sha));
        assert!(!token.signs("1700000000", SignatureHash::Sha512, sha));
        assert!(!token.signs("1700000000", SignatureHash::Md5, sha));
    }

    #[test]
    fn only_yourls_digests_are_accepted() {
        assert_eq!(SignatureHash::parse("SHA256"), Some(SignatureHash::Sha256));
        assert_eq!(SignatureHash::parse("md5"), Some(SignatureHash::Md5));
        assert_eq!(SignatureHash::parse("sha1"), None);
        assert_eq!(SignatureHash::parse(""), None);
    }
}
