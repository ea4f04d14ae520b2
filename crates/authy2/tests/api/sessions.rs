//! Sessions: listing and revoking them over HTTP, expiry, and the `SessionStore` contract that
//! the SQL and Redis implementations must both honour.

use std::sync::Arc;

use authy2_core::session::{AuthMethod, NewSession, SessionLifetime};
use authy2_core::{SessionStore, UserId};
use chrono::Duration;
use reqwest::Method;

use crate::helpers::{TestApp, unique_email};

#[tokio::test]
async fn the_session_list_marks_the_current_one_and_is_paginated() {
    let app = TestApp::spawn().await;
    let email = unique_email("list");
    let first = app.register(&email).await;
    let second = app.login_user(&email).await;
    let third = app.login_user(&email).await;

    let response = app
        .get("/api/v1/auth/sessions", Some(&second.token))
        .await
        .expect(200);
    let sessions = response.data().as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(response.body["meta"]["total"], 3);
    // Newest first.
    let ids: Vec<&str> = sessions.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [&third.session_id, &second.session_id, &first.session_id]
    );
    let current: Vec<bool> = sessions
        .iter()
        .map(|s| s["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, [false, true, false]);
    assert!(sessions.iter().all(|s| s.get("token").is_none()));

    let page = app
        .get(
            "/api/v1/auth/sessions?page=2&per_page=2",
            Some(&second.token),
        )
        .await
        .expect(200);
    assert_eq!(page.data().as_array().unwrap().len(), 1);
    assert_eq!(page.body["meta"]["page"], 2);
    assert_eq!(page.body["meta"]["per_page"], 2);
    app.get("/api/v1/auth/sessions?per_page=500", Some(&second.token))
        .await
        .expect_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn a_session_records_where_it_came_from() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("origin")).await;
    let request = app
        .request(Method::GET, "/api/v1/auth/me")
        .bearer_auth(&user.token)
        .header("user-agent", "integration-test/1.0");
    let response = app.send(request).await.expect(200);
    let session = &response.data()["session"];
    assert_eq!(session["ip_address"], "127.0.0.1");
    assert_eq!(session["auth_method"], "password");
    assert_eq!(session["current"], true);
}

#[tokio::test]
async fn revoking_a_session_refuses_its_token_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let email = unique_email("revoke");
    let keeper = app.register(&email).await;
    let victim = app.login_user(&email).await;
    app.get("/api/v1/auth/me", Some(&victim.token))
        .await
        .expect(200);

    app.call(
        Method::DELETE,
        &format!("/api/v1/auth/sessions/{}", victim.session_id),
        Some(&keeper.token),
    )
    .await
    .expect(200);

    app.get("/api/v1/auth/me", Some(&victim.token))
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
    app.get("/api/v1/auth/me", Some(&keeper.token))
        .await
        .expect(200);
    app.call(
        Method::DELETE,
        &format!("/api/v1/auth/sessions/{}", victim.session_id),
        Some(&keeper.token),
    )
    .await
    .expect_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_every_instance() {
    let app = TestApp::spawn().await;
    let other_instance = app.spawn_sibling(|_| {}).await;
    let user = app.register(&unique_email("instances")).await;
    other_instance
        .get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);

    app.call(Method::POST, "/api/v1/auth/logout", Some(&user.token))
        .await
        .expect(200);

    other_instance
        .get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn another_users_session_cannot_be_revoked_or_seen() {
    let app = TestApp::spawn().await;
    let mallory = app.register(&unique_email("mallory")).await;
    let alice = app.register(&unique_email("alice")).await;
    for id in [
        alice.session_id.as_str(),
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
    ] {
        app.call(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{id}"),
            Some(&mallory.token),
        )
        .await
        .expect_error(404, "NOT_FOUND");
    }
    app.get("/api/v1/auth/me", Some(&alice.token))
        .await
        .expect(200);
    let listed = app
        .get("/api/v1/auth/sessions", Some(&mallory.token))
        .await
        .expect(200);
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("idle")).await;
    app.clock.advance(Duration::days(7) - Duration::minutes(1));
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);
    // That use slid the idle expiry forward.
    app.clock.advance(Duration::days(6));
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);
    app.clock.advance(Duration::days(7));
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn an_active_session_still_ends_at_its_absolute_lifetime() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("absolute")).await;
    for _ in 0..4 {
        app.clock.advance(Duration::days(6));
        let me = app
            .get("/api/v1/auth/me", Some(&user.token))
            .await
            .expect(200);
        let expires_at = me.data()["session"]["expires_at"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(expires_at.ends_with('Z'));
    }
    // 24 days in: the idle expiry would be day 31, the absolute one is day 30.
    let me = app
        .get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);
    let session = &me.data()["session"];
    let created =
        chrono::DateTime::parse_from_rfc3339(session["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(session["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, Duration::days(30));
    app.clock.advance(Duration::days(6) + Duration::minutes(1));
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("seen")).await;
    let last_seen = |response: &crate::helpers::TestResponse| {
        response.data()["session"]["last_seen_at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = last_seen(
        &app.get("/api/v1/auth/me", Some(&user.token))
            .await
            .expect(200),
    );
    app.clock.advance(Duration::seconds(30));
    let unchanged = last_seen(
        &app.get("/api/v1/auth/me", Some(&user.token))
            .await
            .expect(200),
    );
    assert_eq!(first, unchanged);
    app.clock.advance(Duration::seconds(31));
    let touched = last_seen(
        &app.get("/api/v1/auth/me", Some(&user.token))
            .await
            .expect(200),
    );
    assert_ne!(first, touched);
}

/// Every `SessionStore` available in this run: the SQL one always, Redis when configured.
fn session_stores(app: &TestApp) -> Vec<Arc<dyn SessionStore>> {
    let mut stores = vec![app.database.sessions()];
    if app.state.sessions.kind() != "database" {
        stores.push(app.state.sessions.clone());
    }
    stores
}

fn new_session(user: UserId, now: authy2_core::Timestamp) -> NewSession {
    NewSession::start(
        user,
        AuthMethod::Password,
        now,
        SessionLifetime::default(),
        Some("192.0.2.7".into()),
        Some("contract".into()),
    )
}

/// Sessions must belong to a real account in the SQL store (a foreign key); Redis does not
/// care, but the same user serves both.
async fn real_user(app: &TestApp) -> UserId {
    let user = app.register(&unique_email("contract")).await;
    user.id.parse().unwrap()
}

#[tokio::test]
async fn session_stores_find_sessions_only_by_their_token_and_only_while_active() {
    let app = TestApp::spawn().await;
    let user = real_user(&app).await;
    for store in session_stores(&app) {
        let now = app.clock_now();
        let new = new_session(user, now);
        store.insert_session(&new.session).await.unwrap();
        let idle = Duration::days(7);

        let found = store
            .authenticate(&new.token.hash(), now, idle)
            .await
            .unwrap();
        assert_eq!(
            found.as_ref().map(|s| s.id),
            Some(new.session.id),
            "{}",
            store.kind()
        );
        assert_eq!(found.unwrap().ip_address.as_deref(), Some("192.0.2.7"));
        let stranger = authy2_core::SessionToken::generate();
        assert!(
            store
                .authenticate(&stranger.hash(), now, idle)
                .await
                .unwrap()
                .is_none()
        );
        let later = now + Duration::days(8);
        assert!(
            store
                .authenticate(&new.token.hash(), later, idle)
                .await
                .unwrap()
                .is_none(),
            "{}",
            store.kind()
        );
    }
}

#[tokio::test]
async fn session_stores_list_and_revoke_per_user() {
    let app = TestApp::spawn().await;
    let user = real_user(&app).await;
    let other = real_user(&app).await;
    for store in session_stores(&app) {
        let now = app.clock_now();
        store.revoke_user_sessions(user, None).await.unwrap();
        store.revoke_user_sessions(other, None).await.unwrap();
        let sessions: Vec<NewSession> = (0..3).map(|_| new_session(user, now)).collect();
        for new in &sessions {
            store.insert_session(&new.session).await.unwrap();
        }
        let foreign = new_session(other, now);
        store.insert_session(&foreign.session).await.unwrap();

        assert_eq!(
            store.list_user_sessions(user, now).await.unwrap().len(),
            3,
            "{}",
            store.kind()
        );
        assert!(
            !store
                .revoke_session(user, foreign.session.id)
                .await
                .unwrap(),
            "{}",
            store.kind()
        );
        assert!(
            store
                .revoke_session(user, sessions[0].session.id)
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_session(user, sessions[0].session.id)
                .await
                .unwrap()
        );

        let keep = sessions[1].session.id;
        assert_eq!(
            store.revoke_user_sessions(user, Some(keep)).await.unwrap(),
            1,
            "{}",
            store.kind()
        );
        let left: Vec<_> = store
            .list_user_sessions(user, now)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(left, [keep]);
        let idle = Duration::days(7);
        assert!(
            store
                .authenticate(&sessions[2].token.hash(), now, idle)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .authenticate(&foreign.token.hash(), now, idle)
                .await
                .unwrap()
                .is_some()
        );
        store.ping().await.unwrap();
    }
}

#[tokio::test]
async fn session_stores_slide_the_idle_expiry_when_touched() {
    let app = TestApp::spawn().await;
    let user = real_user(&app).await;
    for store in session_stores(&app) {
        let now = app.clock_now();
        let new = new_session(user, now);
        store.insert_session(&new.session).await.unwrap();
        let idle = Duration::days(7);
        let later = now + Duration::days(5);
        let touched = store
            .authenticate(&new.token.hash(), later, idle)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(touched.last_seen_at, later, "{}", store.kind());
        assert_eq!(touched.idle_expires_at, later + idle);
        let stored = store
            .authenticate(&new.token.hash(), later, idle)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.last_seen_at, later, "{}", store.kind());
        // Day 10: past the first idle expiry, within the slid one.
        assert!(
            store
                .authenticate(&new.token.hash(), now + Duration::days(10), idle)
                .await
                .unwrap()
                .is_some()
        );
    }
}
