// User accounts, shared by both backends (included into each backend module).

use authy2_core::audit::{AuditContext, REDACTED};
use authy2_core::store::Conflict;
use authy2_core::user::{HashedPassword, ImportOutcome, ImportedUser, NewUser, UserCredentials};
use authy2_core::{Timestamp, UserStore};

#[async_trait::async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: NewUser, audit: AuditEvent) -> StoreResult<User> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, email_normalized, name, password_hash, email_verified,
                                created_at, updated_at, last_login_at)
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6, NULL)",
        )
        .bind(user.id.as_uuid())
        .bind(user.email.as_str())
        .bind(user.email.normalized())
        .bind(user.name.as_ref().map(DisplayName::as_str))
        .bind(user.password_hash.as_ref().map(HashedPassword::as_str))
        .bind(user.created_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if crate::error::is_unique_violation(&e) => {
                return Err(Conflict::EmailTaken.into());
            }
            other => other.map_err(db_error)?,
        };
        insert_audit_event(&mut tx, &audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(User {
            id: user.id,
            email: user.email,
            name: user.name,
            email_verified: false,
            created_at: user.created_at,
            updated_at: user.created_at,
            last_login_at: None,
        })
    }

    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1"))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_user_by_email(&self, normalized_email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email_normalized = $1"
        ))
        .bind(normalized_email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_credentials(
        &self,
        normalized_email: &str,
    ) -> StoreResult<Option<UserCredentials>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", users.password_hash FROM users WHERE email_normalized = $1"
        ))
        .bind(normalized_email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(credentials_from_row).transpose()
    }

    async fn find_credentials_by_id(&self, id: UserId) -> StoreResult<Option<UserCredentials>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", users.password_hash FROM users WHERE id = $1"
        ))
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(credentials_from_row).transpose()
    }

    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        verified_hash: &HashedPassword,
        upgraded_hash: Option<HashedPassword>,
        audit: AuditEvent,
    ) -> StoreResult<User> {
        let login = RecordedLogin {
            id,
            at,
            verified_hash,
            upgraded_hash: upgraded_hash.as_ref(),
        };
        let row = record_login_with_audit(&self.pool, &login, &audit).await?;
        user_from_row(&found(row)?)
    }

    async fn update_user_name(
        &self,
        id: UserId,
        name: Option<DisplayName>,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<User> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let row = sqlx::query(concat!(
            "UPDATE users SET name = $2, updated_at = $3 WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(id.as_uuid())
        .bind(name.as_ref().map(DisplayName::as_str))
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let user = user_from_row(&found(row)?)?;
        insert_audit_event(&mut tx, &audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(user)
    }

    async fn update_password(
        &self,
        id: UserId,
        hash: HashedPassword,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let updated = sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(hash.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit_event(&mut tx, &audit).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn delete_user(&self, id: UserId, audit: AuditEvent) -> StoreResult<()> {
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        let context = AuditContext {
            request_id: audit.request_id.clone(),
            ip_address: audit.actor_ip.clone(),
            user_agent: audit.actor_user_agent.clone(),
        };
        let departures = organizations_left_by(&mut tx, id).await?;
        if departures.iter().any(|d| matches!(d, Departure::Blocked)) {
            return Err(Conflict::SoleOwnerOfSharedOrganization.into());
        }
        for departure in departures {
            match departure {
                Departure::DeleteWithUser(org) => {
                    let event = AuditEvent::success(
                        authy2_core::AuditAction::OrganizationDeleted,
                        &context,
                        audit.occurred_at,
                    )
                    .by(id)
                    .in_organization(org)
                    .on(AuditTarget::organization(org))
                    .with("reason", "last member deleted their account");
                    delete_organization_in(&mut tx, org, &event).await?;
                }
                Departure::Blocked | Departure::Leave => {}
            }
        }
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit_event(&mut tx, &audit).await?;
        // The account's history stays (its id included) but no longer says who it was or
        // where they connected from. Other people's addresses in events about the account
        // (an admin who added it to an organization) are theirs, and stay.
        sqlx::query(
            "UPDATE audit_events
             SET actor_ip = CASE WHEN actor_ip IS NOT NULL AND (actor_user_id IS NULL OR actor_user_id = $1)
                                 THEN $3 ELSE actor_ip END,
                 subject_email = CASE WHEN subject_email IS NULL THEN NULL ELSE $3 END
             WHERE actor_user_id = $1 OR (target_type = 'user' AND target_id = $2)",
        )
        .bind(id.as_uuid())
        .bind(id.to_string())
        .bind(REDACTED)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn import_users(
        &self,
        users: Vec<ImportedUser>,
        at: Timestamp,
    ) -> StoreResult<ImportOutcome> {
        let mut outcome = ImportOutcome::default();
        let mut tx = begin_write(&self.pool).await.map_err(db_error)?;
        for user in users {
            let id = UserId::generate();
            let created_at = user.created_at.unwrap_or(at);
            let inserted = sqlx::query(
                "INSERT INTO users (id, email, email_normalized, name, password_hash, email_verified,
                                    created_at, updated_at, last_login_at)
                 VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6, NULL)
                 ON CONFLICT (email_normalized) DO NOTHING",
            )
            .bind(id.as_uuid())
            .bind(user.email.as_str())
            .bind(user.email.normalized())
            .bind(user.name.as_ref().map(DisplayName::as_str))
            .bind(user.password_hash.as_str())
            .bind(created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            if inserted.rows_affected() == 0 {
                outcome.skipped += 1;
                continue;
            }
            outcome.inserted += 1;
            let event = AuditEvent::success(
                authy2_core::AuditAction::UserRegistered,
                &AuditContext::default(),
                at,
            )
            .on(AuditTarget::user(id))
            .about_email(user.email.as_str())
            .with("source", "import");
            insert_audit_event(&mut tx, &event).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(outcome)
    }
}

/// What `record_login` writes.
struct RecordedLogin<'a> {
    id: UserId,
    at: Timestamp,
    /// The hash the password was checked against; the update applies only if it is still the
    /// stored one.
    verified_hash: &'a HashedPassword,
    upgraded_hash: Option<&'a HashedPassword>,
}

fn credentials_from_row(row: &DbRow) -> StoreResult<UserCredentials> {
    Ok(UserCredentials {
        user: user_from_row(row)?,
        password_hash: get::<Option<String>>(row, "password_hash")?.map(HashedPassword::new),
    })
}

/// What happens to one of a departing user's organizations.
enum Departure {
    /// They are its only owner and others remain: the account may not go.
    Blocked,
    /// They are its only member: it goes with them.
    DeleteWithUser(OrganizationId),
    /// Someone else keeps it.
    Leave,
}

/// Decides, under lock, what deleting `user` does to each organization they belong to.
async fn organizations_left_by(tx: &mut Tx, user: UserId) -> StoreResult<Vec<Departure>> {
    let owner_rows = sqlx::query(SELECT_CO_OWNERS_LOCKED)
        .bind(user.as_uuid())
        .fetch_all(&mut **tx)
        .await
        .map_err(db_error)?;
    let mut owners: Vec<(OrganizationId, UserId)> = Vec::with_capacity(owner_rows.len());
    for row in &owner_rows {
        owners.push((
            OrganizationId::from_uuid(get(row, "organization_id")?),
            UserId::from_uuid(get(row, "user_id")?),
        ));
    }
    let member_counts = sqlx::query(
        "SELECT organization_id, COUNT(*) AS count FROM memberships
         WHERE organization_id IN (SELECT organization_id FROM memberships WHERE user_id = $1)
         GROUP BY organization_id",
    )
    .bind(user.as_uuid())
    .fetch_all(&mut **tx)
    .await
    .map_err(db_error)?;
    let mut departures = Vec::with_capacity(member_counts.len());
    for row in &member_counts {
        let org = OrganizationId::from_uuid(get(row, "organization_id")?);
        let members = count_from_row(row)?;
        let org_owners: Vec<UserId> = owners
            .iter()
            .filter(|(o, _)| *o == org)
            .map(|(_, u)| *u)
            .collect();
        let is_sole_owner = org_owners == [user];
        departures.push(if members <= 1 {
            Departure::DeleteWithUser(org)
        } else if is_sole_owner {
            Departure::Blocked
        } else {
            Departure::Leave
        });
    }
    Ok(departures)
}
