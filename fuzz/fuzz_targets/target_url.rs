//! Target URL validation with the production policy: never panics; an accepted target is an
//! http(s) URL with a public host, not kurz's own, that parses again to itself.
#![no_main]

use std::sync::OnceLock;

use kurz::config::{Environment, Settings};
use kurz::domain::TargetPolicy;
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static TargetPolicy {
    static POLICY: OnceLock<TargetPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let settings = Settings::defaults(Environment::Production).unwrap();
        settings.target.policy("https://sho.rt").unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(target) = policy().parse(text) {
        let s = target.as_str();
        assert!(s.starts_with("http://") || s.starts_with("https://"));
        assert!(s.len() <= 2048);
        assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
        assert_ne!(target.host(), Some("sho.rt"));
        let again = policy().parse(s).expect("a normalised target parses again");
        assert_eq!(again.as_str(), s);
    }
});
