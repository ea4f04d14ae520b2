//! The PostgreSQL backend: a pooled server connection. Invariants that span rows (the last
//! owner of an organization) are protected by `SELECT … FOR UPDATE` on the rows involved.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::db_error;
use crate::migrations::{Migration, POSTGRES};
use crate::{ConnectError, ConnectOptions};

type Db = sqlx::Postgres;
type DbPool = sqlx::PgPool;
type DbRow = sqlx::postgres::PgRow;
type Tx = sqlx::Transaction<'static, Db>;
type SqlStore = PostgresStore;

const MIGRATIONS: &[Migration] = POSTGRES;

/// Authy2's data in PostgreSQL.
#[derive(Debug)]
pub struct PostgresStore {
    pool: DbPool,
}

impl PostgresStore {
    /// Connects to the server named by `url`, failing within the connect timeout.
    pub async fn connect(url: &str, options: ConnectOptions) -> Result<Self, ConnectError> {
        let connect_options =
            PgConnectOptions::from_str(url).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.connect_timeout)
            .connect_with(connect_options);
        // The pool's own timeout does not bound DNS and TCP connect of the first connection.
        let pool = tokio::time::timeout(options.connect_timeout, pool)
            .await
            .map_err(|_| {
                ConnectError::Unreachable(format!(
                    "no answer within {} s",
                    options.connect_timeout.as_secs_f32()
                ))
            })?
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        Ok(Self { pool })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Tables and columns of the current schema, for comparing schemas across backends.
    pub async fn schema_columns(&self) -> authy2_core::StoreResult<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema()
             ORDER BY table_name, column_name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows)
    }
}

async fn begin_write(pool: &DbPool) -> Result<Tx, sqlx::Error> {
    pool.begin().await
}

/// Holds a transaction-scoped advisory lock, so that two processes upgrading at once apply
/// each migration once.
async fn begin_migration(pool: &DbPool) -> Result<Tx, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(727536921)")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Owners of an organization, locked: a concurrent demotion or removal of another owner waits
/// for this transaction and then sees its result.
const SELECT_OWNERS_LOCKED: &str = "SELECT user_id FROM memberships
     WHERE organization_id = $1 AND role = 'owner' ORDER BY user_id FOR UPDATE";

/// Two members' rows (the one acting and the one acted on), locked in a fixed order after the
/// owners', so that a concurrent demotion of the actor waits for this change or defeats it.
const SELECT_ROLES_LOCKED: &str = "SELECT user_id, role FROM memberships
     WHERE organization_id = $1 AND user_id IN ($2, $3) ORDER BY user_id FOR UPDATE";

/// Owners of every organization the user belongs to, locked in a fixed order so that two
/// transactions cannot deadlock on them.
const SELECT_CO_OWNERS_LOCKED: &str = "SELECT organization_id, user_id FROM memberships
     WHERE role = 'owner'
       AND organization_id IN (SELECT organization_id FROM memberships WHERE user_id = $1)
     ORDER BY organization_id, user_id FOR UPDATE";

include!("../shared/rows.rs");
include!("../shared/migrate.rs");
include!("../shared/users.rs");
include!("../shared/sessions.rs");
include!("../shared/organizations.rs");
include!("../shared/audit.rs");

/// Records a login and its audit event in one statement, so one round trip instead of four:
/// logins are the busiest write there is. Data-modifying CTEs run to completion and the
/// statement is atomic; the event is written only if the user row was updated, which it is
/// only while the stored hash is still the one the password was verified against.
async fn record_login_with_audit(
    pool: &DbPool,
    login: &RecordedLogin<'_>,
    audit: &authy2_core::AuditEvent,
) -> authy2_core::StoreResult<Option<DbRow>> {
    let statement = if cfg!(feature = "unaudited-benchmark") {
        RECORD_LOGIN_UNAUDITED
    } else {
        RECORD_LOGIN
    };
    let query = sqlx::query(statement)
        .bind(login.id.as_uuid())
        .bind(login.at)
        .bind(login.upgraded_hash.map(authy2_core::HashedPassword::as_str))
        .bind(login.verified_hash.as_str());
    let query = if cfg!(feature = "unaudited-benchmark") {
        query
    } else {
        bind_audit_event(query, audit)
    };
    query.fetch_optional(pool).await.map_err(db_error)
}

macro_rules! update_login {
    () => {
        "UPDATE users SET last_login_at = $2, password_hash = COALESCE($3, password_hash)
         WHERE id = $1 AND password_hash = $4 RETURNING "
    };
}

const RECORD_LOGIN: &str = concat!(
    "WITH changed AS (",
    update_login!(),
    user_columns!(),
    "), logged AS (
         INSERT INTO audit_events (",
    audit_columns!(),
    ") SELECT $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM changed
     )
     SELECT * FROM changed"
);

/// The login update alone, for the build that measures what auditing costs.
const RECORD_LOGIN_UNAUDITED: &str = concat!(update_login!(), user_columns!());
