//! Start-up and shutdown: open the stores, apply or check migrations, serve until SIGTERM or
//! SIGINT, give in-flight requests a grace period, close the pools.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authy2_core::{Clock, SystemClock};
use authy2_store::{ConnectOptions, Database};
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::{AppEnv, Config};
use crate::passwords::{HashCost, PasswordHasher};
use crate::ratelimit::{Counters, MemoryCounters, RateLimiter, RedisCounters};
use crate::redis::Redis;
use crate::sessions::RedisSessionStore;
use crate::state::{AppState, Shared};

/// How often expired sessions and old audit events are cleared.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(600);
/// Audit events deleted per statement, so retention never holds a long lock.
pub const AUDIT_PURGE_BATCH: u32 = 1_000;

/// Why the server could not start; printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database cannot be opened.
    #[error("DATABASE_URL: {0}")]
    Database(#[from] authy2_store::ConnectError),
    /// Migrations failed or are pending where they may not be applied automatically.
    #[error("{0}")]
    Migrations(String),
    /// Redis cannot be used.
    #[error("REDIS_URL: {0}")]
    Redis(String),
    /// The listening socket cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Opens the database. Development and testing apply pending migrations; production refuses
/// to start while any is pending, because several instances must not race to migrate.
pub async fn open_database(config: &Config) -> Result<Database, StartError> {
    let database = connect(config).await?;
    if config.env == AppEnv::Production {
        let pending = database
            .pending_migrations()
            .await
            .map_err(|e| StartError::Migrations(format!("cannot read migration state: {e}")))?;
        if !pending.is_empty() {
            return Err(StartError::Migrations(format!(
                "{} migration(s) pending ({}); run `authy2 db upgrade` first",
                pending.len(),
                pending.join(", ")
            )));
        }
    } else {
        let applied = database
            .upgrade()
            .await
            .map_err(|e| StartError::Migrations(e.to_string()))?;
        for migration in applied {
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "migration applied"
            );
        }
    }
    Ok(database)
}

/// Connects without touching migrations (for the `db` commands).
pub async fn connect(config: &Config) -> Result<Database, StartError> {
    let options = ConnectOptions {
        max_connections: config.database_max_connections,
        connect_timeout: config.database_connect_timeout,
    };
    Ok(Database::connect(config.database_url.expose_secret(), options).await?)
}

/// Opens Redis when configured, without contacting it.
pub fn open_redis(config: &Config) -> Result<Option<Redis>, StartError> {
    config
        .redis_url
        .as_ref()
        .map(|url| Redis::open(url, &config.redis_key_prefix).map_err(StartError::Redis))
        .transpose()
}

/// Puts the application state together.
pub fn assemble(
    config: Config,
    database: &Database,
    redis: Option<Redis>,
    clock: Arc<dyn Clock>,
) -> AppState {
    let (sessions, counters): (Arc<dyn authy2_core::SessionStore>, Arc<dyn Counters>) = match redis
    {
        Some(redis) => (
            Arc::new(RedisSessionStore::new(redis.clone())),
            Arc::new(RedisCounters::new(redis)),
        ),
        None => (
            database.sessions(),
            Arc::new(MemoryCounters::new(clock.clone())),
        ),
    };
    let cost = if config.env == AppEnv::Testing {
        HashCost::TESTING
    } else {
        HashCost::OWASP
    };
    AppState::new(Shared {
        hasher: PasswordHasher::start(cost, config.hash_workers),
        limiter: RateLimiter::new(counters, config.rate_limits),
        store: database.store(),
        sessions,
        clock,
        config,
    })
}

/// `authy2 serve`: runs until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<(), StartError> {
    let database = open_database(&config).await?;
    let redis = open_redis(&config)?;
    if let Some(redis) = &redis {
        redis
            .ping()
            .await
            .map_err(|e| StartError::Redis(format!("cannot reach Redis: {e}")))?;
    }
    let addr = config.listen_addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let grace = config.shutdown_grace_period;
    tracing::info!(
        env = config.env.as_str(),
        database = database.backend(),
        sessions = if redis.is_some() { "redis" } else { "database" },
        "authy2 {} listening on http://{}",
        env!("CARGO_PKG_VERSION"),
        listener.local_addr().unwrap_or(addr),
    );
    let state = assemble(config, &database, redis, Arc::new(SystemClock));
    let stop = CancellationToken::new();
    let maintenance = tokio::spawn(maintain(state.clone(), stop.clone()));
    let signal = {
        let stop = stop.clone();
        async move {
            shutdown_signal().await;
            stop.cancel();
        }
    };
    tokio::spawn(signal);
    let served = serve(listener, crate::http::router(state), stop.clone(), grace).await;
    maintenance.abort();
    database.close().await;
    tracing::info!("stopped");
    served.map_err(StartError::Serve)
}

/// Connection read buffer: bounds what a client can make the server hold while it sends a
/// request head. The exact header budget is enforced per request by the HTTP layer.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Most header fields accepted in one request; hyper answers 431 beyond it.
pub const MAX_HEADERS: usize = 64;
/// A client must send its whole request head within this time (slow-loris defence).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `stop` is cancelled, then waits up to `grace` for
/// in-flight requests before returning. HTTP/1.1 with bounded request heads.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    stop: CancellationToken,
    grace: Duration,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .max_buf_size(READ_BUFFER_BYTES)
        .max_headers(MAX_HEADERS)
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Responses are written whole; waiting for more to send only adds latency.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let service = app
            .clone()
            .map_request(move |mut request: axum::extract::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        grace_secs = grace.as_secs(),
        "shutting down; finishing in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("grace period over; dropping requests still in flight");
        }
    }
    Ok(())
}

/// Periodic clean-up: expired sessions, and audit events past their retention.
async fn maintain(state: AppState, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(MAINTENANCE_INTERVAL);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match state
            .sessions
            .purge_expired_sessions(state.clock.now())
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired sessions removed"),
            Err(err) => tracing::warn!(error = %err, "could not remove expired sessions"),
        }
        match purge_audit_events(&state, &stop).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "audit events past retention removed"),
            Err(err) => tracing::warn!(error = %err, "could not remove old audit events"),
        }
    }
}

/// Deletes audit events older than the retention period, batch by batch.
pub async fn purge_audit_events(
    state: &AppState,
    stop: &CancellationToken,
) -> authy2_core::StoreResult<u64> {
    let retention = chrono::Duration::days(i64::from(state.config.audit_retention_days));
    let cutoff = state.clock.now() - retention;
    let mut total = 0;
    while !stop.is_cancelled() {
        let purged = state
            .store
            .purge_audit_events(cutoff, AUDIT_PURGE_BATCH)
            .await?;
        total += purged;
        if purged < u64::from(AUDIT_PURGE_BATCH) {
            break;
        }
        // Let other writers in between batches.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(total)
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
