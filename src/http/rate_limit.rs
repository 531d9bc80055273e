//! Rate limits (the `governor` crate's GCRA), answered with 429 and `Retry-After`: creations of
//! short links per client IP (anonymous callers) or per API key (editors; admin keys are not
//! limited), not-found answers to slug probes per client IP, and wrong passwords of protected
//! links per client IP and per link. Configured under `[rate_limit]`: on in production, off in
//! development. In memory: each instance counts what it answered.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    passwords: Option<PasswordAttempts>,
}

/// Wrong passwords by client and by link. A right password must not be counted (a link many
/// people open would lock itself), so an attempt is counted once it is known to be wrong; a
/// client or link past its limit is remembered until when, so that its next attempts are
/// refused before any password is checked (governor cannot tell whether a key is limited
/// without counting one more).
struct PasswordAttempts {
    by_client: DefaultKeyedRateLimiter<IpAddr>,
    by_link: DefaultKeyedRateLimiter<i64>,
    locked: moka::sync::Cache<Locked, Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Locked {
    Client(IpAddr),
    Link(i64),
}

/// Clients and links locked out at once, at most (each entry is a few dozen bytes).
const MAX_LOCKED: u64 = 100_000;

impl PasswordAttempts {
    fn new(enabled: bool, per_minute: u32) -> Option<Self> {
        Some(Self {
            by_client: limiter(enabled, per_minute)?,
            by_link: limiter(enabled, per_minute)?,
            // A lockout lasts until the next attempt is allowed: at most a minute.
            locked: moka::sync::Cache::builder()
                .max_capacity(MAX_LOCKED)
                .time_to_live(Duration::from_secs(60))
                .build(),
        })
    }

    fn check(&self, client: IpAddr, url_id: i64) -> Result<(), ApiError> {
        let now = Instant::now();
        let wait = [Locked::Client(client), Locked::Link(url_id)]
            .into_iter()
            .filter_map(|key| self.locked.get(&key))
            .filter_map(|until| until.checked_duration_since(now))
            .filter(|wait| !wait.is_zero())
            .max();
        match wait {
            Some(wait) => Err(too_many(wait)),
            None => Ok(()),
        }
    }

    fn count_wrong(&self, client: IpAddr, url_id: i64) -> Result<(), ApiError> {
        let clock = DefaultClock::default();
        let client_wait = self.by_client.check_key(&client).err();
        let link_wait = self.by_link.check_key(&url_id).err();
        let mut longest = None;
        for (key, not_until) in [
            (Locked::Client(client), client_wait),
            (Locked::Link(url_id), link_wait),
        ] {
            if let Some(not_until) = not_until {
                let wait = not_until.wait_time_from(clock.now());
                self.locked.insert(key, Instant::now() + wait);
                longest = longest.max(Some(wait));
            }
        }
        match longest {
            Some(wait) => Err(too_many(wait)),
            None => Ok(()),
        }
    }
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::TooManyRequests {
        // Rounded up: a client that waits as told is let through.
        retry_after_secs: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
    }
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
            passwords: PasswordAttempts::new(
                settings.enabled,
                settings.password_attempts_per_minute,
            ),
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
                    if let Some(passwords) = &limits.passwords {
                        passwords.by_client.retain_recent();
                        passwords.by_client.shrink_to_fit();
                        passwords.by_link.retain_recent();
                        passwords.by_link.shrink_to_fit();
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

    /// Before a password is checked: 429 while this client, or this link, is past
    /// `password_attempts_per_minute` wrong passwords. Counts nothing.
    pub fn check_password_attempt(&self, client: IpAddr, url_id: i64) -> Result<(), ApiError> {
        self.passwords
            .as_ref()
            .map_or(Ok(()), |passwords| passwords.check(client, url_id))
    }

    /// Counts a wrong password against the client and the link; 429 when either went past
    /// `password_attempts_per_minute` (and until then, [`Self::check_password_attempt`] too).
    pub fn count_wrong_password(&self, client: IpAddr, url_id: i64) -> Result<(), ApiError> {
        self.passwords
            .as_ref()
            .map_or(Ok(()), |passwords| passwords.count_wrong(client, url_id))
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
            password_attempts_per_minute: 2,
        }
    }

    #[tokio::test]
    async fn wrong_passwords_lock_the_client_and_the_link_apart() {
        let limits = RateLimits::new(&settings(true));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let c: IpAddr = "192.0.2.3".parse().unwrap();
        // Two wrong passwords from `a` on link 1 are allowed; checking counts nothing.
        for _ in 0..2 {
            for _ in 0..5 {
                assert!(limits.check_password_attempt(a, 1).is_ok());
            }
            assert!(limits.count_wrong_password(a, 1).is_ok());
        }
        match limits.count_wrong_password(a, 1) {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // Now `a` is refused everywhere, and link 1 for everyone, before any password.
        assert!(limits.check_password_attempt(a, 2).is_err());
        assert!(limits.check_password_attempt(b, 1).is_err());
        // Another client on another link is not affected.
        assert!(limits.check_password_attempt(b, 2).is_ok());
        assert!(limits.count_wrong_password(c, 3).is_ok());

        let off = RateLimits::new(&settings(false));
        for _ in 0..100 {
            assert!(off.count_wrong_password(a, 1).is_ok());
            assert!(off.check_password_attempt(a, 1).is_ok());
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
