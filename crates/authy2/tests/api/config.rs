//! Configuration: defaults, production rules, and one clear error per bad variable.

use std::time::Duration;

use authy2::config::{
    AllowedOrigin, AppEnv, Config, ConfigError, MIN_SECRET_KEY_BYTES, RateLimits,
};
use authy2_core::SessionLifetime;
use secrecy::ExposeSecret;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_vars(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn defaults_match_the_documented_table() {
    let config = config(&[]).unwrap();
    assert_eq!(config.env, AppEnv::Development);
    assert_eq!(config.listen_addr().to_string(), "127.0.0.1:5000");
    assert_eq!(config.database_url.expose_secret(), "sqlite://authy2.db");
    assert!(config.redis_url.is_none());
    assert!(config.cors_allowed_origins.is_empty());
    assert!(config.trusted_proxies.is_empty());
    assert_eq!(config.session_lifetime, SessionLifetime::default());
    assert_eq!(config.rate_limits, RateLimits::default());
    assert!(config.secret_key.expose_secret().len() >= MIN_SECRET_KEY_BYTES);
}

#[test]
fn production_requires_a_long_secret_key() {
    let err = config(&[("APP_ENV", "production")]).err().unwrap();
    assert_eq!(err.variable, "SECRET_KEY");
    let err = config(&[("APP_ENV", "production"), ("SECRET_KEY", "short")])
        .err()
        .unwrap();
    assert_eq!(err.variable, "SECRET_KEY");
    let key = "k".repeat(32);
    assert!(config(&[("APP_ENV", "production"), ("SECRET_KEY", &key)]).is_ok());
}

#[test]
fn every_bad_value_names_its_variable() {
    let cases = [
        ("APP_ENV", "staging"),
        ("PORT", "http"),
        ("PORT", "70000"),
        ("HOST", "localhost:80"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "localhost:6379"),
        ("CORS_ALLOWED_ORIGINS", "*"),
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com/path"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("SESSION_IDLE_TIMEOUT", "forever"),
        ("REQUEST_TIMEOUT", "0"),
        ("HASH_WORKERS", "0"),
        ("LOG_FORMAT", "xml"),
        ("AUDIT_RETENTION_DAYS", "-1"),
        ("AUDIT_RETENTION_DAYS", "36501"),
        ("SESSION_ABSOLUTE_LIFETIME", "3651d"),
        ("RATE_LIMIT_LOGIN_FAILURES_WINDOW", "99999999999999d"),
        ("HASH_WORKERS", "5000"),
    ];
    for (variable, value) in cases {
        let err = config(&[(variable, value)])
            .err()
            .unwrap_or_else(|| panic!("{variable}={value}"));
        assert_eq!(err.variable, variable, "{value}");
        assert!(err.to_string().contains(variable));
    }
}

#[test]
fn idle_timeout_cannot_exceed_absolute_lifetime() {
    let err = config(&[("SESSION_IDLE_TIMEOUT", "31d")]).err().unwrap();
    assert_eq!(err.variable, "SESSION_IDLE_TIMEOUT");
}

#[test]
fn parses_lists_and_durations() {
    let config = config(&[
        (
            "CORS_ALLOWED_ORIGINS",
            "https://App.example.com/, http://localhost:3000",
        ),
        ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1"),
        ("SESSION_IDLE_TIMEOUT", "12h"),
        ("REQUEST_TIMEOUT", "45"),
    ])
    .unwrap();
    let origins: Vec<&str> = config
        .cors_allowed_origins
        .iter()
        .map(AllowedOrigin::as_str)
        .collect();
    assert_eq!(
        origins,
        ["https://app.example.com", "http://localhost:3000"]
    );
    assert_eq!(config.trusted_proxies.len(), 3);
    assert_eq!(config.session_lifetime.idle, chrono::Duration::hours(12));
    assert_eq!(config.request_timeout, Duration::from_secs(45));
}

#[test]
fn debug_output_holds_no_secret() {
    let config = config(&[
        ("DATABASE_URL", "postgres://app:hunter2@db/authy2"),
        ("SECRET_KEY", &"s".repeat(40)),
    ])
    .unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains("hunter2"));
    assert!(!printed.contains(&"s".repeat(40)));
}
