//! Configuration from the environment (and a `.env` file, loaded by `main` before this runs).
//! Every bad value stops the start with one line naming the variable.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use authy2_core::SessionLifetime;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

/// The minimum `SECRET_KEY` length production accepts.
pub const MIN_SECRET_KEY_BYTES: usize = 32;

/// Which kind of deployment this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// A developer's machine: readable logs, migrations applied at start.
    Development,
    /// Automated tests: cheap password hashing.
    Testing,
    /// Real users: JSON logs, `Secure` cookies, HSTS, strict start-up checks.
    Production,
}

impl AppEnv {
    /// The name used in `APP_ENV`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppEnv::Development => "development",
            AppEnv::Testing => "testing",
            AppEnv::Production => "production",
        }
    }
}

impl FromStr for AppEnv {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "development" => Ok(AppEnv::Development),
            "testing" => Ok(AppEnv::Testing),
            "production" => Ok(AppEnv::Production),
            _ => Err("must be development, testing or production".to_owned()),
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// A configuration value that is missing or does not parse.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {variable} {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// Limits for one rate-limited action: at most `limit` events per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Events allowed in a window.
    pub limit: u32,
    /// Window length.
    pub window: Duration,
}

/// Every rate limit, each configurable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Failed logins per (normalized email, client IP).
    pub login_failures_per_email_ip: RateLimit,
    /// Failed logins per normalized email, from any IP.
    pub login_failures_per_email: RateLimit,
    /// Login attempts per client IP.
    pub login_attempts_per_ip: RateLimit,
    /// Registrations per client IP.
    pub registrations_per_ip: RateLimit,
    /// Password changes and account deletions per user.
    pub sensitive_actions_per_user: RateLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_failures_per_email_ip: RateLimit {
                limit: 10,
                window: Duration::from_secs(15 * 60),
            },
            login_failures_per_email: RateLimit {
                limit: 100,
                window: Duration::from_secs(60 * 60),
            },
            login_attempts_per_ip: RateLimit {
                limit: 30,
                window: Duration::from_secs(60),
            },
            registrations_per_ip: RateLimit {
                limit: 20,
                window: Duration::from_secs(60 * 60),
            },
            sensitive_actions_per_user: RateLimit {
                limit: 10,
                window: Duration::from_secs(15 * 60),
            },
        }
    }
}

/// An origin allowed to make credentialed cross-origin calls: `scheme://host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedOrigin(String);

impl AllowedOrigin {
    /// Validates an origin as browsers send it in the `Origin` header.
    pub fn parse(input: &str) -> Result<Self, String> {
        let origin = input.trim().trim_end_matches('/');
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or_else(|| format!("origin '{origin}' must start with http:// or https://"))?;
        let valid_host = !rest.is_empty()
            && !rest.contains(['/', '?', '#', '@', '*', ' '])
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
        if !valid_host {
            return Err(format!(
                "origin '{origin}' must be scheme://host[:port] with no path or wildcard"
            ));
        }
        Ok(Self(origin.to_ascii_lowercase()))
    }

    /// The origin, lower-cased, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The server's configuration.
#[derive(Clone)]
pub struct Config {
    /// Deployment kind.
    pub env: AppEnv,
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on.
    pub port: u16,
    /// `sqlite://…` or `postgres://…`; may hold a password.
    pub database_url: SecretString,
    /// Largest database pool.
    pub database_max_connections: u32,
    /// How long to wait for the database before giving up.
    pub database_connect_timeout: Duration,
    /// When set, sessions and rate limits live in Redis.
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key, so that several deployments can share one Redis.
    pub redis_key_prefix: String,
    /// Key for signing short-lived values. Nothing signs with it yet (sessions are random
    /// tokens looked up in the store); the federated sign-in flows will, and production already
    /// requires one so that every instance of a deployment shares it from the start.
    pub secret_key: SecretString,
    /// Origins allowed to make credentialed cross-origin calls.
    pub cors_allowed_origins: Vec<AllowedOrigin>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Session idle timeout and absolute lifetime.
    pub session_lifetime: SessionLifetime,
    /// How long in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace_period: Duration,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Threads hashing passwords.
    pub hash_workers: usize,
    /// Log line format.
    pub log_format: LogFormat,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// Audit events older than this many days are purged.
    pub audit_retention_days: u32,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only what is safe to log: URLs may hold passwords, the secret key is secret.
        f.debug_struct("Config")
            .field("env", &self.env)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &backend_of(self.database_url.expose_secret()))
            .field("redis", &self.redis_url.is_some())
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

fn backend_of(url: &str) -> &str {
    url.split(':').next().unwrap_or("unknown")
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Reads configuration from a map of variables (the environment, or a test's own).
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        let env: AppEnv = vars.parse("APP_ENV")?.unwrap_or(AppEnv::Development);
        let secret_key = match vars.get("SECRET_KEY") {
            Some(key) if key.len() >= MIN_SECRET_KEY_BYTES => SecretString::from(key.to_owned()),
            Some(_) => {
                return Err(ConfigError::new(
                    "SECRET_KEY",
                    format!("must be at least {MIN_SECRET_KEY_BYTES} bytes"),
                ));
            }
            None if env == AppEnv::Production => {
                return Err(ConfigError::new(
                    "SECRET_KEY",
                    format!("is required in production (at least {MIN_SECRET_KEY_BYTES} bytes)"),
                ));
            }
            None => random_secret(),
        };
        let database_url = vars
            .get("DATABASE_URL")
            .unwrap_or("sqlite://authy2.db")
            .to_owned();
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|prefix| database_url.starts_with(prefix))
        {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }
        let redis_url = match vars.get("REDIS_URL") {
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Some(SecretString::from(url.to_owned()))
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "REDIS_URL",
                    "must start with redis:// or rediss://",
                ));
            }
            None => None,
        };
        let session_lifetime = SessionLifetime {
            idle: chrono_duration(vars.duration("SESSION_IDLE_TIMEOUT")?, 7 * 86_400),
            absolute: chrono_duration(vars.duration("SESSION_ABSOLUTE_LIFETIME")?, 30 * 86_400),
        };
        if session_lifetime.idle > session_lifetime.absolute {
            return Err(ConfigError::new(
                "SESSION_IDLE_TIMEOUT",
                "must not be longer than SESSION_ABSOLUTE_LIFETIME",
            ));
        }
        let log_format = match vars.get("LOG_FORMAT") {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => return Err(ConfigError::new("LOG_FORMAT", "must be pretty or json")),
            None if env == AppEnv::Production => LogFormat::Json,
            None => LogFormat::Pretty,
        };
        let default_workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            env,
            host: vars.parse("HOST")?.unwrap_or(IpAddr::from([127, 0, 0, 1])),
            port: vars.parse("PORT")?.unwrap_or(5000),
            database_url: SecretString::from(database_url),
            database_max_connections: vars.positive("DATABASE_MAX_CONNECTIONS")?.unwrap_or(10),
            database_connect_timeout: vars
                .duration("DATABASE_CONNECT_TIMEOUT")?
                .unwrap_or(Duration::from_secs(5)),
            redis_url,
            redis_key_prefix: vars.get("REDIS_KEY_PREFIX").unwrap_or("authy2:").to_owned(),
            secret_key,
            cors_allowed_origins: vars.list("CORS_ALLOWED_ORIGINS", AllowedOrigin::parse)?,
            trusted_proxies: vars.list("TRUSTED_PROXIES", parse_proxy)?,
            session_lifetime,
            shutdown_grace_period: vars
                .duration("SHUTDOWN_GRACE_PERIOD")?
                .unwrap_or(Duration::from_secs(30)),
            request_timeout: vars
                .duration("REQUEST_TIMEOUT")?
                .unwrap_or(Duration::from_secs(30)),
            hash_workers: vars
                .at_most("HASH_WORKERS", 1_024)?
                .map_or(default_workers, |n| n as usize),
            log_format,
            rate_limits: rate_limits(&vars)?,
            audit_retention_days: vars.at_most("AUDIT_RETENTION_DAYS", 36_500)?.unwrap_or(365),
        })
    }

    /// Where to listen.
    pub fn listen_addr(&self) -> std::net::SocketAddr {
        (self.host, self.port).into()
    }

    /// Whether cookies must be `Secure` and HSTS sent.
    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }
}

fn rate_limits(vars: &Vars) -> Result<RateLimits, ConfigError> {
    let defaults = RateLimits::default();
    let limit = |count_var: &'static str, window_var: &'static str, default: RateLimit| {
        Ok::<_, ConfigError>(RateLimit {
            limit: vars.positive(count_var)?.unwrap_or(default.limit),
            window: vars.duration(window_var)?.unwrap_or(default.window),
        })
    };
    Ok(RateLimits {
        login_failures_per_email_ip: limit(
            "RATE_LIMIT_LOGIN_FAILURES",
            "RATE_LIMIT_LOGIN_FAILURES_WINDOW",
            defaults.login_failures_per_email_ip,
        )?,
        login_failures_per_email: limit(
            "RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL",
            "RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL_WINDOW",
            defaults.login_failures_per_email,
        )?,
        login_attempts_per_ip: limit(
            "RATE_LIMIT_LOGIN_ATTEMPTS",
            "RATE_LIMIT_LOGIN_ATTEMPTS_WINDOW",
            defaults.login_attempts_per_ip,
        )?,
        registrations_per_ip: limit(
            "RATE_LIMIT_REGISTRATIONS",
            "RATE_LIMIT_REGISTRATIONS_WINDOW",
            defaults.registrations_per_ip,
        )?,
        sensitive_actions_per_user: limit(
            "RATE_LIMIT_SENSITIVE_ACTIONS",
            "RATE_LIMIT_SENSITIVE_ACTIONS_WINDOW",
            defaults.sensitive_actions_per_user,
        )?,
    })
}

fn random_secret() -> SecretString {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn chrono_duration(value: Option<Duration>, default_secs: i64) -> chrono::Duration {
    value
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .unwrap_or_else(|| chrono::Duration::seconds(default_secs))
}

fn parse_proxy(entry: &str) -> Result<IpNet, String> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{entry}' is not an IP address or CIDR range"))
}

/// Parses a duration: a number of seconds, or a number with `s`, `m`, `h` or `d`.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let input = input.trim();
    let (number, unit) = match input.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => input.split_at(at),
        None => (input, "s"),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{input}' is not a duration like 30s, 15m, 12h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "'{input}' is not a duration like 30s, 15m, 12h or 7d"
            ));
        }
    };
    if number == 0 {
        return Err("must be longer than zero".to_owned());
    }
    let total = number.saturating_mul(seconds);
    if total > MAX_DURATION_SECS {
        return Err("must be at most 3650d".to_owned());
    }
    Ok(Duration::from_secs(total))
}

/// The longest duration any setting takes: ten years, well past any sensible session or
/// window, and far from the overflow of timestamp arithmetic.
const MAX_DURATION_SECS: u64 = 3_650 * 86_400;

/// The raw variables, with typed accessors that name the variable in their errors.
struct Vars(HashMap<String, String>);

impl Vars {
    /// A variable's value; empty counts as unset, as it does for most tools reading `.env`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn parse<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.get(name)
            .map(|raw| {
                raw.parse::<T>()
                    .map_err(|e| ConfigError::new(name, format!("'{raw}' is invalid: {e}")))
            })
            .transpose()
    }

    fn positive<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr + Default + PartialOrd,
    {
        self.get(name)
            .map(|raw| {
                raw.parse::<T>()
                    .ok()
                    .filter(|n| *n > T::default())
                    .ok_or_else(|| {
                        ConfigError::new(name, format!("'{raw}' is not a positive whole number"))
                    })
            })
            .transpose()
    }

    /// A positive whole number no larger than `max`.
    fn at_most(&self, name: &'static str, max: u32) -> Result<Option<u32>, ConfigError> {
        match self.positive::<u32>(name)? {
            Some(n) if n > max => Err(ConfigError::new(name, format!("must be at most {max}"))),
            other => Ok(other),
        }
    }

    fn duration(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        self.get(name)
            .map(|raw| parse_duration(raw).map_err(|e| ConfigError::new(name, e)))
            .transpose()
    }

    fn list<T>(
        &self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ConfigError> {
        self.get(name)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| parse(entry).map_err(|e| ConfigError::new(name, e)))
            .collect()
    }
}
