//! Authy2's domain: the types that are always valid once built, the rules of who may do what,
//! and the storage traits the database and session backends implement.
//!
//! Nothing here knows about HTTP or SQL, so every rule can be tested as a pure function.

pub mod audit;
pub mod authz;
pub mod clock;
pub mod email;
pub mod ids;
pub mod name;
pub mod organization;
pub mod page;
pub mod password;
pub mod role;
pub mod session;
pub mod slug;
pub mod store;
pub mod user;
pub mod validation;

pub use audit::{
    AuditAction, AuditContext, AuditEvent, AuditFilter, AuditOutcome, AuditScope, AuditTarget,
};
pub use authz::{Action, Denied};
pub use clock::{AdjustableClock, Clock, SystemClock, Timestamp};
pub use email::Email;
pub use ids::{AuditEventId, OrganizationId, SessionId, UserId};
pub use name::DisplayName;
pub use organization::{
    ActingMember, Member, Membership, NewOrganization, Organization, OrganizationName,
    OrganizationUpdate, OrganizationWithRole,
};
pub use page::{Page, PageRequest};
pub use password::NewPassword;
pub use role::Role;
pub use session::{AuthMethod, NewSession, Session, SessionLifetime, SessionToken, TokenHash};
pub use slug::Slug;
pub use store::{
    AuditStore, Conflict, OrganizationStore, SessionStore, Store, StoreError, StoreResult,
    UserStore,
};
pub use user::{HashedPassword, ImportOutcome, ImportedUser, NewUser, User, UserCredentials};
pub use validation::ValidationErrors;
