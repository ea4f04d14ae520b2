//! User accounts.

use std::fmt;

use crate::clock::Timestamp;
use crate::email::Email;
use crate::ids::UserId;
use crate::name::DisplayName;

/// A user account as the API shows it. Never carries the password hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// Email, display form.
    pub email: Email,
    /// Optional display name.
    pub name: Option<DisplayName>,
    /// Whether the address was proven to belong to the user.
    pub email_verified: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last profile change.
    pub updated_at: Timestamp,
    /// Last successful login.
    pub last_login_at: Option<Timestamp>,
}

/// A password hash in PHC (`$argon2id$…`) or modular-crypt (`$2b$…`) form. Not a secret in the
/// way a password is, but still never printed or returned.
#[derive(Clone, PartialEq, Eq)]
pub struct HashedPassword(String);

impl HashedPassword {
    /// Wraps an encoded hash.
    pub fn new(encoded: String) -> Self {
        Self(encoded)
    }

    /// The encoded hash, for storage and verification.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HashedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashedPassword([redacted])")
    }
}

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Identifier, made in Rust.
    pub id: UserId,
    /// Email.
    pub email: Email,
    /// Optional display name.
    pub name: Option<DisplayName>,
    /// Hash of the password; `None` for accounts that only sign in through an identity provider.
    pub password_hash: Option<HashedPassword>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A user with the hash needed to check a login.
#[derive(Clone, Debug)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// Its password hash, when it has a password.
    pub password_hash: Option<HashedPassword>,
}

/// One account brought over from another system by `authy2 users import`.
#[derive(Clone, Debug)]
pub struct ImportedUser {
    /// Email.
    pub email: Email,
    /// Optional display name.
    pub name: Option<DisplayName>,
    /// The hash as the old system stored it (bcrypt or argon2).
    pub password_hash: HashedPassword,
    /// Creation time in the old system, when known.
    pub created_at: Option<Timestamp>,
}

/// What an import batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// New accounts created.
    pub inserted: u64,
    /// Lines skipped because the email already had an account.
    pub skipped: u64,
}
