//! `authy2 seed`: sample accounts and organizations for development. Idempotent: what exists
//! is left alone. Refused in production.

use authy2_core::audit::{AuditAction, AuditContext, AuditEvent, AuditTarget};
use authy2_core::organization::{NewOrganization, OrganizationName};
use authy2_core::store::Conflict;
use authy2_core::{
    ActingMember, DisplayName, Email, NewUser, OrganizationId, Role, Slug, StoreError, UserId,
};

use crate::cli::CommandError;
use crate::config::{AppEnv, Config};
use crate::state::AppState;

/// The password of every seeded account.
pub const SEED_PASSWORD: &str = "seed passphrase for development";

const USERS: &[(&str, &str)] = &[
    ("alice@example.com", "Alice Example"),
    ("bob@example.com", "Bob Example"),
    ("carol@example.com", "Carol Example"),
];

/// A sample organization and who belongs to it.
struct SeedOrganization {
    name: &'static str,
    slug: &'static str,
    members: &'static [(&'static str, Role)],
}

const ORGANIZATIONS: &[SeedOrganization] = &[
    SeedOrganization {
        name: "Acme",
        slug: "acme",
        members: &[
            ("alice@example.com", Role::Owner),
            ("bob@example.com", Role::Admin),
            ("carol@example.com", Role::Member),
        ],
    },
    SeedOrganization {
        name: "Globex",
        slug: "globex",
        members: &[
            ("bob@example.com", Role::Owner),
            ("alice@example.com", Role::Member),
        ],
    },
];

/// Runs the seed command.
pub async fn seed(config: Config) -> Result<(), CommandError> {
    if config.env == AppEnv::Production {
        return Err(CommandError::usage(
            "seed is refused when APP_ENV=production",
        ));
    }
    let (state, database) = super::open_state(config).await?;
    let result = seed_data(&state).await;
    database.close().await;
    result
}

async fn seed_data(state: &AppState) -> Result<(), CommandError> {
    let context = AuditContext {
        request_id: Some("seed".to_owned()),
        ..AuditContext::default()
    };
    let mut created = 0;
    for (email, name) in USERS {
        let email = Email::parse(email).map_err(CommandError::failed)?;
        if state
            .store
            .find_user_by_email(email.normalized())
            .await?
            .is_some()
        {
            continue;
        }
        let hash = state
            .hasher
            .hash(SEED_PASSWORD)
            .await
            .map_err(|e| CommandError::failed(e.to_string()))?;
        let id = UserId::generate();
        let now = state.clock.now();
        let audit = AuditEvent::success(AuditAction::UserRegistered, &context, now)
            .on(AuditTarget::user(id))
            .about_email(email.as_str())
            .with("source", "seed");
        let user = NewUser {
            id,
            email,
            name: DisplayName::parse_optional(Some(name)).map_err(CommandError::failed)?,
            password_hash: Some(hash),
            created_at: now,
        };
        state.store.insert_user(user, audit).await?;
        created += 1;
    }
    for organization in ORGANIZATIONS {
        seed_organization(state, &context, organization).await?;
    }
    println!(
        "Seeded {created} new account(s); every seeded account's password is {SEED_PASSWORD:?}."
    );
    Ok(())
}

async fn seed_organization(
    state: &AppState,
    context: &AuditContext,
    seed: &SeedOrganization,
) -> Result<(), CommandError> {
    let SeedOrganization {
        name,
        slug,
        members,
    } = seed;
    let mut ids = Vec::new();
    for (email, role) in *members {
        let user = state
            .store
            .find_user_by_email(email)
            .await?
            .ok_or_else(|| CommandError::failed(format!("seed user {email} is missing")))?;
        ids.push((user.id, *role));
    }
    let Some(&(owner, _)) = ids.iter().find(|(_, role)| *role == Role::Owner) else {
        return Err(CommandError::failed(format!(
            "seed organization {slug} has no owner"
        )));
    };
    let id = OrganizationId::generate();
    let now = state.clock.now();
    let organization = NewOrganization {
        id,
        name: OrganizationName::parse(name).map_err(CommandError::failed)?,
        slug: Slug::parse(slug).map_err(CommandError::failed)?,
        created_at: now,
    };
    let audit = AuditEvent::success(AuditAction::OrganizationCreated, context, now)
        .by(owner)
        .in_organization(id)
        .on(AuditTarget::organization(id))
        .with("source", "seed");
    match state
        .store
        .insert_organization(organization, owner, audit)
        .await
    {
        Ok(_) => {}
        // Seeded before: leave it as it is now.
        Err(StoreError::Conflict(Conflict::SlugTaken)) => return Ok(()),
        Err(err) => return Err(err.into()),
    }
    for (user, role) in ids.into_iter().filter(|(user, _)| *user != owner) {
        let audit = AuditEvent::success(AuditAction::MemberAdded, context, now)
            .by(owner)
            .in_organization(id)
            .on(AuditTarget::user(user))
            .with("role", role.as_str());
        let actor = ActingMember {
            user_id: owner,
            role: Role::Owner,
        };
        state
            .store
            .add_member(id, actor, user, role, now, audit)
            .await?;
    }
    Ok(())
}
