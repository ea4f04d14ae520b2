//! Counters in Redis: one key per window, incremented and given its expiry atomically.

use std::sync::LazyLock;
use std::time::Duration;

use authy2_core::StoreResult;
use redis::Script;

use super::{Counters, Exceeded, Hit};
use crate::redis::{Redis, redis_error};

/// KEYS = counters; ARGV = for each, its window in ms then its limit. Counts one event under
/// each in turn and stops at the first over its limit: returns {its 1-based index, ms until its
/// window ends, its count}, or {0, 0, 0} when none is.
static HIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[2 * i - 1])
    ttl = tonumber(ARGV[2 * i - 1])
  end
  if count > tonumber(ARGV[2 * i]) then
    return {i, ttl, count}
  end
end
return {0, 0, 0}
",
    )
});

/// KEYS = counters. Decrements only running windows (a DECR on a missing key would create one
/// that never expires).
static UNDO: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) > 0 then
    redis.call('DECR', key)
  end
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
    async fn hit(&self, hits: &[Hit<'_>]) -> StoreResult<Option<Exceeded>> {
        let mut invocation = HIT.prepare_invoke();
        for hit in hits {
            invocation
                .key(self.redis.key(&["ratelimit", hit.key]))
                .arg(u64::try_from(hit.limit.window.as_millis()).unwrap_or(u64::MAX))
                .arg(hit.limit.limit);
        }
        let (index, ttl_ms, count): (i64, i64, i64) = invocation
            .invoke_async(&mut self.redis.connection())
            .await
            .map_err(redis_error)?;
        let Some(index) = usize::try_from(index).ok().and_then(|i| i.checked_sub(1)) else {
            return Ok(None);
        };
        let limit = hits.get(index).map_or(0, |hit| i64::from(hit.limit.limit));
        Ok(Some(Exceeded {
            index,
            resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
            is_first_refusal: count == limit + 1,
        }))
    }

    async fn undo(&self, keys: &[&str]) -> StoreResult<()> {
        let mut invocation = UNDO.prepare_invoke();
        for key in keys {
            invocation.key(self.redis.key(&["ratelimit", key]));
        }
        let _: i64 = invocation
            .invoke_async(&mut self.redis.connection())
            .await
            .map_err(redis_error)?;
        Ok(())
    }
}
