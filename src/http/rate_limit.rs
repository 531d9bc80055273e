//! Rate limits (the `governor` crate's GCRA), answered with 429 and `Retry-After`: creations of
//! short links per client IP (anonymous callers) or per API key (editors; admin keys are not
//! limited), and not-found answers to slug probes per client IP. Configured under
//! `[rate_limit]`: on in production, off in development.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimitSettings;
use crate::http::error::ApiError;

/// How often idle per-IP state is forgotten, so memory stays bounded by recent clients.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);

pub struct RateLimits {
    creates: Option<DefaultKeyedRateLimiter<IpAddr>>,
    not_found: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Creations per editor key, by key id.
    editor_creates: Option<DefaultKeyedRateLimiter<i64>>,
}

fn limiter<K: Hash + Eq + Clone>(
    enabled: bool,
    per_minute: u32,
) -> Option<DefaultKeyedRateLimiter<K>> {
    let per_minute = NonZeroU32::new(per_minute).filter(|_| enabled)?;
    Some(DefaultKeyedRateLimiter::keyed(Quota::per_minute(
        per_minute,
    )))
}

fn check<K: Hash + Eq + Clone>(
    limiter: Option<&DefaultKeyedRateLimiter<K>>,
    key: K,
) -> Result<(), ApiError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        }
    })
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Arc<Self> {
        let limits = Arc::new(Self {
            creates: limiter(settings.enabled, settings.anonymous_creates_per_minute),
            not_found: limiter(settings.enabled, settings.not_found_per_minute),
            editor_creates: limiter(settings.enabled, settings.editor_creates_per_minute),
        });
        if settings.enabled {
            let weak = Arc::downgrade(&limits);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(CLEANUP_EVERY);
                loop {
                    tick.tick().await;
                    let Some(limits) = weak.upgrade() else { return };
                    for limiter in [&limits.creates, &limits.not_found].into_iter().flatten() {
                        limiter.retain_recent();
                        limiter.shrink_to_fit();
                    }
                    if let Some(limiter) = &limits.editor_creates {
                        limiter.retain_recent();
                        limiter.shrink_to_fit();
                    }
                }
            });
        }
        limits
    }

    /// Counts a creation: a client's by its IP (429 past `anonymous_creates_per_minute`), a
    /// key's by the key (429 past `editor_creates_per_minute`).
    pub fn check_create(&self, creator: Creator) -> Result<(), ApiError> {
        match creator {
            Creator::Client(ip) => check(self.creates.as_ref(), ip),
            Creator::Key(id) => check(self.editor_creates.as_ref(), id),
            Creator::Unlimited => Ok(()),
        }
    }

    /// Counts a not-found answer to this client; 429 past `not_found_per_minute`.
    pub fn check_not_found(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(self.not_found.as_ref(), ip)
    }
}

/// What a creation is counted against (`crate::http::auth::Caller::creator` says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creator {
    /// An anonymous client, by its IP address.
    Client(IpAddr),
    /// An editor key, by its id.
    Key(i64),
    /// An admin key: not limited.
    Unlimited,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(enabled: bool) -> RateLimitSettings {
        RateLimitSettings {
            enabled,
            anonymous_creates_per_minute: 2,
            not_found_per_minute: 3,
            editor_creates_per_minute: 2,
        }
    }

    #[tokio::test]
    async fn limits_apply_per_ip_only_when_enabled() {
        let limits = RateLimits::new(&settings(true));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let (anon_a, anon_b) = (Creator::Client(a), Creator::Client(b));
        assert!(limits.check_create(anon_a).is_ok());
        assert!(limits.check_create(anon_a).is_ok());
        match limits.check_create(anon_a) {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(
            limits.check_create(anon_b).is_ok(),
            "other clients are not affected"
        );
        for _ in 0..3 {
            assert!(limits.check_not_found(a).is_ok());
        }
        assert!(limits.check_not_found(a).is_err());

        // Keys are limited per key; admin keys are not limited.
        let (editor, other) = (Creator::Key(1), Creator::Key(2));
        assert!(limits.check_create(editor).is_ok());
        assert!(limits.check_create(editor).is_ok());
        assert!(limits.check_create(editor).is_err());
        assert!(limits.check_create(other).is_ok());
        for _ in 0..100 {
            assert!(limits.check_create(Creator::Unlimited).is_ok());
        }

        let off = RateLimits::new(&settings(false));
        for _ in 0..100 {
            assert!(off.check_create(anon_a).is_ok());
        }
    }
}
