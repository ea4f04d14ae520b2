// Sessions kept in the SQL database, shared by both backends (included into each backend
// module). Revocation deletes the row, so the very next request with that token fails on every
// instance: there is no cache in front of this table.

use authy2_core::SessionStore;

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO sessions (",
            session_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(session.id.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(session.token_hash.as_bytes().as_slice())
        .bind(session.auth_method.to_string())
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.idle_expires_at)
        .bind(session.absolute_expires_at)
        .bind(session.ip_address.as_deref())
        .bind(session.user_agent.as_deref())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn authenticate(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
        idle: chrono::Duration,
    ) -> StoreResult<Option<Session>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE token_hash = $1"
        ))
        .bind(token_hash.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(session) = row.as_ref().map(session_from_row).transpose()? else {
            return Ok(None);
        };
        if !session.is_active(now) {
            return Ok(None);
        }
        if !session.needs_touch(now) {
            return Ok(Some(session));
        }
        let touched = session.touched(now, idle);
        // Conditional on the row still existing: a revocation racing with this touch wins.
        let updated = sqlx::query(
            "UPDATE sessions SET last_seen_at = $2, idle_expires_at = $3 WHERE id = $1",
        )
        .bind(touched.id.as_uuid())
        .bind(touched.last_seen_at)
        .bind(touched.idle_expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok((updated.rows_affected() > 0).then_some(touched))
    }

    async fn list_user_sessions(&self, user: UserId, now: Timestamp) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE user_id = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(session_from_row).collect()
    }

    async fn revoke_session(&self, user: UserId, id: SessionId) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn revoke_user_sessions(&self, user: UserId, keep: Option<SessionId>) -> StoreResult<u64> {
        let deleted = match keep {
            Some(keep) => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user.as_uuid())
                .bind(keep.as_uuid())
                .execute(&self.pool)
                .await,
            None => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.as_uuid())
                .execute(&self.pool)
                .await,
        }
        .map_err(db_error)?;
        Ok(deleted.rows_affected())
    }

    async fn purge_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let deleted = sqlx::query(
            "DELETE FROM sessions WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(deleted.rows_affected())
    }

    async fn ping(&self) -> StoreResult<()> {
        authy2_core::Store::ping(self).await
    }

    fn kind(&self) -> &'static str {
        "database"
    }
}
