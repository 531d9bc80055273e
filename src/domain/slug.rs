use std::collections::HashSet;
use std::fmt;

use super::Invalid;

/// The path segment of a short link: 1 to `max_length` characters of `A-Z a-z 0-9 - _`,
/// not reserved. Slugs are case-sensitive; reserved words match in any case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

/// The rules a slug is checked against, built once from the settings (`[slug]`).
#[derive(Debug, Clone)]
pub struct SlugPolicy {
    max_length: usize,
    generated_length: usize,
    alphabet: Vec<char>,
    reserved: HashSet<String>,
}

impl SlugPolicy {
    /// Generated slugs have `length` characters of `alphabet`; custom ones at most
    /// `max_length`, and none is one of `reserved` (in any case).
    pub fn new(length: usize, alphabet: &str, max_length: usize, reserved: &[String]) -> Self {
        Self {
            max_length,
            generated_length: length,
            alphabet: alphabet.chars().collect(),
            reserved: reserved.iter().map(|s| s.to_ascii_lowercase()).collect(),
        }
    }

    /// A fresh random slug; the caller retries on a collision.
    pub fn generate(&self) -> Slug {
        self.generate_with_length(self.generated_length)
    }

    /// A random slug of `length` characters of the alphabet, never a reserved one (Shlink's
    /// `shortCodeLength`).
    pub fn generate_with_length(&self, length: usize) -> Slug {
        loop {
            let candidate = nanoid::format(nanoid::rngs::default, &self.alphabet, length);
            if !self.is_reserved(&candidate) {
                return Slug(candidate);
            }
        }
    }

    fn is_reserved(&self, value: &str) -> bool {
        self.reserved.contains(&value.to_ascii_lowercase())
    }
}

fn has_slug_charset(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Slug {
    /// A slug a client asked for: checked for charset, length and reserved words.
    pub fn parse(value: &str, policy: &SlugPolicy) -> Result<Self, Invalid> {
        if value.is_empty() {
            return Err(Invalid::new("slug", "must not be empty"));
        }
        if value.chars().count() > policy.max_length {
            return Err(Invalid::new(
                "slug",
                format!("must be at most {} characters", policy.max_length),
            ));
        }
        if !has_slug_charset(value) {
            return Err(Invalid::new(
                "slug",
                "may only contain the characters A-Z a-z 0-9 - _",
            ));
        }
        if policy.is_reserved(value) {
            return Err(Invalid::new("slug", format!("`{value}` is reserved")));
        }
        Ok(Self(value.to_owned()))
    }

    /// A slug taken from a request path for a look-up. Anything that could never have been
    /// stored is `None`, so the caller answers 404 without asking the database.
    pub fn for_lookup(value: &str) -> Option<Self> {
        (!value.is_empty() && value.len() <= 255 && has_slug_charset(value))
            .then(|| Self(value.to_owned()))
    }

    /// A slug read back from the store, which only ever holds checked slugs.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lets the redirect cache be asked with the slug as it appears in a path, without building a
/// `Slug` (or allocating) for every click. `Slug`'s `Hash` and `Eq` are its string's.
impl std::borrow::Borrow<str> for Slug {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The policy of config/default.toml.
    fn policy() -> SlugPolicy {
        let reserved = [
            "api",
            "robots.txt",
            "healthz",
            "readyz",
            "explorer",
            "static",
            "metrics",
        ];
        SlugPolicy::new(
            7,
            "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ",
            64,
            &reserved.map(String::from),
        )
    }

    #[test]
    fn accepts_ordinary_slugs() {
        for s in ["a", "launch-2026", "Q_R", "x".repeat(64).as_str()] {
            assert_eq!(Slug::parse(s, &policy()).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_reserved_words_in_any_case() {
        for s in [
            "api",
            "API",
            "Robots.txt",
            "healthz",
            "readyz",
            "explorer",
            "static",
        ] {
            assert!(Slug::parse(s, &policy()).is_err(), "{s}");
        }
    }

    #[test]
    fn rejects_bad_charset_and_length() {
        for s in ["", "a b", "a/b", "a.b", "é", "%41", &"x".repeat(65)] {
            let error = Slug::parse(s, &policy()).unwrap_err();
            assert_eq!(error.field, "slug");
        }
    }

    #[test]
    fn generated_slugs_use_the_alphabet_and_length() {
        let policy = policy();
        for _ in 0..200 {
            let slug = policy.generate();
            assert_eq!(slug.as_str().len(), 7);
            assert!(Slug::parse(slug.as_str(), &policy).is_ok());
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_the_charset(s in ".{0,80}") {
            if let Ok(slug) = Slug::parse(&s, &policy()) {
                prop_assert!(has_slug_charset(slug.as_str()));
                prop_assert!(!slug.as_str().is_empty() && slug.as_str().len() <= 64);
                prop_assert!(Slug::for_lookup(slug.as_str()).is_some());
            }
        }

        #[test]
        fn well_formed_slugs_round_trip(s in "[A-Za-z0-9_-]{8,64}") {
            let slug = Slug::parse(&s, &policy()).unwrap();
            prop_assert_eq!(slug.as_str(), s.as_str());
        }
    }
}
