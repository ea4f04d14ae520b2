//! The SQLite backend: one file, WAL journal, foreign keys on, writers serialized by
//! `BEGIN IMMEDIATE` so that concurrent writers queue on the busy timeout instead of failing.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::db_error;
use crate::migrations::{Migration, SQLITE};
use crate::{ConnectError, ConnectOptions};

type Db = sqlx::Sqlite;
type DbPool = sqlx::SqlitePool;
type DbRow = sqlx::sqlite::SqliteRow;
type Tx = sqlx::Transaction<'static, Db>;
type SqlStore = SqliteStore;

const MIGRATIONS: &[Migration] = SQLITE;

/// How long a writer waits for the database lock before giving up with "unavailable".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Authy2's data in a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    pool: DbPool,
}

impl SqliteStore {
    /// Opens (creating if absent) the database file named by `url`.
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Self, ConnectError> {
        let connect_options = SqliteConnectOptions::from_str(url)
            .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // Each connection to an in-memory database is a database of its own.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let max_connections = if in_memory {
            1
        } else {
            options.max_connections
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(options.connect_timeout)
            .connect_with(connect_options)
            .await
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        Ok(Self { pool })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Tables and columns, for comparing schemas across backends.
    pub async fn schema_columns(&self) -> authy2_core::StoreResult<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
             ORDER BY m.name, p.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows)
    }
}

/// Starts a transaction that holds the write lock from its first statement, so that a
/// read-then-write transaction cannot fail halfway on a lock upgrade.
async fn begin_write(pool: &DbPool) -> Result<Tx, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// A migration runs in a write transaction; nothing more is needed to keep two processes from
/// applying the same one, since `BEGIN IMMEDIATE` serializes them.
async fn begin_migration(pool: &DbPool) -> Result<Tx, sqlx::Error> {
    begin_write(pool).await
}

/// Owners of an organization. The write lock is already held by `begin_write`.
const SELECT_OWNERS_LOCKED: &str = "SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'owner' ORDER BY user_id";

/// Two members' roles (the one acting and the one acted on). The write lock is held.
const SELECT_ROLES_LOCKED: &str = "SELECT user_id, role FROM memberships
     WHERE organization_id = $1 AND user_id IN ($2, $3) ORDER BY user_id";

/// Owners of every organization the user belongs to.
const SELECT_CO_OWNERS_LOCKED: &str = "SELECT organization_id, user_id FROM memberships
     WHERE role = 'owner'
       AND organization_id IN (SELECT organization_id FROM memberships WHERE user_id = $1)
     ORDER BY organization_id, user_id";

include!("../shared/rows.rs");
include!("../shared/migrate.rs");
include!("../shared/users.rs");
include!("../shared/sessions.rs");
include!("../shared/organizations.rs");
include!("../shared/audit.rs");

/// Records a login and its audit event in one transaction; returns the user's row, or `None`
/// when the password changed since it was verified.
async fn record_login_with_audit(
    pool: &DbPool,
    login: &RecordedLogin<'_>,
    audit: &authy2_core::AuditEvent,
) -> authy2_core::StoreResult<Option<DbRow>> {
    let mut tx = begin_write(pool).await.map_err(db_error)?;
    let row = sqlx::query(RECORD_LOGIN)
        .bind(login.id.as_uuid())
        .bind(login.at)
        .bind(login.upgraded_hash.map(authy2_core::HashedPassword::as_str))
        .bind(login.verified_hash.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    if row.is_some() {
        insert_audit_event(&mut tx, audit).await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(row)
}

const RECORD_LOGIN: &str = concat!(
    "UPDATE users SET last_login_at = $2, password_hash = COALESCE($3, password_hash)
     WHERE id = $1 AND password_hash = $4 RETURNING ",
    user_columns!()
);
