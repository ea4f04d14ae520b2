//! Counters in Redis: one key per window, incremented and given its expiry atomically.

use std::sync::LazyLock;
use std::time::Duration;

use authy2_core::StoreResult;
use redis::Script;

use super::{Counters, WindowState};
use crate::redis::{Redis, redis_error};

/// KEYS[1] = counter; ARGV[1] = window in ms. Returns {count, ms until reset}.
static HIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
",
    )
});

/// KEYS[1] = counter. Decrements only a running window (a DECR on a missing key would
/// create one that never expires).
static UNDO: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('PTTL', KEYS[1]) > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
",
    )
});

/// Counters shared by every instance using the same Redis and key prefix.
#[derive(Debug, Clone)]
pub struct RedisCounters {
    redis: Redis,
}

impl RedisCounters {
    /// Counters under `redis`'s key prefix.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }
}

#[async_trait::async_trait]
impl Counters for RedisCounters {
    async fn hit(&self, key: &str, window: Duration) -> StoreResult<WindowState> {
        let (count, ttl_ms): (i64, i64) = HIT
            .key(self.redis.key(&["ratelimit", key]))
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut self.redis.connection())
            .await
            .map_err(redis_error)?;
        Ok(WindowState {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
        })
    }

    async fn undo(&self, key: &str) -> StoreResult<()> {
        let _: i64 = UNDO
            .key(self.redis.key(&["ratelimit", key]))
            .invoke_async(&mut self.redis.connection())
            .await
            .map_err(redis_error)?;
        Ok(())
    }
}
