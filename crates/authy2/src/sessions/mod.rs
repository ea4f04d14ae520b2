//! Where sessions live. The SQL implementation is in `authy2-store`; Redis is here.

mod redis;

pub use self::redis::RedisSessionStore;
