//! The storage traits. The SQL backends implement all of them; Redis implements
//! [`SessionStore`]. Every mutating method that the audit log must cover takes its
//! [`AuditEvent`] and writes it in the same transaction, so no change happens without its record.

use async_trait::async_trait;
use chrono::Duration;

use crate::audit::{AuditEvent, AuditFilter};
use crate::clock::Timestamp;
use crate::ids::{AuditEventId, OrganizationId, SessionId, UserId};
use crate::name::DisplayName;
use crate::organization::{
    ActingMember, Member, Membership, NewOrganization, Organization, OrganizationUpdate,
    OrganizationWithRole,
};
use crate::page::{Page, PageRequest};
use crate::role::Role;
use crate::session::{Session, TokenHash};
use crate::user::{HashedPassword, ImportOutcome, ImportedUser, NewUser, User, UserCredentials};

/// A rule of the data model that a change would break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another account has this email.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Another organization has this slug.
    #[error("this slug is already taken")]
    SlugTaken,
    /// The user is already a member.
    #[error("the user is already a member of this organization")]
    AlreadyMember,
    /// The change would leave an organization without an owner.
    #[error("an organization must keep at least one owner")]
    LastOwner,
    /// The account is the only owner of an organization that has other members.
    #[error(
        "you are the only owner of an organization that has other members; transfer ownership first"
    )]
    SoleOwnerOfSharedOrganization,
    /// The member's role changed since it was read; the request should be retried.
    #[error("the member's role changed meanwhile; try again")]
    RoleChanged,
}

impl Conflict {
    /// A short machine-readable name, for audit events.
    pub const fn code(self) -> &'static str {
        match self {
            Conflict::EmailTaken => "email_taken",
            Conflict::SlugTaken => "slug_taken",
            Conflict::AlreadyMember => "already_member",
            Conflict::LastOwner => "last_owner",
            Conflict::SoleOwnerOfSharedOrganization => "sole_owner_of_shared_organization",
            Conflict::RoleChanged => "role_changed",
        }
    }
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row to change does not exist.
    #[error("not found")]
    NotFound,
    /// The change breaks a rule of the data model.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The backend cannot be reached or timed out.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, or data that does not decode.
    #[error("storage error: {0}")]
    Internal(String),
}

/// Short for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// User accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates an account. [`Conflict::EmailTaken`] when the normalized email exists.
    async fn insert_user(&self, user: NewUser, audit: AuditEvent) -> StoreResult<User>;

    /// Finds an account by id.
    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>>;

    /// Finds an account by normalized email.
    async fn find_user_by_email(&self, normalized_email: &str) -> StoreResult<Option<User>>;

    /// Finds an account and its password hash by normalized email, to check a login.
    async fn find_credentials(
        &self,
        normalized_email: &str,
    ) -> StoreResult<Option<UserCredentials>>;

    /// Finds an account and its password hash by id, to re-authenticate its owner.
    async fn find_credentials_by_id(&self, id: UserId) -> StoreResult<Option<UserCredentials>>;

    /// Records a successful login: `last_login_at`, and a new hash when the stored one used
    /// outdated parameters or algorithm. [`StoreError::NotFound`] unless the stored hash is
    /// still `verified_hash`: a password changed while the login was being checked must not
    /// let it through.
    async fn record_login(
        &self,
        id: UserId,
        at: Timestamp,
        verified_hash: &HashedPassword,
        upgraded_hash: Option<HashedPassword>,
        audit: AuditEvent,
    ) -> StoreResult<User>;

    /// Changes the display name.
    async fn update_user_name(
        &self,
        id: UserId,
        name: Option<DisplayName>,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<User>;

    /// Replaces the password hash.
    async fn update_password(
        &self,
        id: UserId,
        hash: HashedPassword,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<()>;

    /// Deletes an account with its memberships, identities and SQL sessions. Organizations it
    /// is the only member of go with it; [`Conflict::SoleOwnerOfSharedOrganization`] when it is
    /// the only owner of one with other members. Its audit events stay, with email and IP
    /// replaced by [`crate::audit::REDACTED`].
    async fn delete_user(&self, id: UserId, audit: AuditEvent) -> StoreResult<()>;

    /// Imports accounts in one transaction; emails that already have an account are skipped.
    async fn import_users(
        &self,
        users: Vec<ImportedUser>,
        at: Timestamp,
    ) -> StoreResult<ImportOutcome>;
}

/// Organizations and memberships.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Creates an organization with `owner` as its first owner.
    /// [`Conflict::SlugTaken`] when the slug exists.
    async fn insert_organization(
        &self,
        organization: NewOrganization,
        owner: UserId,
        audit: AuditEvent,
    ) -> StoreResult<Organization>;

    /// The organization and the user's role in it, if the user is a member.
    async fn find_membership(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> StoreResult<Option<Membership>>;

    /// Renames or re-slugs an organization.
    async fn update_organization(
        &self,
        id: OrganizationId,
        update: OrganizationUpdate,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<Organization>;

    /// Deletes an organization with its memberships and everything else it owns.
    async fn delete_organization(&self, id: OrganizationId, audit: AuditEvent) -> StoreResult<()>;

    /// A page of members, oldest membership first.
    async fn list_members(
        &self,
        organization: OrganizationId,
        page: PageRequest,
    ) -> StoreResult<Page<Member>>;

    /// One member.
    async fn find_member(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> StoreResult<Option<Member>>;

    /// Adds a user, on behalf of `actor`. [`Conflict::AlreadyMember`] when they are one.
    async fn add_member(
        &self,
        organization: OrganizationId,
        actor: ActingMember,
        user: UserId,
        role: Role,
        at: Timestamp,
        audit: AuditEvent,
    ) -> StoreResult<Member>;

    /// Removes a member whose role is still `expected_role`, on behalf of `actor`.
    /// [`Conflict::RoleChanged`] when either role changed since the request was authorized;
    /// [`Conflict::LastOwner`] when the member is the last owner.
    async fn remove_member(
        &self,
        organization: OrganizationId,
        actor: ActingMember,
        user: UserId,
        expected_role: Role,
        audit: AuditEvent,
    ) -> StoreResult<()>;

    /// Changes the role of a member whose role is still `expected_role`, on behalf of
    /// `actor`. [`Conflict::RoleChanged`] when either role changed since the request was
    /// authorized; [`Conflict::LastOwner`] when that would demote the last owner.
    async fn change_member_role(
        &self,
        organization: OrganizationId,
        actor: ActingMember,
        user: UserId,
        expected_role: Role,
        role: Role,
        audit: AuditEvent,
    ) -> StoreResult<Member>;

    /// A page of the user's organizations with their role, oldest membership first.
    async fn list_user_organizations(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<OrganizationWithRole>>;
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Writes an event of an action that changed nothing in the database (a failed login, a
    /// rate-limit hit, a revoked Redis session).
    async fn append_audit_event(&self, event: AuditEvent) -> StoreResult<()>;

    /// A page of matching events, newest first.
    async fn list_audit_events(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEvent>>;

    /// Up to `limit` matching events strictly older than `before` (newest first), for
    /// streaming exports with keyset pagination.
    async fn list_audit_events_before(
        &self,
        filter: &AuditFilter,
        before: Option<(Timestamp, AuditEventId)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;

    /// Deletes up to `limit` events older than `cutoff`; returns how many went.
    async fn purge_audit_events(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64>;
}

/// The SQL database as a whole.
#[async_trait]
pub trait Store: UserStore + OrganizationStore + AuditStore {
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
}

/// Where sessions live: the SQL database by default, Redis when configured.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;

    /// The active session with this token hash, if any. Slides its idle expiry and writes
    /// `last_seen_at` when it is older than [`crate::session::LAST_SEEN_GRANULARITY`].
    async fn authenticate(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
        idle: Duration,
    ) -> StoreResult<Option<Session>>;

    /// The user's active sessions, newest first.
    async fn list_user_sessions(&self, user: UserId, now: Timestamp) -> StoreResult<Vec<Session>>;

    /// Revokes one of the user's sessions; `false` when the user has no such session.
    async fn revoke_session(&self, user: UserId, id: SessionId) -> StoreResult<bool>;

    /// Revokes every session of the user except `keep`; returns how many went.
    async fn revoke_user_sessions(&self, user: UserId, keep: Option<SessionId>)
    -> StoreResult<u64>;

    /// Removes sessions that expired before `now`; returns how many went.
    async fn purge_expired_sessions(&self, now: Timestamp) -> StoreResult<u64>;

    /// Checks that the store answers.
    async fn ping(&self) -> StoreResult<()>;

    /// A short name for health checks and logs: `database` or `redis`.
    fn kind(&self) -> &'static str;
}
