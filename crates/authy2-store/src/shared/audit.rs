// The audit log, shared by both backends (included into each backend module).

use authy2_core::audit::{AuditFilter, AuditScope};
use authy2_core::AuditStore;
use sqlx::QueryBuilder;

/// Writes one event inside the caller's transaction.
async fn insert_audit_event(tx: &mut Tx, event: &AuditEvent) -> StoreResult<()> {
    write_audit_event(&mut **tx, event).await
}

async fn write_audit_event<'e, E>(executor: E, event: &AuditEvent) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    if cfg!(feature = "unaudited-benchmark") {
        return Ok(());
    }
    let insert = sqlx::query(concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ));
    bind_audit_event(insert, event)
        .execute(executor)
        .await
        .map_err(db_error)?;
    Ok(())
}

type DbQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// Binds an event's thirteen values, in the order of `audit_columns!`.
fn bind_audit_event<'q>(query: DbQuery<'q>, event: &'q AuditEvent) -> DbQuery<'q> {
    query
        .bind(event.id.as_uuid())
        .bind(event.occurred_at)
        .bind(event.action.as_str())
        .bind(event.outcome.as_str())
        .bind(event.actor_user_id.map(|id| id.as_uuid()))
        .bind(event.actor_ip.as_deref())
        .bind(event.actor_user_agent.as_deref())
        .bind(event.organization_id.map(|id| id.as_uuid()))
        .bind(event.target.as_ref().map(|t| t.kind.as_str()))
        .bind(event.target.as_ref().map(|t| t.id.as_str()))
        .bind(event.subject_email.as_deref())
        .bind(event.request_id.as_deref())
        .bind(sqlx::types::Json(&event.metadata))
}

/// Appends `WHERE …` for a filter. Every value is bound, never spliced into the SQL.
fn push_audit_filter(query: &mut QueryBuilder<Db>, filter: &AuditFilter) {
    query.push(" WHERE 1 = 1");
    match filter.scope {
        AuditScope::User(user) => {
            query
                .push(" AND (actor_user_id = ")
                .push_bind(user.as_uuid())
                .push(" OR (target_type = 'user' AND target_id = ")
                .push_bind(user.to_string())
                .push("))");
        }
        AuditScope::Organization(organization) => {
            query
                .push(" AND organization_id = ")
                .push_bind(organization.as_uuid());
        }
        AuditScope::All => {}
    }
    if let Some(action) = filter.action {
        query.push(" AND action = ").push_bind(action.as_str());
    }
    if let Some(actor) = filter.actor_id {
        query.push(" AND actor_user_id = ").push_bind(actor.as_uuid());
    }
    if let Some(since) = filter.since {
        query.push(" AND occurred_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        query.push(" AND occurred_at < ").push_bind(until);
    }
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn append_audit_event(&self, event: AuditEvent) -> StoreResult<()> {
        write_audit_event(&self.pool, &event).await
    }

    async fn list_audit_events(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEvent>> {
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) AS count FROM audit_events");
        push_audit_filter(&mut count, filter);
        let total = count
            .build()
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;

        let mut select = QueryBuilder::<Db>::new(concat!("SELECT ", audit_columns!(), " FROM audit_events"));
        push_audit_filter(&mut select, filter);
        select
            .push(" ORDER BY occurred_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.per_page()))
            .push(" OFFSET ")
            .push_bind(i64::try_from(page.offset()).unwrap_or(i64::MAX));
        let rows = select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(Page {
            items: rows.iter().map(audit_event_from_row).collect::<StoreResult<_>>()?,
            total: count_from_row(&total)?,
            request: page,
        })
    }

    async fn list_audit_events_before(
        &self,
        filter: &AuditFilter,
        before: Option<(Timestamp, AuditEventId)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let mut select = QueryBuilder::<Db>::new(concat!("SELECT ", audit_columns!(), " FROM audit_events"));
        push_audit_filter(&mut select, filter);
        if let Some((at, id)) = before {
            select
                .push(" AND (occurred_at < ")
                .push_bind(at)
                .push(" OR (occurred_at = ")
                .push_bind(at)
                .push(" AND id < ")
                .push_bind(id.as_uuid())
                .push("))");
        }
        select
            .push(" ORDER BY occurred_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(audit_event_from_row).collect()
    }

    async fn purge_audit_events(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
        let deleted = sqlx::query(
            "DELETE FROM audit_events WHERE id IN (
                 SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2
             )",
        )
        .bind(cutoff)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(deleted.rows_affected())
    }
}

#[async_trait::async_trait]
impl authy2_core::Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
