//! Authy2, the server: configuration, HTTP layer, session and rate-limit backends, password
//! hashing, and the command line. The domain lives in `authy2-core`, SQL in `authy2-store`.

pub mod cli;
pub mod commands;
pub mod config;
pub mod http;
pub mod passwords;
pub mod ratelimit;
pub mod redis;
pub mod server;
pub mod sessions;
pub mod state;
pub mod telemetry;

/// Installs the TLS crypto provider once per process. Both TLS clients (PostgreSQL, Redis)
/// use rustls, which panics at first use if more than one provider is compiled in and none
/// was chosen. `ring` is used because it builds quickly and needs no extra toolchain; its lack
/// of post-quantum key exchange matters little for links to the database and Redis.
#[allow(deprecated)]
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
