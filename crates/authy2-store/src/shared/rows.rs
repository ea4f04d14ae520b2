// Row decoding shared by both backends (included into each backend module, where `DbRow` is
// that backend's row type).

use authy2_core::audit::{AuditAction, AuditEvent, AuditOutcome, AuditTarget};
use authy2_core::organization::{Member, Organization, OrganizationName};
use authy2_core::session::{AuthMethod, Session, TokenHash};
use authy2_core::{
    AuditEventId, DisplayName, Email, OrganizationId, Role, SessionId, Slug, StoreError,
    StoreResult, User, UserId,
};
use sqlx::Row;

/// Reads one column, mapping a decoding failure to an internal error naming the column.
fn get<'r, T>(row: &'r DbRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(column)
        .map_err(|e| crate::error::corrupt(column, e))
}

/// Columns of `users` that make a [`User`].
macro_rules! user_columns {
    () => {
        "users.id, users.email, users.name, users.email_verified, users.created_at, \
         users.updated_at, users.last_login_at"
    };
}

fn user_from_row(row: &DbRow) -> StoreResult<User> {
    Ok(User {
        id: UserId::from_uuid(get(row, "id")?),
        email: Email::from_trusted(get(row, "email")?),
        name: get::<Option<String>>(row, "name")?.map(DisplayName::from_trusted),
        email_verified: get(row, "email_verified")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        last_login_at: get(row, "last_login_at")?,
    })
}

/// Columns of `sessions` that make a [`Session`].
macro_rules! session_columns {
    () => {
        "id, user_id, token_hash, auth_method, created_at, last_seen_at, idle_expires_at, \
         absolute_expires_at, ip_address, user_agent"
    };
}

fn session_from_row(row: &DbRow) -> StoreResult<Session> {
    let hash: Vec<u8> = get(row, "token_hash")?;
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| crate::error::corrupt("token_hash", "not 32 bytes"))?;
    let method: String = get(row, "auth_method")?;
    Ok(Session {
        id: SessionId::from_uuid(get(row, "id")?),
        user_id: UserId::from_uuid(get(row, "user_id")?),
        token_hash: TokenHash::from_bytes(hash),
        auth_method: AuthMethod::parse(&method)
            .ok_or_else(|| crate::error::corrupt("auth_method", &method))?,
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
        idle_expires_at: get(row, "idle_expires_at")?,
        absolute_expires_at: get(row, "absolute_expires_at")?,
        ip_address: get(row, "ip_address")?,
        user_agent: get(row, "user_agent")?,
    })
}

/// Columns of `organizations` that make an [`Organization`].
macro_rules! organization_columns {
    () => {
        "organizations.id, organizations.name, organizations.slug, organizations.created_at, \
         organizations.updated_at"
    };
}

fn organization_from_row(row: &DbRow) -> StoreResult<Organization> {
    Ok(Organization {
        id: OrganizationId::from_uuid(get(row, "id")?),
        name: OrganizationName::from_trusted(get(row, "name")?),
        slug: Slug::from_trusted(get(row, "slug")?),
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn role_from_row(row: &DbRow) -> StoreResult<Role> {
    let role: String = get(row, "role")?;
    role.parse()
        .map_err(|_| crate::error::corrupt("role", &role))
}

/// Columns of a membership joined with its user that make a [`Member`].
macro_rules! member_columns {
    () => {
        "users.id AS user_id, users.email, users.name, memberships.role, memberships.joined_at"
    };
}

fn member_from_row(row: &DbRow) -> StoreResult<Member> {
    Ok(Member {
        user_id: UserId::from_uuid(get(row, "user_id")?),
        email: Email::from_trusted(get(row, "email")?),
        name: get::<Option<String>>(row, "name")?.map(DisplayName::from_trusted),
        role: role_from_row(row)?,
        joined_at: get(row, "joined_at")?,
    })
}

/// Columns of `audit_events` that make an [`AuditEvent`].
macro_rules! audit_columns {
    () => {
        "id, occurred_at, action, outcome, actor_user_id, actor_ip, actor_user_agent, \
         organization_id, target_type, target_id, subject_email, request_id, metadata"
    };
}

fn audit_event_from_row(row: &DbRow) -> StoreResult<AuditEvent> {
    let action: String = get(row, "action")?;
    let outcome: String = get(row, "outcome")?;
    let target_type: Option<String> = get(row, "target_type")?;
    let target_id: Option<String> = get(row, "target_id")?;
    let metadata: sqlx::types::Json<serde_json::Map<String, serde_json::Value>> =
        get(row, "metadata")?;
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(get(row, "id")?),
        occurred_at: get(row, "occurred_at")?,
        action: action
            .parse::<AuditAction>()
            .map_err(|_| crate::error::corrupt("action", &action))?,
        outcome: AuditOutcome::parse(&outcome)
            .ok_or_else(|| crate::error::corrupt("outcome", &outcome))?,
        actor_user_id: get::<Option<uuid::Uuid>>(row, "actor_user_id")?.map(UserId::from_uuid),
        actor_ip: get(row, "actor_ip")?,
        actor_user_agent: get(row, "actor_user_agent")?,
        organization_id: get::<Option<uuid::Uuid>>(row, "organization_id")?
            .map(OrganizationId::from_uuid),
        target: match (target_type, target_id) {
            (Some(kind), Some(id)) => Some(AuditTarget { kind, id }),
            _ => None,
        },
        subject_email: get(row, "subject_email")?,
        request_id: get(row, "request_id")?,
        metadata: metadata.0,
    })
}

/// Reads a `COUNT(*)`.
fn count_from_row(row: &DbRow) -> StoreResult<u64> {
    let count: i64 = get(row, "count")?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Whether a required row was missing.
fn found<T>(row: Option<T>) -> StoreResult<T> {
    row.ok_or(StoreError::NotFound)
}
