//! Sessions in Redis. Each session is one key, `session:<token hash>`, holding the record as
//! JSON and expiring by itself at the session's expiry; each user has a hash
//! `user_sessions:<user id>` from session id to token hash, so their sessions can be listed and
//! revoked. Every multi-key change is one Lua script, so it is atomic.

use authy2_core::session::{AuthMethod, Session, TokenHash};
use authy2_core::{SessionId, SessionStore, StoreError, StoreResult, Timestamp, UserId};
use chrono::Duration;
use std::sync::LazyLock;

use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};

use crate::redis::{Redis, redis_error};

/// Sessions kept in Redis.
#[derive(Debug, Clone)]
pub struct RedisSessionStore {
    redis: Redis,
}

/// The JSON stored per session.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    id: SessionId,
    user_id: UserId,
    auth_method: String,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    idle_expires_at: Timestamp,
    absolute_expires_at: Timestamp,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

impl StoredSession {
    fn from_session(session: &Session) -> Self {
        Self {
            id: session.id,
            user_id: session.user_id,
            auth_method: session.auth_method.to_string(),
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            idle_expires_at: session.idle_expires_at,
            absolute_expires_at: session.absolute_expires_at,
            ip_address: session.ip_address.clone(),
            user_agent: session.user_agent.clone(),
        }
    }

    fn into_session(self, token_hash: TokenHash) -> StoreResult<Session> {
        let auth_method = AuthMethod::parse(&self.auth_method).ok_or_else(|| {
            StoreError::Internal(format!(
                "stored auth_method {:?} is invalid",
                self.auth_method
            ))
        })?;
        Ok(Session {
            id: self.id,
            user_id: self.user_id,
            token_hash,
            auth_method,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            idle_expires_at: self.idle_expires_at,
            absolute_expires_at: self.absolute_expires_at,
            ip_address: self.ip_address,
            user_agent: self.user_agent,
        })
    }
}

/// Stores a session and indexes it under its user. The index lives as long as the longest-lived
/// session in it: its expiry only ever moves later, even if the configured lifetime shrinks.
/// KEYS[1] = session key, KEYS[2] = user's index; ARGV = JSON, TTL ms, session id, token hash,
/// absolute lifetime in ms.
static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return 0
",
    )
});

/// Deletes one of a user's sessions if it is theirs.
/// KEYS[1] = user's hash; ARGV[1] = session id; ARGV[2] = session key prefix.
static REVOKE_ONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local hash = redis.call('HGET', KEYS[1], ARGV[1])
if not hash then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('DEL', ARGV[2] .. hash)
",
    )
});

/// Deletes all of a user's sessions but one (ARGV[2], may be empty).
/// KEYS[1] = user's hash; ARGV[1] = session key prefix.
static REVOKE_ALL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local entries = redis.call('HGETALL', KEYS[1])
local revoked = 0
for i = 1, #entries, 2 do
  if entries[i] ~= ARGV[2] then
    revoked = revoked + redis.call('DEL', ARGV[1] .. entries[i + 1])
    redis.call('HDEL', KEYS[1], entries[i])
  end
end
return revoked
",
    )
});

/// Rewrites a session only if it still exists, so that a revocation racing with a touch wins.
/// KEYS[1] = session key; ARGV[1] = JSON; ARGV[2] = TTL in ms.
static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new("return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'XX')")
});

impl RedisSessionStore {
    /// Sessions under `redis`'s key prefix.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn session_key_prefix(&self) -> String {
        self.redis.key(&["session", ""])
    }

    fn session_key(&self, hash: &TokenHash) -> String {
        self.redis.key(&["session", &hash.to_hex()])
    }

    fn user_key(&self, user: UserId) -> String {
        self.redis.key(&["user_sessions", &user.to_string()])
    }
}

/// Milliseconds from `now` until `at`, at least 1 (Redis refuses a zero TTL).
fn ttl_ms(now: Timestamp, at: Timestamp) -> i64 {
    (at - now).num_milliseconds().max(1)
}

fn encode(session: &Session) -> StoreResult<String> {
    serde_json::to_string(&StoredSession::from_session(session))
        .map_err(|e| StoreError::Internal(format!("cannot encode session: {e}")))
}

fn decode(json: &str, hash: TokenHash) -> StoreResult<Session> {
    serde_json::from_str::<StoredSession>(json)
        .map_err(|e| StoreError::Internal(format!("stored session does not decode: {e}")))?
        .into_session(hash)
}

fn parse_hash(hex: &str) -> Option<TokenHash> {
    if hex.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(TokenHash::from_bytes(bytes))
}

#[async_trait::async_trait]
impl SessionStore for RedisSessionStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        let now = session.created_at;
        INSERT
            .key(self.session_key(&session.token_hash))
            .key(self.user_key(session.user_id))
            .arg(encode(session)?)
            .arg(ttl_ms(now, session.expires_at()))
            .arg(session.id.to_string())
            .arg(session.token_hash.to_hex())
            .arg(ttl_ms(now, session.absolute_expires_at))
            .invoke_async::<()>(&mut self.redis.connection())
            .await
            .map_err(redis_error)
    }

    async fn authenticate(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
        idle: Duration,
    ) -> StoreResult<Option<Session>> {
        let key = self.session_key(token_hash);
        let mut connection = self.redis.connection();
        let stored: Option<String> = connection.get(&key).await.map_err(redis_error)?;
        let Some(json) = stored else {
            return Ok(None);
        };
        let session = decode(&json, *token_hash)?;
        if !session.is_active(now) {
            return Ok(None);
        }
        if !session.needs_touch(now) {
            return Ok(Some(session));
        }
        let touched = session.touched(now, idle);
        let written: Option<String> = TOUCH
            .key(&key)
            .arg(encode(&touched)?)
            .arg(ttl_ms(now, touched.expires_at()))
            .invoke_async(&mut connection)
            .await
            .map_err(redis_error)?;
        Ok(written.map(|_| touched))
    }

    async fn list_user_sessions(&self, user: UserId, now: Timestamp) -> StoreResult<Vec<Session>> {
        let mut connection = self.redis.connection();
        let user_key = self.user_key(user);
        let index: Vec<(String, String)> =
            connection.hgetall(&user_key).await.map_err(redis_error)?;
        if index.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = index
            .iter()
            .map(|(_, hash)| self.redis.key(&["session", hash]))
            .collect();
        let records: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut connection)
            .await
            .map_err(redis_error)?;
        let mut sessions = Vec::with_capacity(index.len());
        let mut stale = Vec::new();
        for ((id, hash_hex), record) in index.into_iter().zip(records) {
            match (record, parse_hash(&hash_hex)) {
                (Some(json), Some(hash)) => {
                    let session = decode(&json, hash)?;
                    if session.is_active(now) {
                        sessions.push(session);
                    }
                }
                _ => stale.push(id),
            }
        }
        if !stale.is_empty() {
            // Entries whose session expired on its own; tidy the index.
            let _: Result<(), _> = connection.hdel(&user_key, stale).await;
        }
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(sessions)
    }

    async fn revoke_session(&self, user: UserId, id: SessionId) -> StoreResult<bool> {
        let deleted: i64 = REVOKE_ONE
            .key(self.user_key(user))
            .arg(id.to_string())
            .arg(self.session_key_prefix())
            .invoke_async(&mut self.redis.connection())
            .await
            .map_err(redis_error)?;
        Ok(deleted > 0)
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
    ) -> StoreResult<u64> {
        let revoked: i64 = REVOKE_ALL
            .key(self.user_key(user))
            .arg(self.session_key_prefix())
            .arg(keep.map(|id| id.to_string()).unwrap_or_default())
            .invoke_async(&mut self.redis.connection())
            .await
            .map_err(redis_error)?;
        Ok(u64::try_from(revoked).unwrap_or(0))
    }

    async fn purge_expired_sessions(&self, _now: Timestamp) -> StoreResult<u64> {
        // Session keys expire by themselves; stale index entries are tidied when listed.
        Ok(0)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.redis.ping().await
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
