//! The schema migrations of both backends, embedded in the binary. Both lists have the same
//! versions and names; a test checks it.

use authy2_core::Timestamp;

/// One migration's scripts.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version, increasing from 1.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    pub(crate) up: &'static str,
    pub(crate) down: &'static str,
}

/// A migration and whether it is applied.
#[derive(Debug, Clone)]
pub struct MigrationState {
    /// Version.
    pub version: i64,
    /// Short name.
    pub name: String,
    /// When it was applied, if it was.
    pub applied_at: Option<Timestamp>,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $prefix:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            up: include_str!(concat!("../migrations/", $dir, "/", $prefix, "_", $name, ".up.sql")),
            down: include_str!(concat!("../migrations/", $dir, "/", $prefix, "_", $name, ".down.sql")),
        }),*]
    };
}

/// SQLite's migrations.
pub const SQLITE: &[Migration] = migrations!("sqlite":
    1 "0001" "users_and_sessions",
    2 "0002" "organizations",
    3 "0003" "audit_events",
);

/// PostgreSQL's migrations.
pub const POSTGRES: &[Migration] = migrations!("postgres":
    1 "0001" "users_and_sessions",
    2 "0002" "organizations",
    3 "0003" "audit_events",
);

/// Versions of `migrations` that are not applied, in order.
pub(crate) fn pending<'a>(migrations: &'a [Migration], applied: &[i64]) -> Vec<&'a Migration> {
    migrations
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect()
}
