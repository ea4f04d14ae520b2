//! Rate limits on the actions an attacker repeats: logins, registrations, password changes and
//! account deletions. Fixed windows, counted in Redis when configured (atomic and shared by
//! every instance), in memory otherwise.
//!
//! An attempt is counted before it is checked, so concurrent requests cannot slip past a
//! limit; a successful login gives back its provisional failure.

mod memory;
mod redis;

use std::sync::Arc;
use std::time::Duration;

use authy2_core::{StoreResult, UserId};
use sha2::{Digest, Sha256};

pub use self::memory::MemoryCounters;
pub use self::redis::RedisCounters;
use crate::config::{RateLimit, RateLimits};

/// One event to count under `key`, which must stay within `limit`.
#[derive(Clone, Copy, Debug)]
pub struct Hit<'a> {
    /// The counter.
    pub key: &'a str,
    /// Its limit and window.
    pub limit: RateLimit,
}

/// The first counter that went over its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// Its index among the hits.
    pub index: usize,
    /// Time until its window ends.
    pub resets_in: Duration,
    /// Whether this event is the one that went over (the first refused in the window).
    pub is_first_refusal: bool,
}

/// Where the counters live.
#[async_trait::async_trait]
pub trait Counters: Send + Sync {
    /// Counts one event under each key in turn (starting a window where none is running), and
    /// stops at the first whose count then exceeds its limit. One round trip whatever the
    /// number of keys.
    async fn hit(&self, hits: &[Hit<'_>]) -> StoreResult<Option<Exceeded>>;

    /// Takes back one event under each key whose window is still running.
    async fn undo(&self, keys: &[&str]) -> StoreResult<()>;
}

/// A request refused because a limit is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    /// Seconds until the client may try again (at least 1).
    pub retry_after_secs: u64,
    /// Which limit was hit, for the audit log.
    pub limit: &'static str,
    /// Whether this is the refusal that tripped the limit, rather than one of those after it.
    pub is_first_refusal: bool,
}

/// Why a rate-limit check did not pass.
#[derive(Debug)]
pub enum RateLimitError {
    /// The limit is reached.
    Limited(Limited),
    /// The counters could not be reached: the action is refused rather than left unlimited.
    Unavailable(authy2_core::StoreError),
}

impl RateLimitError {
    /// Whether this is the refusal that tripped a limit (the one worth recording).
    pub fn is_first_refusal(&self) -> bool {
        matches!(self, Self::Limited(limited) if limited.is_first_refusal)
    }
}

impl From<authy2_core::StoreError> for RateLimitError {
    fn from(err: authy2_core::StoreError) -> Self {
        Self::Unavailable(err)
    }
}

/// A login attempt that was counted as a provisional failure on its email.
#[derive(Debug)]
#[must_use = "a successful login must call RateLimiter::login_succeeded"]
pub struct LoginAttempt {
    email_ip_key: String,
    email_key: String,
}

/// The rate limits of API.md, applied to counters.
#[derive(Clone)]
pub struct RateLimiter {
    counters: Arc<dyn Counters>,
    limits: RateLimits,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Limits on the given counters.
    pub fn new(counters: Arc<dyn Counters>, limits: RateLimits) -> Self {
        Self { counters, limits }
    }

    /// Counts a login attempt: per client IP, and provisionally as a failure per (email, IP)
    /// and per email. Refused when any of them is over its limit, whatever the password.
    pub async fn begin_login(
        &self,
        normalized_email: &str,
        client_ip: Option<&str>,
    ) -> Result<LoginAttempt, RateLimitError> {
        let ip = client_key(client_ip);
        let email = digest(normalized_email);
        let attempt = LoginAttempt {
            email_ip_key: format!("login_failures:{email}:{ip}"),
            email_key: format!("login_failures:{email}"),
        };
        let attempts_key = format!("login_attempts:{ip}");
        self.check(&[
            (
                &attempts_key,
                self.limits.login_attempts_per_ip,
                "login attempts per IP",
            ),
            (
                &attempt.email_ip_key,
                self.limits.login_failures_per_email_ip,
                "failed logins per account and IP",
            ),
            (
                &attempt.email_key,
                self.limits.login_failures_per_email,
                "failed logins per account",
            ),
        ])
        .await?;
        Ok(attempt)
    }

    /// Takes back the provisional failures of a login that succeeded.
    pub async fn login_succeeded(&self, attempt: LoginAttempt) -> StoreResult<()> {
        self.counters
            .undo(&[&attempt.email_ip_key, &attempt.email_key])
            .await
    }

    /// Counts a registration from `client_ip`.
    pub async fn check_registration(&self, client_ip: Option<&str>) -> Result<(), RateLimitError> {
        let key = format!("registrations:{}", client_key(client_ip));
        self.check(&[(
            &key,
            self.limits.registrations_per_ip,
            "registrations per IP",
        )])
        .await
    }

    /// Counts a password change or account deletion by `user`.
    pub async fn check_sensitive_action(&self, user: UserId) -> Result<(), RateLimitError> {
        let key = format!("sensitive:{user}");
        self.check(&[(
            &key,
            self.limits.sensitive_actions_per_user,
            "password changes and deletions per account",
        )])
        .await
    }

    async fn check(
        &self,
        limits: &[(&str, RateLimit, &'static str)],
    ) -> Result<(), RateLimitError> {
        let hits: Vec<Hit<'_>> = limits
            .iter()
            .map(|&(key, limit, _)| Hit { key, limit })
            .collect();
        match self.counters.hit(&hits).await? {
            None => Ok(()),
            Some(exceeded) => Err(RateLimitError::Limited(Limited {
                retry_after_secs: exceeded.resets_in.as_secs_f64().ceil().max(1.0) as u64,
                limit: limits
                    .get(exceeded.index)
                    .map_or("rate limit", |&(_, _, name)| name),
                is_first_refusal: exceeded.is_first_refusal,
            })),
        }
    }
}

/// The key a client address is counted under. An IPv6 client usually controls a whole /64, so
/// that is what is counted; one address each would let it pick a fresh one per attempt.
fn client_key(client_ip: Option<&str>) -> String {
    match client_ip.map(str::parse::<std::net::IpAddr>) {
        Some(Ok(std::net::IpAddr::V6(v6))) => ipnet::Ipv6Net::new(v6, 64)
            .map(|net| net.trunc().to_string())
            .unwrap_or_else(|_| v6.to_string()),
        Some(Ok(ip)) => ip.to_string(),
        Some(Err(_)) | None => "unknown".to_owned(),
    }
}

/// Emails are counted under a digest, so the counters hold no address.
fn digest(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}
