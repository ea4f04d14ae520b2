//! The shared Redis connection: one multiplexed connection that reconnects by itself, with
//! short timeouts so that a Redis outage turns into fast 503s instead of hanging requests.

use std::time::Duration;

use authy2_core::StoreError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};

/// How long one Redis command may take before the request fails.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one connection attempt may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// A Redis connection and the prefix of every key this deployment owns.
#[derive(Clone)]
pub struct Redis {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Prepares a connection without contacting the server; the first command connects.
    pub fn open(url: &SecretString, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url.expose_secret())
            .map_err(|e| format!("invalid URL ({:?})", e.kind()))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("cannot use Redis: {e}"))?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    /// A connection handle; cheap to clone, safe to use concurrently.
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// A key under this deployment's prefix.
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        key.push_str(&parts.join(":"));
        key
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(|_| ())
            .map_err(redis_error)
    }
}

/// Every Redis failure makes the backing store unavailable (503): a session must never be
/// accepted, nor a limit skipped, because Redis could not be asked.
pub fn redis_error(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis: {err}"))
}
