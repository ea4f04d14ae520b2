//! Register, login, logout, me: API.md's "Authentication".

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, unique_email};

#[tokio::test]
async fn register_creates_an_account_and_a_session() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": "  Ada.Lovelace@Example.COM ", "password": PASSWORD, "name": "Ada" }),
        )
        .await
        .expect(201);
    let user = &response.data()["user"];
    assert_eq!(user["email"], "Ada.Lovelace@Example.COM");
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password_hash").is_none());
    let session = &response.data()["session"];
    let token = session["token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert_eq!(session["auth_method"], "password");
    assert_eq!(session["current"], true);

    let cookie = response.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with(&format!("authy_session={token};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "not production: {cookie}");

    let me = app.get("/api/v1/auth/me", Some(token)).await.expect(200);
    assert_eq!(me.data()["user"]["id"], user["id"]);
}

#[tokio::test]
async fn the_same_email_in_another_case_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.register("grace@example.com").await;
    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": "GRACE@example.com", "password": PASSWORD }),
        )
        .await
        .expect_error(409, "CONFLICT");
    assert!(response.body["error"]["details"]["email"].is_array());
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_make_exactly_one_account() {
    let app = TestApp::spawn().await;
    let attempts = (0..8).map(|i| {
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        app.post(
            "/api/v1/auth/register",
            None,
            json!({ "email": email, "password": PASSWORD }),
        )
    });
    let responses = futures_util::future::join_all(attempts).await;
    let created = responses.iter().filter(|r| r.status == 201).count();
    let conflicts = responses.iter().filter(|r| r.status == 409).count();
    assert_eq!((created, conflicts), (1, 7));
}

#[tokio::test]
async fn registration_rules_are_reported_per_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({ "email": "not-an-email", "password": PASSWORD }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "x".repeat(129) }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "password123" }),
            "password",
        ),
        (
            json!({ "email": "margaret.hamilton@example.com", "password": "I am Margaret.Hamilton!" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "name": "n".repeat(101) }),
            "name",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .post("/api/v1/auth/register", None, body.clone())
            .await
            .expect_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["error"]["details"][field].is_array(),
            "{body} → {}",
            response.body
        );
    }
    // Several bad fields are reported together.
    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": "bad", "password": "short", "name": "n".repeat(101) }),
        )
        .await
        .expect_error(400, "VALIDATION_ERROR");
    let details = response.body["error"]["details"].as_object().unwrap();
    assert_eq!(details.len(), 3, "{details:?}");
}

#[tokio::test]
async fn passwords_count_characters_not_bytes() {
    let app = TestApp::spawn().await;
    // 128 two-byte characters: 256 bytes, but within the limit.
    let password = "ж".repeat(128);
    app.post(
        "/api/v1/auth/register",
        None,
        json!({ "email": "cyril@example.com", "password": password }),
    )
    .await
    .expect(201);
    app.login("cyril@example.com", &password).await.expect(200);
}

#[tokio::test]
async fn login_matches_email_case_insensitively_and_password_exactly() {
    let app = TestApp::spawn().await;
    app.register("katherine@example.com").await;
    let response = app
        .login("  KATHERINE@example.com ", PASSWORD)
        .await
        .expect(200);
    assert!(response.data()["session"]["token"].is_string());
    assert!(response.data()["user"]["last_login_at"].is_string());
    assert!(
        response
            .header("set-cookie")
            .unwrap()
            .starts_with("authy_session=")
    );

    for wrong in [
        " correct horse battery staple",
        "correct horse battery staple ",
        "CORRECT HORSE BATTERY STAPLE",
    ] {
        app.login("katherine@example.com", wrong)
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.register("dorothy@example.com").await;
    let wrong_password = app
        .login("dorothy@example.com", "not the right password")
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    let unknown_email = app
        .login("nobody@example.com", "not the right password")
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    let strip = |mut body: serde_json::Value| {
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    assert_eq!(strip(wrong_password.body), strip(unknown_email.body));
}

#[tokio::test]
async fn an_email_no_account_can_have_is_simply_wrong_credentials() {
    let app = TestApp::spawn().await;
    let overlong = format!("{}@example.com", "x".repeat(300));
    for email in [
        "nul\u{0}@example.com",
        "   ",
        overlong.as_str(),
        "no-at-sign",
    ] {
        app.login(email, "some password here")
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }
}

#[tokio::test]
async fn an_overlong_login_password_is_refused_before_hashing() {
    let app = TestApp::spawn().await;
    app.login("x@example.com", &"p".repeat(129))
        .await
        .expect_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("logout")).await;
    let response = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&user.token))
        .await
        .expect(200);
    let cookie = response.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("authy_session=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
    // A second logout with the dead token still clears the cookie.
    let response = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&user.token))
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
    assert!(response.header("set-cookie").unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn the_cookie_authenticates_like_the_bearer_token() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("cookie")).await;
    let request = app.request(Method::GET, "/api/v1/auth/me").header(
        "cookie",
        format!("theme=dark; authy_session={}", user.token),
    );
    let response = app.send(request).await.expect(200);
    assert_eq!(response.data()["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn bad_credentials_on_requests_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("creds")).await;
    let headers = [
        ("authorization", format!("Basic {}", user.token)),
        ("authorization", "Bearer".to_owned()),
        ("authorization", "Bearer not-a-token".to_owned()),
        ("authorization", format!("Bearer {}x", user.token)),
        ("cookie", "authy_session=garbage".to_owned()),
    ];
    for (name, value) in headers {
        let request = app
            .request(Method::GET, "/api/v1/auth/me")
            .header(name, &value);
        app.send(request)
            .await
            .expect_error(401, "AUTHENTICATION_REQUIRED");
    }
    // A token in the query string is never accepted.
    app.get(&format!("/api/v1/auth/me?token={}", user.token), None)
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
    app.get(
        &format!("/api/v1/auth/me?access_token={}", user.token),
        None,
    )
    .await
    .expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn an_imported_bcrypt_hash_works_and_is_upgraded_to_argon2id() {
    let app = TestApp::spawn().await;
    let hash = bcrypt::hash("flask-era password", 4).unwrap();
    let line = format!(r#"{{"email":"legacy@example.com","password_hash":"{hash}"}}"#);
    let report = authy2::commands::import_from(line.as_bytes(), &app.state)
        .await
        .unwrap();
    assert_eq!(report.inserted, 1);

    app.login("legacy@example.com", "flask-era password")
        .await
        .expect(200);
    let stored = app
        .state
        .store
        .find_credentials("legacy@example.com")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(
        stored.as_str().starts_with("$argon2id$"),
        "hash was not upgraded"
    );
    // Still the same password after the upgrade.
    app.login("legacy@example.com", "flask-era password")
        .await
        .expect(200);
    app.login("legacy@example.com", "flask-era passwort")
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn bcrypt_never_lets_two_passwords_that_differ_after_byte_72_both_pass() {
    let app = TestApp::spawn().await;
    let prefix = "a".repeat(72);
    // What the old service stored for any password starting with these 72 bytes.
    let hash = bcrypt::hash(format!("{prefix}first"), 4).unwrap();
    let line = format!(r#"{{"email":"long@example.com","password_hash":"{hash}"}}"#);
    authy2::commands::import_from(line.as_bytes(), &app.state)
        .await
        .unwrap();
    for password in [format!("{prefix}first"), format!("{prefix}second")] {
        app.login("long@example.com", &password)
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }
    // Exactly 72 bytes is within bcrypt's range and works.
    let hash = bcrypt::hash(&prefix, 4).unwrap();
    let line = format!(r#"{{"email":"exact@example.com","password_hash":"{hash}"}}"#);
    authy2::commands::import_from(line.as_bytes(), &app.state)
        .await
        .unwrap();
    app.login("exact@example.com", &prefix).await.expect(200);
}
