//! Organizations and their members.

use crate::clock::Timestamp;
use crate::email::Email;
use crate::ids::{OrganizationId, UserId};
use crate::name::DisplayName;
use crate::role::Role;
use crate::slug::Slug;

const MAX_NAME_CHARS: usize = 100;

/// An organization's name: trimmed, 1–100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationName(String);

impl OrganizationName {
    /// Validates a name.
    pub fn parse(input: &str) -> Result<Self, String> {
        // Checked before trimming, which would drop some control characters (U+0085).
        if input.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        // The bound holds for what was sent, so it means the same to every client.
        if input.chars().count() > MAX_NAME_CHARS {
            return Err(format!("must be at most {MAX_NAME_CHARS} characters"));
        }
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".to_owned());
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Rebuilds a name read back from storage.
    pub fn from_trusted(name: String) -> Self {
        Self(name)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// Identifier.
    pub id: OrganizationId,
    /// Name.
    pub name: OrganizationName,
    /// Unique slug.
    pub slug: Slug,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// An organization to create.
#[derive(Clone, Debug)]
pub struct NewOrganization {
    /// Identifier, made in Rust.
    pub id: OrganizationId,
    /// Name.
    pub name: OrganizationName,
    /// Slug to claim.
    pub slug: Slug,
    /// Creation time.
    pub created_at: Timestamp,
}

/// Fields of an organization to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct OrganizationUpdate {
    /// New name.
    pub name: Option<OrganizationName>,
    /// New slug.
    pub slug: Option<Slug>,
}

impl OrganizationUpdate {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.slug.is_none()
    }
}

/// A user's membership in an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The organization.
    pub organization: Organization,
    /// The member.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
}

/// The member asking for a change, with the role their permission was decided on. The store
/// refuses the change if that role is no longer theirs when it takes its locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActingMember {
    /// Who.
    pub user_id: UserId,
    /// Their role as read when the request was authorized.
    pub role: Role,
}

/// A member as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The user's id.
    pub user_id: UserId,
    /// The user's email.
    pub email: Email,
    /// The user's name.
    pub name: Option<DisplayName>,
    /// Role in the organization.
    pub role: Role,
    /// When they joined.
    pub joined_at: Timestamp,
}

/// An organization together with the caller's role in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationWithRole {
    /// The organization.
    pub organization: Organization,
    /// The caller's role.
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(OrganizationName::parse("  Acme ").unwrap().as_str(), "Acme");
        assert!(OrganizationName::parse("   ").is_err());
        assert!(OrganizationName::parse(&"n".repeat(100)).is_ok());
        assert!(OrganizationName::parse(&"n".repeat(101)).is_err());
        assert!(OrganizationName::parse("line\nbreak").is_err());
        assert!(OrganizationName::parse("Acme\u{85}").is_err());
    }
}
