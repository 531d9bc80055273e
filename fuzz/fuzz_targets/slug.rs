//! Slug validation: never panics; an accepted slug is within the rules and looks itself up.
#![no_main]

use std::sync::OnceLock;

use kurz::config::{Environment, Settings};
use kurz::domain::{Slug, SlugPolicy};
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static SlugPolicy {
    static POLICY: OnceLock<SlugPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        Settings::defaults(Environment::Production).unwrap().slug.policy()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(slug) = Slug::parse(text, policy()) {
        let s = slug.as_str();
        assert!(!s.is_empty() && s.len() <= 64);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(Slug::for_lookup(s).map(|l| l.as_str().to_owned()), Some(s.to_owned()));
    }
    let _ = Slug::for_lookup(text);
});
