//! The JSON shapes of API.md's "Objects", built from domain values. Nothing here carries a
//! password hash or a token hash; the only token ever serialized is a new session's, once.

use authy2_core::audit::{AuditEvent, AuditOutcome};
use authy2_core::organization::{Member, Organization, OrganizationWithRole};
use authy2_core::{Session, Timestamp, User};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::params::{AuditActionName, RoleName};

/// RFC 3339 in UTC, to the second: `2026-12-04T19:12:28Z`.
pub fn format_time(at: Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Identifier.
    pub id: Uuid,
    /// Email as the user typed it.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether the email is proven to be theirs.
    pub email_verified: bool,
    /// Creation time.
    #[schema(format = DateTime, example = "2026-12-04T19:12:28Z")]
    pub created_at: String,
    /// Last profile change.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Last successful login.
    #[schema(format = DateTime)]
    pub last_login_at: Option<String>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.as_uuid(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_ref().map(|n| n.as_str().to_owned()),
            email_verified: user.email_verified,
            created_at: format_time(user.created_at),
            updated_at: format_time(user.updated_at),
            last_login_at: user.last_login_at.map(format_time),
        }
    }
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Identifier (not the token).
    pub id: Uuid,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last use, to within a minute.
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    /// The earlier of the idle and the absolute expiry.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Client address at creation.
    pub ip_address: Option<String>,
    /// Client user agent at creation.
    pub user_agent: Option<String>,
    /// `password`, `oauth:<provider>`, `oidc:<connection>` or `saml:<connection>`.
    #[schema(example = "password")]
    pub auth_method: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

impl SessionView {
    /// A session as seen from the session `current`.
    pub fn new(session: &Session, current: &Session) -> Self {
        Self {
            id: session.id.as_uuid(),
            created_at: format_time(session.created_at),
            last_seen_at: format_time(session.last_seen_at),
            expires_at: format_time(session.expires_at()),
            ip_address: session.ip_address.clone(),
            user_agent: session.user_agent.clone(),
            auth_method: session.auth_method.to_string(),
            current: session.id == current.id,
        }
    }
}

/// A new session, with its token: the only time the token is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewSessionView {
    /// The session.
    #[serde(flatten)]
    pub session: SessionView,
    /// The bearer token, also set as the `authy_session` cookie.
    pub token: String,
}

/// A user with the session of the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSessionView {
    /// The account.
    pub user: UserView,
    /// The session.
    pub session: SessionView,
}

/// A user with a newly created session.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthenticatedView {
    /// The account.
    pub user: UserView,
    /// The session, with its token.
    pub session: NewSessionView,
}

/// An organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Unique slug.
    #[schema(example = "acme-corp")]
    pub slug: String,
    /// Creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last change.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&Organization> for OrganizationView {
    fn from(org: &Organization) -> Self {
        Self {
            id: org.id.as_uuid(),
            name: org.name.as_str().to_owned(),
            slug: org.slug.as_str().to_owned(),
            created_at: format_time(org.created_at),
            updated_at: format_time(org.updated_at),
        }
    }
}

/// An organization with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationWithRoleView {
    /// The organization.
    #[serde(flatten)]
    pub organization: OrganizationView,
    /// The caller's role.
    #[schema(value_type = RoleName, example = "owner")]
    pub role: String,
}

impl From<OrganizationWithRole> for OrganizationWithRoleView {
    fn from(entry: OrganizationWithRole) -> Self {
        Self {
            organization: OrganizationView::from(&entry.organization),
            role: entry.role.as_str().to_owned(),
        }
    }
}

/// The user part of a member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberUserView {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
}

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// Who.
    pub user: MemberUserView,
    /// Their role.
    #[schema(value_type = RoleName, example = "member")]
    pub role: String,
    /// When they joined.
    #[schema(format = DateTime)]
    pub joined_at: String,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        Self {
            user: MemberUserView {
                id: member.user_id.as_uuid(),
                email: member.email.as_str().to_owned(),
                name: member.name.map(|n| n.as_str().to_owned()),
            },
            role: member.role.as_str().to_owned(),
            joined_at: format_time(member.joined_at),
        }
    }
}

/// Whether an audited action succeeded.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeName {
    /// It happened.
    Success,
    /// It was attempted and refused.
    Failure,
}

/// Who performed an audited action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActorView {
    /// Their account, when known.
    pub user_id: Option<Uuid>,
    /// Their address.
    pub ip_address: Option<String>,
    /// Their client.
    pub user_agent: Option<String>,
}

/// What an audited action was done to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTargetView {
    /// `user`, `session`, `organization` or `member`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
}

/// An audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// Identifier.
    pub id: Uuid,
    /// When it happened.
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// What happened, e.g. `auth.login`.
    #[schema(value_type = AuditActionName, example = "auth.login")]
    pub action: String,
    /// `success` or `failure`.
    pub outcome: OutcomeName,
    /// Who did it.
    pub actor: AuditActorView,
    /// In which organization.
    pub organization_id: Option<Uuid>,
    /// To what.
    pub target: Option<AuditTargetView>,
    /// The request it came from.
    pub request_id: Option<String>,
    /// Further facts; `email` when the event concerns an address.
    #[schema(value_type = Object)]
    pub metadata: Value,
}

impl From<AuditEvent> for AuditEventView {
    fn from(event: AuditEvent) -> Self {
        let mut metadata = event.metadata;
        if let Some(email) = event.subject_email {
            metadata.insert("email".to_owned(), Value::String(email));
        }
        Self {
            id: event.id.as_uuid(),
            occurred_at: format_time(event.occurred_at),
            action: event.action.as_str().to_owned(),
            outcome: match event.outcome {
                AuditOutcome::Success => OutcomeName::Success,
                AuditOutcome::Failure => OutcomeName::Failure,
            },
            actor: AuditActorView {
                user_id: event.actor_user_id.map(|id| id.as_uuid()),
                ip_address: event.actor_ip,
                user_agent: event.actor_user_agent,
            },
            organization_id: event.organization_id.map(|id| id.as_uuid()),
            target: event.target.map(|t| AuditTargetView {
                kind: t.kind,
                id: t.id,
            }),
            request_id: event.request_id,
            metadata: Value::Object(metadata),
        }
    }
}
