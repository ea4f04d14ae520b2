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

/// A counter's state after a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowState {
    /// Events counted in the current window, this one included.
    pub count: u32,
    /// Time until the window ends.
    pub resets_in: Duration,
}

/// Where the counters live.
#[async_trait::async_trait]
pub trait Counters: Send + Sync {
    /// Counts one event under `key`, starting a window of `window` if none is running.
    async fn hit(&self, key: &str, window: Duration) -> StoreResult<WindowState>;

    /// Takes back one event under `key`, if its window is still running.
    async fn undo(&self, key: &str) -> StoreResult<()>;
}

/// A request refused because a limit is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    /// Seconds until the client may try again (at least 1).
    pub retry_after_secs: u64,
    /// Which limit was hit, for the audit log.
    pub limit: &'static str,
}

/// Why a rate-limit check did not pass.
#[derive(Debug)]
pub enum RateLimitError {
    /// The limit is reached.
    Limited(Limited),
    /// The counters could not be reached: the action is refused rather than left unlimited.
    Unavailable(authy2_core::StoreError),
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
        let ip = client_ip.unwrap_or("unknown");
        let email = digest(normalized_email);
        let attempt = LoginAttempt {
            email_ip_key: format!("login_failures:{email}:{ip}"),
            email_key: format!("login_failures:{email}"),
        };
        self.check(
            &format!("login_attempts:{ip}"),
            self.limits.login_attempts_per_ip,
            "login attempts per IP",
        )
        .await?;
        self.check(
            &attempt.email_ip_key,
            self.limits.login_failures_per_email_ip,
            "failed logins per account and IP",
        )
        .await?;
        self.check(
            &attempt.email_key,
            self.limits.login_failures_per_email,
            "failed logins per account",
        )
        .await?;
        Ok(attempt)
    }

    /// Takes back the provisional failures of a login that succeeded.
    pub async fn login_succeeded(&self, attempt: LoginAttempt) -> StoreResult<()> {
        self.counters.undo(&attempt.email_ip_key).await?;
        self.counters.undo(&attempt.email_key).await
    }

    /// Counts a registration from `client_ip`.
    pub async fn check_registration(&self, client_ip: Option<&str>) -> Result<(), RateLimitError> {
        let ip = client_ip.unwrap_or("unknown");
        self.check(
            &format!("registrations:{ip}"),
            self.limits.registrations_per_ip,
            "registrations per IP",
        )
        .await
    }

    /// Counts a password change or account deletion by `user`.
    pub async fn check_sensitive_action(&self, user: UserId) -> Result<(), RateLimitError> {
        self.check(
            &format!("sensitive:{user}"),
            self.limits.sensitive_actions_per_user,
            "password changes and deletions per account",
        )
        .await
    }

    async fn check(
        &self,
        key: &str,
        limit: RateLimit,
        name: &'static str,
    ) -> Result<(), RateLimitError> {
        let state = self.counters.hit(key, limit.window).await?;
        if state.count > limit.limit {
            return Err(RateLimitError::Limited(Limited {
                retry_after_secs: state.resets_in.as_secs_f64().ceil().max(1.0) as u64,
                limit: name,
            }));
        }
        Ok(())
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
