// Organizations and memberships, shared by both backends (included into each backend module,
// which supplies the locking queries `SELECT_OWNERS_LOCKED` and `SELECT_CO_OWNERS_LOCKED`).

use authy2_core::organization::{
    ActingMember, Membership, NewOrganization, OrganizationUpdate, OrganizationWithRole,
};
use authy2_core::{OrganizationStore, Page, PageRequest};

#[async_trait::async_trait]
impl OrganizationStore for SqlStore {
    async fn insert_organization(
        &self,
        organization: NewOrganization,
        owner: UserId,
        audit: AuditEvent,
    ) -> StoreResult<Organization> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let inserted = sqlx::query(
            "INSERT INTO organizations (id, name, slug, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(organization.id.as_uuid())
        .bind(organization.name.as_str())
        .bind(organization.slug.as_str())
        .bind(organization.created_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if crate::error::is_unique_violation(&e) => {
                return Err(Conflict::SlugTaken.into());
            }
            other => other.map_err(db_error)?,
        };
        sqlx::query(
            "INSERT INTO memberships (organization_id, user_id, role, joined_at)
             VALUES ($1, $2, 'owner', $3)",
        )
        .bind(organization.id.as_uuid())
        .bind(owner.as_uuid())
        .bind(organization.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        insert_audit_event(&mut tx, &audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Organization {
            id: organization.id,
            name: organization.name,
            slug: organization.slug,
            created_at: organization.created_at,
            updated_at: organization.created_at,
        })
    }

    async fn find_membership(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> StoreResult<Option<Membership>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            organization_columns!(),
            ", memberships.role FROM organizations
             JOIN memberships ON memberships.organization_id = organizations.id
             WHERE organizations.id = $1 AND memberships.user_id = $2"
        ))
        .bind(organization.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(|row| {
            Ok(Membership {
                organization: organization_from_row(&row)?,
                user_id: user,
                role: role_from_row(&row)?,
            })
        })
        .transpose()
    }

    async fn update_organization(
        &self,
        id: OrganizationId,
        update: OrganizationUpdate,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<Organization> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let updated = sqlx::query(concat!(
            "UPDATE organizations
             SET name = COALESCE($2, name), slug = COALESCE($3, slug), updated_at = $4
             WHERE id = $1 RETURNING ",
            organization_columns!()
        ))
        .bind(id.as_uuid())
        .bind(update.name.as_ref().map(|n| n.as_str()))
        .bind(update.slug.as_ref().map(|s| s.as_str()))
        .bind(at)
        .fetch_optional(&mut *tx)
        .await;
        let row = match updated {
            Err(e) if crate::error::is_unique_violation(&e) => {
                return Err(Conflict::SlugTaken.into());
            }
            other => found(other.map_err(db_error)?)?,
        };
        let organization = organization_from_row(&row)?;
        insert_audit_event(&mut tx, &audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(organization)
    }

    async fn delete_organization(&self, id: OrganizationId, audit: AuditEvent) -> StoreResult<()> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        delete_organization_in(&mut tx, id, &audit).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn list_members(
        &self,
        organization: OrganizationId,
        page: PageRequest,
    ) -> StoreResult<Page<Member>> {
        let total = sqlx::query("SELECT COUNT(*) AS count FROM memberships WHERE organization_id = $1")
            .bind(organization.as_uuid())
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM memberships JOIN users ON users.id = memberships.user_id
             WHERE memberships.organization_id = $1
             ORDER BY memberships.joined_at, users.id
             LIMIT $2 OFFSET $3"
        ))
        .bind(organization.as_uuid())
        .bind(i64::from(page.per_page()))
        .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(Page {
            items: rows.iter().map(member_from_row).collect::<StoreResult<_>>()?,
            total: count_from_row(&total)?,
            request: page,
        })
    }

    async fn find_member(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> StoreResult<Option<Member>> {
        find_member_in(&self.pool, organization, user).await
    }

    async fn add_member(
        &self,
        organization: OrganizationId,
        actor: ActingMember,
        user: UserId,
        role: Role,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<Member> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let roles = lock_roles(&mut tx, organization, actor.user_id, actor.user_id).await?;
        if roles.actor != Some(actor.role) {
            return Err(Conflict::RoleChanged.into());
        }
        let inserted = sqlx::query(
            "INSERT INTO memberships (organization_id, user_id, role, joined_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(organization.as_uuid())
        .bind(user.as_uuid())
        .bind(role.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if crate::error::is_unique_violation(&e) => {
                return Err(Conflict::AlreadyMember.into());
            }
            // The organization or the user was deleted meanwhile.
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                return Err(StoreError::NotFound);
            }
            other => other.map_err(db_error)?,
        };
        insert_audit_event(&mut tx, &audit).await?;
        let member = found(find_member_in(&mut *tx, organization, user).await?)?;
        tx.commit().await.map_err(db_error)?;
        Ok(member)
    }

    async fn remove_member(
        &self,
        organization: OrganizationId,
        actor: ActingMember,
        user: UserId,
        expected_role: Role,
        audit: AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let current = lock_change(&mut tx, organization, actor, user, expected_role).await?;
        if current.is_last_owner {
            return Err(Conflict::LastOwner.into());
        }
        sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
            .bind(organization.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        insert_audit_event(&mut tx, &audit).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn change_member_role(
        &self,
        organization: OrganizationId,
        actor: ActingMember,
        user: UserId,
        expected_role: Role,
        role: Role,
        audit: AuditEvent,
    ) -> StoreResult<Member> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let current = lock_change(&mut tx, organization, actor, user, expected_role).await?;
        if current.is_last_owner && role != Role::Owner {
            return Err(Conflict::LastOwner.into());
        }
        sqlx::query("UPDATE memberships SET role = $3 WHERE organization_id = $1 AND user_id = $2")
            .bind(organization.as_uuid())
            .bind(user.as_uuid())
            .bind(role.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        insert_audit_event(&mut tx, &audit).await?;
        let member = found(find_member_in(&mut *tx, organization, user).await?)?;
        tx.commit().await.map_err(db_error)?;
        Ok(member)
    }

    async fn list_user_organizations(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<OrganizationWithRole>> {
        let total = sqlx::query("SELECT COUNT(*) AS count FROM memberships WHERE user_id = $1")
            .bind(user.as_uuid())
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            organization_columns!(),
            ", memberships.role FROM memberships
             JOIN organizations ON organizations.id = memberships.organization_id
             WHERE memberships.user_id = $1
             ORDER BY memberships.joined_at, organizations.id
             LIMIT $2 OFFSET $3"
        ))
        .bind(user.as_uuid())
        .bind(i64::from(page.per_page()))
        .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let items = rows
            .iter()
            .map(|row| {
                Ok(OrganizationWithRole {
                    organization: organization_from_row(row)?,
                    role: role_from_row(row)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total: count_from_row(&total)?,
            request: page,
        })
    }
}

/// Deletes an organization and writes its event, inside the caller's transaction. Memberships
/// (and anything else the organization owns) go by ON DELETE CASCADE.
async fn delete_organization_in(
    tx: &mut Tx,
    id: OrganizationId,
    audit: &AuditEvent,
) -> StoreResult<()> {
    let deleted = sqlx::query("DELETE FROM organizations WHERE id = $1")
        .bind(id.as_uuid())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    insert_audit_event(tx, audit).await
}

async fn find_member_in<'e, E>(
    executor: E,
    organization: OrganizationId,
    user: UserId,
) -> StoreResult<Option<Member>>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        member_columns!(),
        " FROM memberships JOIN users ON users.id = memberships.user_id
         WHERE memberships.organization_id = $1 AND memberships.user_id = $2"
    ))
    .bind(organization.as_uuid())
    .bind(user.as_uuid())
    .fetch_optional(executor)
    .await
    .map_err(db_error)?;
    row.as_ref().map(member_from_row).transpose()
}

/// Roles read under lock.
struct LockedRoles {
    /// How many owners the organization has.
    owners: usize,
    /// The acting member's role, if they are still a member.
    actor: Option<Role>,
    /// The target's role, if they are a member.
    target: Option<Role>,
}

/// Locks the organization's owners, then the acting and the target members' rows, and reads
/// their roles.
async fn lock_roles(
    tx: &mut Tx,
    organization: OrganizationId,
    actor: UserId,
    target: UserId,
) -> StoreResult<LockedRoles> {
    let owners = sqlx::query(SELECT_OWNERS_LOCKED)
        .bind(organization.as_uuid())
        .fetch_all(&mut **tx)
        .await
        .map_err(db_error)?;
    let rows = sqlx::query(SELECT_ROLES_LOCKED)
        .bind(organization.as_uuid())
        .bind(actor.as_uuid())
        .bind(target.as_uuid())
        .fetch_all(&mut **tx)
        .await
        .map_err(db_error)?;
    let mut roles = LockedRoles {
        owners: owners.len(),
        actor: None,
        target: None,
    };
    for row in &rows {
        let user = UserId::from_uuid(get(row, "user_id")?);
        let role = role_from_row(row)?;
        if user == actor {
            roles.actor = Some(role);
        }
        if user == target {
            roles.target = Some(role);
        }
    }
    Ok(roles)
}

/// A change to a member that the caller may make.
struct LockedChange {
    /// The member is the organization's only owner.
    is_last_owner: bool,
}

/// Locks what a change to `target` depends on and checks that it still holds: the target is a
/// member with `expected_role`, and the actor still has the role the change was authorized on.
async fn lock_change(
    tx: &mut Tx,
    organization: OrganizationId,
    actor: ActingMember,
    target: UserId,
    expected_role: Role,
) -> StoreResult<LockedChange> {
    let roles = lock_roles(tx, organization, actor.user_id, target).await?;
    let target_role = roles.target.ok_or(StoreError::NotFound)?;
    if target_role != expected_role || roles.actor != Some(actor.role) {
        return Err(Conflict::RoleChanged.into());
    }
    Ok(LockedChange {
        is_last_owner: target_role == Role::Owner && roles.owners <= 1,
    })
}
