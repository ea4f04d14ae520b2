//! Authy2's SQL persistence. One implementation of the store traits per backend (SQLite and
//! PostgreSQL), sharing their query code (see `shared/`), each with its own embedded
//! migrations.

mod error;
pub mod migrations;
mod postgres;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use authy2_core::{SessionStore, Store, StoreResult};

pub use migrations::{Migration, MigrationState};

/// How to connect.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long to wait for the first connection (and for a pooled one later) before failing.
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not `sqlite://…` or `postgres://…`, or does not parse.
    #[error("{0}")]
    InvalidUrl(String),
    /// The server did not answer, refused us, or the file cannot be opened.
    #[error("cannot connect to the database: {0}")]
    Unreachable(String),
}

/// An open database of either backend.
#[derive(Clone)]
pub enum Database {
    /// An embedded SQLite file.
    Sqlite(Arc<sqlite::SqliteStore>),
    /// A PostgreSQL server.
    Postgres(Arc<postgres::PostgresStore>),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend())
    }
}

impl Database {
    /// Opens a pool for `url` and checks that one connection works within the timeout.
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Self, ConnectError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(Arc::new(
                sqlite::SqliteStore::connect(url, options).await?,
            )))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(Arc::new(
                postgres::PostgresStore::connect(url, options).await?,
            )))
        } else {
            Err(ConnectError::InvalidUrl(
                "must start with sqlite:// or postgres://".to_owned(),
            ))
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The store traits over this database.
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(store) => store.clone(),
            Self::Postgres(store) => store.clone(),
        }
    }

    /// Sessions kept in this database.
    pub fn sessions(&self) -> Arc<dyn SessionStore> {
        match self {
            Self::Sqlite(store) => store.clone(),
            Self::Postgres(store) => store.clone(),
        }
    }

    /// Every migration this binary knows, and every one the database has applied, in order.
    pub async fn migration_status(&self) -> StoreResult<Vec<MigrationState>> {
        match self {
            Self::Sqlite(store) => store.migration_status().await,
            Self::Postgres(store) => store.migration_status().await,
        }
    }

    /// Applies every pending migration; returns those applied.
    pub async fn upgrade(&self) -> StoreResult<Vec<&'static Migration>> {
        match self {
            Self::Sqlite(store) => store.upgrade().await,
            Self::Postgres(store) => store.upgrade().await,
        }
    }

    /// Reverts the last `steps` applied migrations; returns those reverted.
    pub async fn downgrade(&self, steps: u32) -> StoreResult<Vec<&'static Migration>> {
        match self {
            Self::Sqlite(store) => store.downgrade(steps).await,
            Self::Postgres(store) => store.downgrade(steps).await,
        }
    }

    /// Names of migrations this binary has and the database has not applied.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .migration_status()
            .await?
            .into_iter()
            .filter(|m| m.applied_at.is_none())
            .map(|m| format!("{:04}_{}", m.version, m.name))
            .collect())
    }

    /// Tables and their columns, sorted; lets tests compare the two backends' schemas.
    pub async fn schema_columns(&self) -> StoreResult<Vec<(String, String)>> {
        match self {
            Self::Sqlite(store) => store.schema_columns().await,
            Self::Postgres(store) => store.schema_columns().await,
        }
    }

    /// Closes every pooled connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}
