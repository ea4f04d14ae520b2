//! The SQL store contract, called directly: what every backend must do the same way. The
//! suite's PostgreSQL run covers PostgreSQL, the default run SQLite.

use authy2_core::audit::{AuditAction, AuditContext, AuditEvent, AuditFilter, AuditScope};
use authy2_core::organization::{NewOrganization, OrganizationName};
use authy2_core::store::Conflict;
use authy2_core::{
    ActingMember, Clock, Email, HashedPassword, ImportedUser, NewUser, OrganizationId, PageRequest,
    Role, Slug, Store, StoreError, SystemClock, UserId,
};
use chrono::Duration;

use crate::helpers::{TestStorage, open_database};

async fn store() -> (TestStorage, authy2_store::Database) {
    let storage = TestStorage::create().await;
    let database = open_database(&storage).await;
    database.upgrade().await.unwrap();
    (storage, database)
}

fn event(action: AuditAction) -> AuditEvent {
    AuditEvent::success(action, &AuditContext::default(), SystemClock.now())
}

async fn insert_user(store: &dyn Store, email: &str) -> UserId {
    let id = UserId::generate();
    let user = NewUser {
        id,
        email: Email::parse(email).unwrap(),
        name: None,
        password_hash: Some(HashedPassword::new(
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        )),
        created_at: SystemClock.now(),
    };
    store
        .insert_user(user, event(AuditAction::UserRegistered))
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn users_are_unique_by_normalized_email_and_keep_their_casing() {
    let (_storage, database) = store().await;
    let store = database.store();
    let id = insert_user(&*store, "Mixed.Case@Example.com").await;
    let found = store
        .find_user_by_email("mixed.case@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert_eq!(found.email.as_str(), "Mixed.Case@Example.com");

    let duplicate = NewUser {
        id: UserId::generate(),
        email: Email::parse("MIXED.case@example.COM").unwrap(),
        name: None,
        password_hash: None,
        created_at: SystemClock.now(),
    };
    let err = store
        .insert_user(duplicate, event(AuditAction::UserRegistered))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::EmailTaken)),
        "{err:?}"
    );
    database.close().await;
}

const STORED_HASH: &str = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA";

#[tokio::test]
async fn timestamps_and_ids_round_trip_exactly() {
    let (_storage, database) = store().await;
    let store = database.store();
    let id = insert_user(&*store, "times@example.com").await;
    let at = SystemClock.now();
    let verified = HashedPassword::new(STORED_HASH.into());
    let user = store
        .record_login(id, at, &verified, None, event(AuditAction::AuthLogin))
        .await
        .unwrap();
    assert_eq!(user.last_login_at, Some(at));
    assert_eq!(
        store.find_user(id).await.unwrap().unwrap().last_login_at,
        Some(at)
    );
    database.close().await;
}

#[tokio::test]
async fn a_login_is_not_recorded_once_the_password_it_checked_has_changed() {
    let (_storage, database) = store().await;
    let store = database.store();
    let id = insert_user(&*store, "raced@example.com").await;
    let checked = HashedPassword::new(STORED_HASH.into());
    let replacement = HashedPassword::new("$argon2id$v=19$m=64,t=1,p=1$b3RoZXJzYWx0$bmV3".into());
    store
        .update_password(
            id,
            replacement,
            SystemClock.now(),
            event(AuditAction::UserPasswordChanged),
        )
        .await
        .unwrap();

    let err = store
        .record_login(
            id,
            SystemClock.now(),
            &checked,
            None,
            event(AuditAction::AuthLogin),
        )
        .await
        .unwrap_err();

    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert_eq!(
        store.find_user(id).await.unwrap().unwrap().last_login_at,
        None
    );
    let logins = store
        .list_audit_events(
            &AuditFilter {
                action: Some(AuditAction::AuthLogin),
                ..AuditFilter::scope(AuditScope::All)
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(logins.total, 0, "no audit event without the change");
    database.close().await;
}

#[tokio::test]
async fn import_skips_existing_emails_and_counts_them() {
    let (_storage, database) = store().await;
    let store = database.store();
    insert_user(&*store, "exists@example.com").await;
    let imported = |email: &str| ImportedUser {
        email: Email::parse(email).unwrap(),
        name: None,
        password_hash: HashedPassword::new(
            "$2b$04$abcdefghijklmnopqrstuu5XQm1u1BJ/DXk1Oq3p2wtDdsd3NOBbm".into(),
        ),
        created_at: None,
    };
    let outcome = store
        .import_users(
            vec![
                imported("EXISTS@example.com"),
                imported("new@example.com"),
                imported("new@example.com"),
            ],
            SystemClock.now(),
        )
        .await
        .unwrap();
    assert_eq!((outcome.inserted, outcome.skipped), (1, 2));
    database.close().await;
}

#[tokio::test]
async fn a_role_change_is_refused_when_the_role_read_is_stale() {
    let (_storage, database) = store().await;
    let store = database.store();
    let owner = insert_user(&*store, "owner@example.com").await;
    let member = insert_user(&*store, "member@example.com").await;
    let org = OrganizationId::generate();
    let now = SystemClock.now();
    let new = NewOrganization {
        id: org,
        name: OrganizationName::parse("Stale").unwrap(),
        slug: Slug::parse("stale").unwrap(),
        created_at: now,
    };
    store
        .insert_organization(new, owner, event(AuditAction::OrganizationCreated))
        .await
        .unwrap();
    let as_owner = ActingMember {
        user_id: owner,
        role: Role::Owner,
    };
    store
        .add_member(
            org,
            as_owner,
            member,
            Role::Member,
            now,
            event(AuditAction::MemberAdded),
        )
        .await
        .unwrap();

    let err = store
        .change_member_role(
            org,
            as_owner,
            member,
            Role::Admin,
            Role::Owner,
            event(AuditAction::MemberRoleChanged),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::RoleChanged)),
        "{err:?}"
    );
    let err = store
        .remove_member(
            org,
            as_owner,
            owner,
            Role::Owner,
            event(AuditAction::MemberRemoved),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::LastOwner)),
        "{err:?}"
    );
    let err = store
        .add_member(
            org,
            as_owner,
            member,
            Role::Admin,
            now,
            event(AuditAction::MemberAdded),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::AlreadyMember)),
        "{err:?}"
    );

    // The member's own permission was decided when they were an admin; they no longer are.
    let as_stale_admin = ActingMember {
        user_id: member,
        role: Role::Admin,
    };
    let err = store
        .remove_member(
            org,
            as_stale_admin,
            member,
            Role::Member,
            event(AuditAction::MemberRemoved),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::RoleChanged)),
        "{err:?}"
    );
    let outsider = insert_user(&*store, "outsider@example.com").await;
    let err = store
        .add_member(
            org,
            as_stale_admin,
            outsider,
            Role::Member,
            now,
            event(AuditAction::MemberAdded),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::RoleChanged)),
        "{err:?}"
    );
    database.close().await;
}

#[tokio::test]
async fn audit_export_pages_visit_every_event_once_newest_first() {
    let (_storage, database) = store().await;
    let store = database.store();
    let base = SystemClock.now();
    let mut written = Vec::new();
    for i in 0..25 {
        // Several events share a timestamp, so the id must break ties.
        let mut e = event(AuditAction::AuthLogin);
        e.occurred_at = base + Duration::seconds(i / 3);
        written.push(e.id);
        store.append_audit_event(e).await.unwrap();
    }
    let filter = AuditFilter::scope(AuditScope::All);
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let batch = store
            .list_audit_events_before(&filter, before, 4)
            .await
            .unwrap();
        let Some(last) = batch.last() else { break };
        before = Some((last.occurred_at, last.id));
        seen.extend(batch.iter().map(|e| e.id));
    }
    written.reverse();
    assert_eq!(seen, written);

    let page = store
        .list_audit_events(&filter, PageRequest::new(2, 10))
        .await
        .unwrap();
    assert_eq!(page.total, 25);
    assert_eq!(
        page.items.iter().map(|e| e.id).collect::<Vec<_>>(),
        written[10..20]
    );
    database.close().await;
}

#[tokio::test]
async fn purging_removes_only_old_events_in_batches() {
    let (_storage, database) = store().await;
    let store = database.store();
    let now = SystemClock.now();
    for days_ago in [400, 380, 370, 10, 0] {
        let mut e = event(AuditAction::AuthLogin);
        e.occurred_at = now - Duration::days(days_ago);
        store.append_audit_event(e).await.unwrap();
    }
    let cutoff = now - Duration::days(365);
    assert_eq!(store.purge_audit_events(cutoff, 2).await.unwrap(), 2);
    assert_eq!(store.purge_audit_events(cutoff, 2).await.unwrap(), 1);
    assert_eq!(store.purge_audit_events(cutoff, 2).await.unwrap(), 0);
    let left = store
        .list_audit_events(&AuditFilter::scope(AuditScope::All), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(left.total, 2);
    database.close().await;
}
