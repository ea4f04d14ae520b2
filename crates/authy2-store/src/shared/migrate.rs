// The migration runner, shared by both backends (included into each backend module, which
// supplies `MIGRATIONS` and `begin_migration`).

use crate::migrations::MigrationState;

const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS authy2_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

impl SqlStore {
    async fn applied_migrations(&self) -> StoreResult<Vec<(i64, String, String)>> {
        sqlx::query(CREATE_MIGRATIONS_TABLE)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        sqlx::query_as("SELECT version, name, applied_at FROM authy2_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    /// Every known migration with its state, plus any applied by a newer build.
    pub async fn migration_status(&self) -> StoreResult<Vec<MigrationState>> {
        let applied = self.applied_migrations().await?;
        let mut states: Vec<MigrationState> = MIGRATIONS
            .iter()
            .map(|m| MigrationState {
                version: m.version,
                name: m.name.to_owned(),
                applied_at: None,
            })
            .collect();
        for (version, name, applied_at) in applied {
            let applied_at = chrono::DateTime::parse_from_rfc3339(&applied_at)
                .map_err(|e| crate::error::corrupt("applied_at", e))?
                .with_timezone(&chrono::Utc);
            match states.iter_mut().find(|s| s.version == version) {
                Some(state) => state.applied_at = Some(applied_at),
                None => states.push(MigrationState {
                    version,
                    name,
                    applied_at: Some(applied_at),
                }),
            }
        }
        states.sort_by_key(|s| s.version);
        Ok(states)
    }

    /// Applies pending migrations in order, each in its own transaction.
    pub async fn upgrade(&self) -> StoreResult<Vec<&'static Migration>> {
        let applied: Vec<i64> = self
            .applied_migrations()
            .await?
            .into_iter()
            .map(|(version, _, _)| version)
            .collect();
        let mut done = Vec::new();
        for migration in crate::migrations::pending(MIGRATIONS, &applied) {
            let mut tx = begin_migration(&self.pool).await.map_err(db_error)?;
            // Another process may have applied it while we waited for the lock.
            let already: Option<(i64,)> =
                sqlx::query_as("SELECT version FROM authy2_migrations WHERE version = $1")
                    .bind(migration.version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_error)?;
            if already.is_some() {
                continue;
            }
            sqlx::raw_sql(migration.up)
                .execute(&mut *tx)
                .await
                .map_err(|e| migration_failed(migration, "up", e))?;
            sqlx::query("INSERT INTO authy2_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(migration.version)
                .bind(migration.name)
                .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)?;
            done.push(migration);
        }
        Ok(done)
    }

    /// Reverts the last `steps` applied migrations, newest first, each in its own transaction.
    pub async fn downgrade(&self, steps: u32) -> StoreResult<Vec<&'static Migration>> {
        let mut done = Vec::new();
        for _ in 0..steps {
            let mut tx = begin_migration(&self.pool).await.map_err(db_error)?;
            let (newest,): (Option<i64>,) =
                sqlx::query_as("SELECT MAX(version) FROM authy2_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;
            let Some(version) = newest else { break };
            let migration = MIGRATIONS
                .iter()
                .find(|m| m.version == version)
                .ok_or_else(|| {
                    StoreError::Internal(format!(
                        "migration {version} was applied by a newer build; downgrade with that build"
                    ))
                })?;
            sqlx::raw_sql(migration.down)
                .execute(&mut *tx)
                .await
                .map_err(|e| migration_failed(migration, "down", e))?;
            sqlx::query("DELETE FROM authy2_migrations WHERE version = $1")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)?;
            done.push(migration);
        }
        Ok(done)
    }
}

fn migration_failed(migration: &Migration, direction: &str, err: sqlx::Error) -> StoreError {
    StoreError::Internal(format!(
        "migration {:04}_{} ({direction}) failed: {err}",
        migration.version, migration.name
    ))
}
