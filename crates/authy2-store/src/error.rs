//! Turns driver errors into [`StoreError`]s: "unavailable" for what a retry or an operator can
//! fix (connection lost, pool exhausted, lock timeout), "internal" for the rest.

use authy2_core::StoreError;

/// Maps a driver error.
pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    let unavailable = match &err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_transient(&code)),
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(err.to_string())
    } else {
        StoreError::Internal(err.to_string())
    }
}

/// SQLite: BUSY (5) and LOCKED (6) with their extended codes, once the busy timeout is spent.
/// PostgreSQL: serialization failure, deadlock, and the server going away.
fn is_transient(code: &str) -> bool {
    let sqlite_busy = code
        .parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    sqlite_busy || matches!(code, "40001" | "40P01" | "57P01" | "57P02" | "57P03")
}

/// Whether the error is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// For values that were valid when written and no longer decode: data corruption or a bug.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored {what} does not decode: {detail}"))
}
