//! Time, injectable so that expiry and rate-limit windows can be tested without sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};

/// A point in time, always UTC and truncated to microseconds (the precision both databases keep),
/// so a value read back from storage equals the value written.
pub type Timestamp = DateTime<Utc>;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time, truncated to microseconds.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        truncate(Utc::now())
    }
}

/// The wall clock shifted by an offset that tests can move forward, so that expiry and
/// rate-limit windows can be crossed without sleeping while time still flows normally.
#[derive(Debug, Default)]
pub struct AdjustableClock {
    offset: Mutex<Duration>,
}

impl AdjustableClock {
    /// A clock that starts at the wall clock's time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut offset = self
            .offset
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *offset += by;
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> Timestamp {
        let offset = *self
            .offset
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        truncate(Utc::now() + offset)
    }
}

/// Drops sub-microsecond precision.
pub fn truncate(at: Timestamp) -> Timestamp {
    at.duration_trunc(Duration::microseconds(1)).unwrap_or(at)
}
