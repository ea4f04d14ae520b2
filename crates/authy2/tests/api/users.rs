//! The caller's own account: profile, password change, deletion.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, unique_email};

const NEW_PASSWORD: &str = "a brand new passphrase";

#[tokio::test]
async fn the_profile_is_the_callers_account() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("profile")).await;
    let response = app
        .get("/api/v1/users/me", Some(&user.token))
        .await
        .expect(200);
    assert_eq!(response.data()["id"], user.id.as_str());
    assert_eq!(response.data()["email"], user.email.as_str());
    assert!(response.data().get("password_hash").is_none());
    app.get("/api/v1/users/me", None)
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn only_the_name_can_be_changed_and_null_clears_it() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("rename")).await;
    let path = "/api/v1/users/me";

    let renamed = app
        .json(
            Method::PATCH,
            path,
            Some(&user.token),
            json!({ "name": "  Ada King " }),
        )
        .await
        .expect(200);
    assert_eq!(renamed.data()["name"], "Ada King");
    let unchanged = app
        .json(Method::PATCH, path, Some(&user.token), json!({}))
        .await
        .expect(200);
    assert_eq!(unchanged.data()["name"], "Ada King");
    let cleared = app
        .json(
            Method::PATCH,
            path,
            Some(&user.token),
            json!({ "name": null }),
        )
        .await
        .expect(200);
    assert!(cleared.data()["name"].is_null());

    for body in [
        json!({ "email": "new@example.com" }),
        json!({ "email_verified": true }),
        json!({ "name": "n".repeat(101) }),
    ] {
        app.json(Method::PATCH, path, Some(&user.token), body)
            .await
            .expect_error(400, "VALIDATION_ERROR");
    }
    let after = app.get(path, Some(&user.token)).await.expect(200);
    assert_eq!(after.data()["email"], user.email.as_str());
    assert_eq!(after.data()["email_verified"], false);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_revokes_other_sessions() {
    let app = TestApp::spawn().await;
    let email = unique_email("password");
    let current = app.register(&email).await;
    let other = app.login_user(&email).await;
    let path = "/api/v1/users/me/password";

    app.post(
        path,
        Some(&current.token),
        json!({ "current_password": "wrong password!", "new_password": NEW_PASSWORD }),
    )
    .await
    .expect_error(403, "INVALID_CREDENTIALS");
    let weak = app
        .post(
            path,
            Some(&current.token),
            json!({ "current_password": PASSWORD, "new_password": "password1" }),
        )
        .await
        .expect_error(400, "VALIDATION_ERROR");
    assert!(weak.body["error"]["details"]["new_password"].is_array());
    app.get("/api/v1/auth/me", Some(&other.token))
        .await
        .expect(200);

    app.post(
        path,
        Some(&current.token),
        json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
    )
    .await
    .expect(200);

    app.get("/api/v1/auth/me", Some(&current.token))
        .await
        .expect(200);
    app.get("/api/v1/auth/me", Some(&other.token))
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
    app.login(&email, PASSWORD)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    app.login(&email, NEW_PASSWORD).await.expect(200);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_frees_the_email() {
    let app = TestApp::spawn().await;
    let email = unique_email("delete");
    let user = app.register(&email).await;
    let other_session = app.login_user(&email).await;

    app.json(
        Method::DELETE,
        "/api/v1/users/me",
        Some(&user.token),
        json!({ "password": "not my password" }),
    )
    .await
    .expect_error(403, "INVALID_CREDENTIALS");
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);

    let response = app
        .json(
            Method::DELETE,
            "/api/v1/users/me",
            Some(&user.token),
            json!({ "password": PASSWORD }),
        )
        .await
        .expect(200);
    assert!(response.header("set-cookie").unwrap().contains("Max-Age=0"));

    for token in [&user.token, &other_session.token] {
        app.get("/api/v1/auth/me", Some(token))
            .await
            .expect_error(401, "AUTHENTICATION_REQUIRED");
    }
    app.login(&email, PASSWORD)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    let again = app.register(&email).await;
    assert_ne!(again.id, user.id);
}

#[tokio::test]
async fn deleting_needs_a_body_with_the_password() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("nobody")).await;
    app.json(
        Method::DELETE,
        "/api/v1/users/me",
        Some(&user.token),
        json!({}),
    )
    .await
    .expect_error(400, "VALIDATION_ERROR");
    app.call(Method::DELETE, "/api/v1/users/me", Some(&user.token))
        .await
        .expect_error(415, "UNSUPPORTED_MEDIA_TYPE");
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);
}
