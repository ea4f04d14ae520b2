//! Audit events: who did what, from where, to what, with which outcome.
//!
//! Events never hold a password, a session token or a hash: the constructors below take only
//! ids, emails and plain metadata, and the metadata built by callers is limited to non-secret
//! facts (roles, changed field names).

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::clock::Timestamp;
use crate::ids::{AuditEventId, OrganizationId, SessionId, UserId};

/// Replaces personal data in the events of a deleted account.
pub const REDACTED: &str = "[deleted]";
/// The longest email an event keeps (the longest valid address).
const MAX_EMAIL_CHARS: usize = 254;

macro_rules! audit_actions {
    ($($variant:ident => $name:literal,)*) => {
        /// What happened.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $(
                #[doc = $name]
                $variant,
            )*
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The dotted name used in the API and in storage.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }
        }

        impl FromStr for AuditAction {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(AuditAction::$variant),)*
                    _ => Err("is not a known audit action".to_owned()),
                }
            }
        }
    };
}

audit_actions! {
    UserRegistered => "user.registered",
    AuthLogin => "auth.login",
    AuthLogout => "auth.logout",
    AuthRateLimited => "auth.rate_limited",
    SessionRevoked => "session.revoked",
    UserUpdated => "user.updated",
    UserPasswordChanged => "user.password_changed",
    UserDeleted => "user.deleted",
    OrganizationCreated => "organization.created",
    OrganizationUpdated => "organization.updated",
    OrganizationDeleted => "organization.deleted",
    MemberAdded => "member.added",
    MemberRemoved => "member.removed",
    MemberRoleChanged => "member.role_changed",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the action succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditOutcome {
    /// It happened.
    Success,
    /// It was attempted and refused.
    Failure,
}

impl AuditOutcome {
    /// The name used in the API and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
        }
    }

    /// Parses the stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "success" => Some(AuditOutcome::Success),
            "failure" => Some(AuditOutcome::Failure),
            _ => None,
        }
    }
}

/// What the action was done to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditTarget {
    /// `user`, `session`, `organization` or `member`.
    pub kind: String,
    /// Its id.
    pub id: String,
}

impl AuditTarget {
    /// A user account.
    pub fn user(id: UserId) -> Self {
        Self {
            kind: "user".to_owned(),
            id: id.to_string(),
        }
    }

    /// A session.
    pub fn session(id: SessionId) -> Self {
        Self {
            kind: "session".to_owned(),
            id: id.to_string(),
        }
    }

    /// An organization.
    pub fn organization(id: OrganizationId) -> Self {
        Self {
            kind: "organization".to_owned(),
            id: id.to_string(),
        }
    }
}

/// Facts about the request an event comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditContext {
    /// The request id, as echoed to the client.
    pub request_id: Option<String>,
    /// Client IP, as decided by the trusted-proxy rules.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

/// One audit event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// Identifier (time-ordered).
    pub id: AuditEventId,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// What happened.
    pub action: AuditAction,
    /// Whether it succeeded.
    pub outcome: AuditOutcome,
    /// Who did it, when known.
    pub actor_user_id: Option<UserId>,
    /// From which address.
    pub actor_ip: Option<String>,
    /// With which client.
    pub actor_user_agent: Option<String>,
    /// In which organization.
    pub organization_id: Option<OrganizationId>,
    /// To what.
    pub target: Option<AuditTarget>,
    /// The email the event concerns (the address tried at a failed login, a new member's).
    /// Kept apart from `metadata` so that deleting an account can redact it.
    pub subject_email: Option<String>,
    /// The request it came from.
    pub request_id: Option<String>,
    /// Further non-secret facts.
    pub metadata: Map<String, Value>,
}

impl AuditEvent {
    /// A successful action in the context of a request.
    pub fn success(action: AuditAction, context: &AuditContext, at: Timestamp) -> Self {
        Self::new(action, AuditOutcome::Success, context, at)
    }

    /// A refused action in the context of a request.
    pub fn failure(action: AuditAction, context: &AuditContext, at: Timestamp) -> Self {
        Self::new(action, AuditOutcome::Failure, context, at)
    }

    fn new(
        action: AuditAction,
        outcome: AuditOutcome,
        context: &AuditContext,
        at: Timestamp,
    ) -> Self {
        Self {
            id: AuditEventId::generate(),
            occurred_at: at,
            action,
            outcome,
            actor_user_id: None,
            actor_ip: context.ip_address.clone(),
            actor_user_agent: context.user_agent.clone(),
            organization_id: None,
            target: None,
            subject_email: None,
            request_id: context.request_id.clone(),
            metadata: Map::new(),
        }
    }

    /// Sets who acted.
    pub fn by(mut self, actor: UserId) -> Self {
        self.actor_user_id = Some(actor);
        self
    }

    /// Sets the organization.
    pub fn in_organization(mut self, organization: OrganizationId) -> Self {
        self.organization_id = Some(organization);
        self
    }

    /// Sets what was acted upon.
    pub fn on(mut self, target: AuditTarget) -> Self {
        self.target = Some(target);
        self
    }

    /// Sets the email the event concerns. What a client typed is kept only as far as any
    /// address can go (254 characters) and without control characters, so a refused attempt
    /// cannot write arbitrary text into the log.
    pub fn about_email(mut self, email: &str) -> Self {
        let kept: String = email
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_EMAIL_CHARS)
            .collect();
        self.subject_email = Some(kept);
        self
    }

    /// The failed counterpart of an event that was about to be written: the same facts under
    /// a new id, with outcome `failure` and the reason.
    pub fn refused(&self, reason: &str) -> Self {
        let mut refused = self.clone();
        refused.id = AuditEventId::generate();
        refused.outcome = AuditOutcome::Failure;
        refused.with("reason", reason)
    }

    /// Adds a metadata entry.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }
}

/// Which events a query covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditScope {
    /// Events a user did, or that were done to their account.
    User(UserId),
    /// Events of one organization.
    Organization(OrganizationId),
    /// Everything (operators' exports).
    All,
}

/// A query over the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFilter {
    /// Whose events.
    pub scope: AuditScope,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only this actor.
    pub actor_id: Option<UserId>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Before.
    pub until: Option<Timestamp>,
}

impl AuditFilter {
    /// Everything in `scope`.
    pub fn scope(scope: AuditScope) -> Self {
        Self {
            scope,
            action: None,
            actor_id: None,
            since: None,
            until: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(*action));
        }
        assert!("auth.magic".parse::<AuditAction>().is_err());
    }

    #[test]
    fn events_carry_the_request_context() {
        let context = AuditContext {
            request_id: Some("req-1".into()),
            ip_address: Some("192.0.2.1".into()),
            user_agent: Some("curl".into()),
        };
        let user = UserId::generate();
        let event = AuditEvent::failure(AuditAction::AuthLogin, &context, chrono::Utc::now())
            .on(AuditTarget::user(user))
            .about_email("ada@example.com");
        assert_eq!(event.request_id.as_deref(), Some("req-1"));
        assert_eq!(event.actor_ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(event.outcome, AuditOutcome::Failure);
        assert_eq!(event.target, Some(AuditTarget::user(user)));
    }

    #[test]
    fn recorded_emails_are_bounded_and_printable() {
        let at = chrono::Utc::now();
        let context = AuditContext::default();
        let long = format!(" {}\0\n ", "x".repeat(10_000));
        let event = AuditEvent::failure(AuditAction::AuthLogin, &context, at).about_email(&long);
        let kept = event.subject_email.unwrap_or_default();
        assert_eq!(kept.chars().count(), 254);
        assert!(!kept.chars().any(char::is_control));
    }
}
