//! Everything a handler needs, cheap to clone: configuration, stores, the password hasher,
//! the rate limiter and the clock. No global state.

use std::sync::Arc;

use authy2_core::{AuditEvent, Clock, SessionStore, Store, StoreError, StoreResult};

use crate::config::Config;
use crate::passwords::PasswordHasher;
use crate::ratelimit::RateLimiter;

/// Shared application state: one pointer, so that handing it to each extractor is one atomic
/// increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] points to.
pub struct Shared {
    /// Configuration.
    pub config: Config,
    /// The SQL database.
    pub store: Arc<dyn Store>,
    /// Where sessions live.
    pub sessions: Arc<dyn SessionStore>,
    /// Password hashing pool.
    pub hasher: PasswordHasher,
    /// Rate limits.
    pub limiter: RateLimiter,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// Wraps the shared parts.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("sessions", &self.sessions.kind())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Records an event of an action that changed nothing in the database (a refused login, a
    /// rate-limit hit). The request's answer does not depend on it, so a failure to write is
    /// logged loudly rather than turned into an error.
    pub async fn record_attempt(&self, event: AuditEvent) {
        let action = event.action;
        if let Err(err) = self.store.append_audit_event(event).await {
            tracing::error!(error = %err, action = %action, "audit event could not be written");
        }
    }

    /// Awaits a store change that writes `event` when it succeeds; when the change is refused
    /// for breaking a rule (the last owner, a taken slug), the refusal is recorded instead.
    pub async fn audited<T>(
        &self,
        event: &AuditEvent,
        change: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let result = change.await;
        if let Err(StoreError::Conflict(conflict)) = &result {
            self.record_attempt(event.refused(conflict.code())).await;
        }
        result
    }
}
