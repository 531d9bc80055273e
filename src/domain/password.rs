//! A link's password: the plain one a caller sets ([`Password`]), and what is stored instead,
//! its Argon2id hash as a PHC string ([`PasswordHash`]). The plain password never reaches the
//! store; hashing and checking cost tens of milliseconds on purpose, so callers on an async
//! runtime run them on a blocking thread (see `crate::app::passwords`).

use std::fmt;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::Invalid;

/// The longest password accepted, in bytes: enough for any passphrase, and a bound on the
/// work one attempt costs.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A plain password: 1 to [`MAX_PASSWORD_BYTES`] bytes, kept as typed (not trimmed).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(value: String) -> Result<Self, Invalid> {
        if value.is_empty() {
            return Err(Invalid::new("password", "must not be empty"));
        }
        if value.len() > MAX_PASSWORD_BYTES {
            return Err(Invalid::new(
                "password",
                format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        Ok(Self(value))
    }

    /// Its Argon2id hash with a fresh random salt, by the `argon2` crate's default parameters
    /// (19 MiB of memory, 2 passes, 1 lane: OWASP's recommendation). Slow on purpose.
    pub fn hash(&self) -> PasswordHash {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            // The defaults and a generated salt are always valid parameters.
            .map(|hash| hash.to_string())
            .unwrap_or_default();
        PasswordHash(hash)
    }
}

/// Never printed: a `Debug` of a request or an input must not show a password.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// An Argon2 hash in the PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// A hash given as text (an import): it must be a PHC string of an Argon2 variant with
    /// parameters Argon2 accepts, a salt and a hash.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let invalid = |reason: String| Invalid::new("password_hash", reason);
        let parsed = password_hash::PasswordHash::new(value.trim())
            .map_err(|error| invalid(format!("is not a PHC string ({error})")))?;
        argon2::Algorithm::try_from(parsed.algorithm)
            .map_err(|_| invalid(format!("`{}` is not an Argon2 variant", parsed.algorithm)))?;
        argon2::Params::try_from(&parsed)
            .map_err(|error| invalid(format!("has parameters Argon2 refuses ({error})")))?;
        if parsed.hash.is_none() || parsed.salt.is_none() {
            return Err(invalid("has no salt or no hash".into()));
        }
        Ok(Self(value.trim().to_owned()))
    }

    /// A hash read back from the store (written by kurz, so checked on the way in).
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    /// Whether `candidate` is the password, in time that does not depend on where it differs.
    /// Slow on purpose; a stored value that is not a hash matches nothing.
    pub fn verify(&self, candidate: &str) -> bool {
        if candidate.is_empty() || candidate.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        password_hash::PasswordHash::new(&self.0).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok()
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shown as its algorithm only: a hash is not a secret to print in logs either.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_bounded_and_kept_as_typed() {
        assert_eq!(
            Password::parse(String::new()).unwrap_err().field,
            "password"
        );
        let long = Password::parse("x".repeat(MAX_PASSWORD_BYTES + 1)).unwrap_err();
        assert_eq!(long.field, "password");
        assert!(Password::parse("x".repeat(MAX_PASSWORD_BYTES)).is_ok());
        // 512 two-byte characters are 1 024 bytes; one more is over.
        assert!(Password::parse("é".repeat(512)).is_ok());
        assert!(Password::parse("é".repeat(513)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse(" s3cret ".into()).unwrap()),
            "Password(..)"
        );
    }

    #[test]
    fn a_hash_matches_its_password_only() {
        let password = Password::parse(" open sesame ".into()).unwrap();
        let hash = password.hash();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        assert!(hash.verify(" open sesame "));
        assert!(!hash.verify("open sesame"), "not trimmed");
        assert!(!hash.verify(""));
        assert!(!hash.verify(&"x".repeat(MAX_PASSWORD_BYTES + 1)));
        assert_ne!(password.hash(), hash, "a fresh salt each time");
        // What an export writes, an import takes back.
        assert_eq!(PasswordHash::parse(hash.as_str()).unwrap(), hash);
        assert!(!PasswordHash::from_stored("not a hash".into()).verify(" open sesame "));
    }

    #[test]
    fn only_argon2_phc_strings_are_hashes() {
        let hash = Password::parse("pw".into()).unwrap().hash();
        let phc = hash.as_str();
        assert!(PasswordHash::parse(&phc.replace("argon2id", "argon2i")).is_ok());
        for bad in [
            "",
            "hunter2",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=1,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            let refused = PasswordHash::parse(bad).unwrap_err();
            assert_eq!(refused.field, "password_hash", "{bad}");
        }
    }
}
