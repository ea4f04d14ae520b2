//! Migrations: reversible on both backends, and the two backends kept in step.

use authy2_store::migrations::{POSTGRES, SQLITE};

use crate::helpers::{TestStorage, open_database, postgres_url};

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |list: &[authy2_store::Migration]| -> Vec<(i64, &str)> {
        list.iter().map(|m| (m.version, m.name)).collect()
    };
    assert_eq!(names(SQLITE), names(POSTGRES));
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let storage = TestStorage::create().await;
    let database = open_database(&storage).await;
    let applied = database.upgrade().await.unwrap();
    assert_eq!(applied.len(), SQLITE.len());
    let schema = database.schema_columns().await.unwrap();
    assert!(
        schema
            .iter()
            .any(|(table, column)| table == "users" && column == "email_normalized")
    );

    let reverted = database.downgrade(u32::MAX).await.unwrap();
    assert_eq!(reverted.len(), SQLITE.len());
    let empty = database.schema_columns().await.unwrap();
    assert!(
        empty.iter().all(|(table, _)| table == "authy2_migrations"),
        "{empty:?}"
    );
    assert!(database.pending_migrations().await.unwrap().len() == SQLITE.len());

    database.upgrade().await.unwrap();
    assert_eq!(database.schema_columns().await.unwrap(), schema);
    assert!(database.pending_migrations().await.unwrap().is_empty());
    database.close().await;
}

#[tokio::test]
async fn upgrading_twice_applies_nothing_the_second_time() {
    let storage = TestStorage::create().await;
    let database = open_database(&storage).await;
    database.upgrade().await.unwrap();
    assert!(database.upgrade().await.unwrap().is_empty());
    database.close().await;
}

/// With PostgreSQL available, both schemas must have the same tables and columns.
#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    if postgres_url().is_none() {
        return; // compared in the PostgreSQL run of the suite
    }
    let postgres = TestStorage::create().await;
    let sqlite = TestStorage::sqlite(None);
    let (postgres, sqlite) = (open_database(&postgres).await, open_database(&sqlite).await);
    postgres.upgrade().await.unwrap();
    sqlite.upgrade().await.unwrap();
    assert_eq!(
        postgres.schema_columns().await.unwrap(),
        sqlite.schema_columns().await.unwrap()
    );
    postgres.close().await;
    sqlite.close().await;
}
