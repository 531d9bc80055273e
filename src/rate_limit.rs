//! Rate limits per client IP (the `governor` crate's GCRA), answered with 429 and `Retry-After`:
//! creations of short links and not-found answers to slug probes. Configured under
//! `[rate_limit]`: on in production, off in development.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimitSettings;
use crate::error::ApiError;

/// How often idle per-IP state is forgotten, so memory stays bounded by recent clients.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);

pub struct RateLimits {
    creates: Option<DefaultKeyedRateLimiter<IpAddr>>,
    not_found: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn limiter(enabled: bool, per_minute: u32) -> Option<DefaultKeyedRateLimiter<IpAddr>> {
    let per_minute = NonZeroU32::new(per_minute).filter(|_| enabled)?;
    Some(DefaultKeyedRateLimiter::keyed(Quota::per_minute(
        per_minute,
    )))
}

fn check(limiter: Option<&DefaultKeyedRateLimiter<IpAddr>>, ip: IpAddr) -> Result<(), ApiError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(&ip).map_err(|not_until| {
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
                }
            });
        }
        limits
    }

    /// Counts a creation by this client; 429 past `anonymous_creates_per_minute`.
    pub fn check_create(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(self.creates.as_ref(), ip)
    }

    /// Counts a not-found answer to this client; 429 past `not_found_per_minute`.
    pub fn check_not_found(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(self.not_found.as_ref(), ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(enabled: bool) -> RateLimitSettings {
        RateLimitSettings {
            enabled,
            anonymous_creates_per_minute: 2,
            not_found_per_minute: 3,
        }
    }

    #[tokio::test]
    async fn limits_apply_per_ip_only_when_enabled() {
        let limits = RateLimits::new(&settings(true));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits.check_create(a).is_ok());
        assert!(limits.check_create(a).is_ok());
        match limits.check_create(a) {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(
            limits.check_create(b).is_ok(),
            "other clients are not affected"
        );
        for _ in 0..3 {
            assert!(limits.check_not_found(a).is_ok());
        }
        assert!(limits.check_not_found(a).is_err());

        let off = RateLimits::new(&settings(false));
        for _ in 0..100 {
            assert!(off.check_create(a).is_ok());
        }
    }
}
