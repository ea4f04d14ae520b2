//! Browser-facing defences of API.md: security headers, CORS, the CSRF check for cookie
//! sessions, which client IP counts, and input refused before it costs anything.

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResponse, TestUser, unique_email};

/// The one origin the CORS tests allow.
const ALLOWED_ORIGIN: &str = "https://app.example.com";
/// An origin nobody allowed.
const FOREIGN_ORIGIN: &str = "https://evil.example.com";
/// The CSP of API.md for JSON responses.
const JSON_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

// ---------------------------------------------------------------------------------------------
// Security headers
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn assert_security_headers(headers: &HeaderMap, what: &str) {
    let expected = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("content-security-policy", JSON_CSP),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    for (name, value) in expected {
        let actual = headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(actual, Some(value), "{name} on {what}");
    }
}

#[track_caller]
fn assert_not_cached(response: &TestResponse, what: &str) {
    assert_eq!(
        response.header("cache-control"),
        Some("no-store"),
        "cache-control on {what}"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("RATE_LIMIT_LOGIN_ATTEMPTS".into(), "1".into());
    })
    .await;
    let user = app.register(&unique_email("headers")).await;

    let health = app.get("/api/health", None).await.expect(200);
    let profile = app
        .get("/api/v1/users/me", Some(&user.token))
        .await
        .expect(200);
    let unauthenticated = app
        .get("/api/v1/auth/me", None)
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");
    let not_found = app
        .get("/api/v1/users/nothing-here", None)
        .await
        .expect_error(404, "NOT_FOUND");
    let wrong_method = app
        .call(Method::PUT, "/api/v1/auth/login", None)
        .await
        .expect_error(405, "METHOD_NOT_ALLOWED");
    app.login(&user.email, PASSWORD).await.expect(200);
    let limited = app
        .login(&user.email, PASSWORD)
        .await
        .expect_error(429, "RATE_LIMITED");

    assert_security_headers(&health.headers, "a success outside /api/v1");
    for (response, what) in [
        (&profile, "a success"),
        (&unauthenticated, "a 401"),
        (&not_found, "a 404"),
        (&wrong_method, "a 405"),
        (&limited, "a 429"),
    ] {
        assert_security_headers(&response.headers, what);
        assert_not_cached(response, what);
        assert!(
            response.header("strict-transport-security").is_none(),
            "HSTS outside production on {what}"
        );
    }
}

#[tokio::test]
async fn production_adds_hsts_and_marks_the_session_cookie_secure() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("APP_ENV".into(), "production".into());
        vars.insert(
            "SECRET_KEY".into(),
            "a-production-secret-of-at-least-32-bytes".into(),
        );
    })
    .await;

    let registered = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": unique_email("prod"), "password": PASSWORD }),
        )
        .await
        .expect(201);
    let not_found = app
        .get("/api/v1/nothing-here", None)
        .await
        .expect_error(404, "NOT_FOUND");

    let cookie = registered.header("set-cookie").expect("session cookie");
    assert!(
        cookie
            .split(';')
            .any(|attribute| attribute.trim() == "Secure"),
        "{cookie}"
    );
    for response in [&registered, &not_found] {
        assert_security_headers(&response.headers, "a production response");
        let hsts = response
            .header("strict-transport-security")
            .expect("HSTS in production");
        let max_age: u64 = hsts
            .split(';')
            .find_map(|directive| directive.trim().strip_prefix("max-age="))
            .and_then(|seconds| seconds.parse().ok())
            .unwrap_or_else(|| panic!("no max-age in {hsts:?}"));
        assert!(max_age >= 31_536_000, "{hsts}");
        assert!(hsts.contains("includeSubDomains"), "{hsts}");
    }
}

// ---------------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------------

async fn spawn_with_cors() -> TestApp {
    TestApp::spawn_with(|vars| {
        vars.insert("CORS_ALLOWED_ORIGINS".into(), ALLOWED_ORIGIN.into());
    })
    .await
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every `Vary` value, lowercased and joined.
fn vary(headers: &HeaderMap) -> String {
    headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase()
}

#[tokio::test]
async fn an_allowed_origin_is_echoed_with_credentials_never_as_a_wildcard() {
    let app = spawn_with_cors().await;
    let user = app.register(&unique_email("cors")).await;

    let success = app
        .send(
            app.request(Method::GET, "/api/v1/users/me")
                .bearer_auth(&user.token)
                .header("origin", ALLOWED_ORIGIN),
        )
        .await
        .expect(200);
    let failure = app
        .send(
            app.request(Method::GET, "/api/v1/auth/me")
                .header("origin", ALLOWED_ORIGIN),
        )
        .await
        .expect_error(401, "AUTHENTICATION_REQUIRED");

    // A browser shows the client the body of errors only when they carry the CORS headers too.
    assert_cors_allowed(&success, "a success");
    assert_cors_allowed(&failure, "a 401");
}

#[tokio::test]
async fn errors_the_router_itself_produces_keep_their_cors_headers() {
    let app = spawn_with_cors().await;

    let wrong_method = app
        .send(
            app.request(Method::PUT, "/api/v1/auth/login")
                .header("origin", ALLOWED_ORIGIN),
        )
        .await
        .expect_error(405, "METHOD_NOT_ALLOWED");

    assert_cors_allowed(&wrong_method, "a 405");
}

#[track_caller]
fn assert_cors_allowed(response: &TestResponse, what: &str) {
    assert_eq!(
        header(&response.headers, "access-control-allow-origin"),
        Some(ALLOWED_ORIGIN),
        "{what}"
    );
    assert_eq!(
        header(&response.headers, "access-control-allow-credentials"),
        Some("true"),
        "{what}"
    );
    assert!(
        vary(&response.headers).contains("origin"),
        "Vary on {what}: {:?}",
        vary(&response.headers)
    );
}

#[tokio::test]
async fn other_origins_get_no_cors_headers() {
    let app = spawn_with_cors().await;
    let near_misses = [
        FOREIGN_ORIGIN,
        "http://app.example.com",
        "https://app.example.com.evil.com",
        "https://app.example.com:8443",
        "null",
    ];
    for origin in near_misses {
        let response = app
            .send(
                app.request(Method::GET, "/api/health")
                    .header("origin", origin),
            )
            .await
            .expect(200);
        assert!(
            response.header("access-control-allow-origin").is_none(),
            "{origin} was allowed"
        );
    }
}

#[tokio::test]
async fn a_preflight_from_the_allowed_origin_is_answered_with_the_cors_headers() {
    let app = spawn_with_cors().await;
    let preflight = |origin: &str| {
        app.request(Method::OPTIONS, "/api/v1/auth/login")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };

    let allowed = preflight(ALLOWED_ORIGIN).await.expect("preflight answered");
    let foreign = preflight(FOREIGN_ORIGIN).await.expect("preflight answered");

    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(
        header(headers, "access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        header(headers, "access-control-allow-credentials"),
        Some("true")
    );
    let methods = header(headers, "access-control-allow-methods").unwrap_or("");
    assert!(methods.contains("POST"), "{methods:?}");
    let allowed_headers = header(headers, "access-control-allow-headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("content-type"),
        "{allowed_headers:?}"
    );
    assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"));
    assert!(header(foreign.headers(), "access-control-allow-origin").is_none());
}

// ---------------------------------------------------------------------------------------------
// CSRF
// ---------------------------------------------------------------------------------------------

fn with_cookie(request: RequestBuilder, user: &TestUser) -> RequestBuilder {
    request.header("cookie", format!("authy_session={}", user.token))
}

/// `PATCH /users/me` with the session cookie and the given extra headers.
fn rename_with_cookie(
    app: &TestApp,
    user: &TestUser,
    name: &str,
    headers: &[(&str, &str)],
) -> RequestBuilder {
    let mut request = with_cookie(app.request(Method::PATCH, "/api/v1/users/me"), user)
        .json(&json!({ "name": name }));
    for (header, value) in headers {
        request = request.header(*header, *value);
    }
    request
}

async fn name_of(app: &TestApp, user: &TestUser) -> Value {
    app.get("/api/v1/users/me", Some(&user.token))
        .await
        .expect(200)
        .data()["name"]
        .clone()
}

#[tokio::test]
async fn unsafe_cookie_requests_from_a_foreign_origin_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("csrf")).await;
    let name_before = name_of(&app, &user).await;
    let origin = [("origin", FOREIGN_ORIGIN)];

    let rename = app
        .send(rename_with_cookie(&app, &user, "x", &origin))
        .await;
    let logout = app
        .send(
            with_cookie(app.request(Method::POST, "/api/v1/auth/logout"), &user)
                .header("origin", FOREIGN_ORIGIN),
        )
        .await;
    let delete = app
        .send(
            with_cookie(app.request(Method::DELETE, "/api/v1/users/me"), &user)
                .header("origin", FOREIGN_ORIGIN)
                .json(&json!({ "password": PASSWORD })),
        )
        .await;

    for (response, what) in [(rename, "PATCH"), (logout, "POST"), (delete, "DELETE")] {
        assert_eq!(response.status, 403, "{what}: {}", response.body);
        assert_eq!(response.error_type(), "CSRF_FAILED", "{what}");
    }
    assert_eq!(name_of(&app, &user).await, name_before);
    // Neither logged out nor deleted.
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);
}

#[tokio::test]
async fn a_foreign_referer_or_an_opaque_origin_is_refused_too() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("csrf-referer")).await;
    let name_before = name_of(&app, &user).await;
    let own_page = format!("{}/account", app.address);
    let cases: [&[(&str, &str)]; 4] = [
        &[("referer", "https://evil.example.com/page")],
        &[("origin", "null")],
        &[("origin", "null"), ("referer", &own_page)],
        // The Origin decides; a Referer cannot vouch for a foreign Origin.
        &[("origin", FOREIGN_ORIGIN), ("referer", &own_page)],
    ];

    for headers in cases {
        app.send(rename_with_cookie(&app, &user, "x", headers))
            .await
            .expect_error(403, "CSRF_FAILED");
    }

    assert_eq!(name_of(&app, &user).await, name_before);
}

#[tokio::test]
async fn own_and_allowed_origins_and_clients_without_either_header_pass() {
    let app = spawn_with_cors().await;
    let user = app.register(&unique_email("csrf-pass")).await;
    let own_page = format!("{}/account", app.address);
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("own origin", &[("origin", app.address.as_str())]),
        ("own referer", &[("referer", &own_page)]),
        ("allowed origin", &[("origin", ALLOWED_ORIGIN)]),
        ("no header", &[]),
    ];

    for (case, headers) in cases {
        let response = app
            .send(rename_with_cookie(&app, &user, case, headers))
            .await
            .expect(200);
        assert_eq!(response.data()["name"], case);
    }

    assert_eq!(name_of(&app, &user).await, "no header");
}

#[tokio::test]
async fn bearer_requests_and_safe_methods_are_not_checked() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("csrf-bearer")).await;

    let bearer = app
        .send(
            app.request(Method::PATCH, "/api/v1/users/me")
                .bearer_auth(&user.token)
                .header("origin", FOREIGN_ORIGIN)
                .json(&json!({ "name": "Bearer" })),
        )
        .await;
    let get = app
        .send(
            with_cookie(app.request(Method::GET, "/api/v1/users/me"), &user)
                .header("origin", FOREIGN_ORIGIN),
        )
        .await;

    assert_eq!(bearer.expect(200).data()["name"], "Bearer");
    assert_eq!(get.expect(200).data()["id"], user.id.as_str());
}

// ---------------------------------------------------------------------------------------------
// Client IP
// ---------------------------------------------------------------------------------------------

/// Logs in with `X-Forwarded-For: forwarded_for`; returns the answer.
async fn login_from(
    app: &TestApp,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> TestResponse {
    app.send(
        app.request(Method::POST, "/api/v1/auth/login")
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({ "email": email, "password": password })),
    )
    .await
}

async fn session_ip(app: &TestApp, login: &TestResponse) -> Value {
    let token = login.data()["session"]["token"].as_str().expect("token");
    app.get("/api/v1/auth/me", Some(token))
        .await
        .expect(200)
        .data()["session"]["ip_address"]
        .clone()
}

fn behind_proxy(
    limit_failures: Option<&str>,
) -> impl FnOnce(&mut std::collections::HashMap<String, String>) {
    let limit = limit_failures.map(str::to_owned);
    move |vars| {
        vars.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
        if let Some(limit) = limit {
            vars.insert("RATE_LIMIT_LOGIN_FAILURES".into(), limit);
        }
    }
}

#[tokio::test]
async fn without_a_trusted_proxy_x_forwarded_for_is_ignored() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("xff")).await;

    let login = login_from(&app, "203.0.113.7", &user.email, PASSWORD)
        .await
        .expect(200);

    assert_eq!(session_ip(&app, &login).await, "127.0.0.1");
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_does_not_escape_a_rate_limit() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("RATE_LIMIT_LOGIN_FAILURES".into(), "2".into());
    })
    .await;
    let user = app.register(&unique_email("spoof")).await;
    for forwarded in ["203.0.113.1", "203.0.113.2"] {
        login_from(&app, forwarded, &user.email, "wrong password")
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }

    let response = login_from(&app, "203.0.113.3", &user.email, PASSWORD).await;

    response.expect_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_used() {
    let app = TestApp::spawn_with(behind_proxy(None)).await;
    let user = app.register(&unique_email("proxied")).await;
    // The right-most hop that is not a trusted proxy is the client; what it claims is not.
    let cases = [
        ("203.0.113.7", "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),
        ("203.0.113.9, 127.0.0.1", "203.0.113.9"),
    ];

    for (forwarded_for, client) in cases {
        let login = login_from(&app, forwarded_for, &user.email, PASSWORD)
            .await
            .expect(200);
        assert_eq!(
            login.data()["session"]["ip_address"],
            client,
            "{forwarded_for}"
        );
        assert_eq!(session_ip(&app, &login).await, client, "{forwarded_for}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_limited_separately() {
    let app = TestApp::spawn_with(behind_proxy(Some("2"))).await;
    let user = app.register(&unique_email("separate")).await;
    for _ in 0..2 {
        login_from(&app, "203.0.113.1", &user.email, "wrong password")
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }

    let limited = login_from(&app, "203.0.113.1", &user.email, PASSWORD).await;
    let other_client = login_from(&app, "203.0.113.2", &user.email, PASSWORD).await;

    limited.expect_error(429, "RATE_LIMITED");
    let login = other_client.expect(200);
    assert_eq!(login.data()["session"]["ip_address"], "203.0.113.2");
}

// ---------------------------------------------------------------------------------------------
// Resource limits
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_overlong_login_password_is_refused_before_it_is_counted_or_hashed() {
    // One login attempt per IP: if the refusals below reached the limiter (which comes before
    // hashing), the real login afterwards would be rate limited.
    let app = TestApp::spawn_with(|vars| {
        vars.insert("RATE_LIMIT_LOGIN_ATTEMPTS".into(), "1".into());
    })
    .await;
    let user = app.register(&unique_email("overlong")).await;

    for password in ["p".repeat(129), "ж".repeat(129), "p".repeat(60_000)] {
        let response = app
            .login(&user.email, &password)
            .await
            .expect_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["error"]["details"]["password"].is_array(),
            "{}",
            response.body
        );
    }

    app.login(&user.email, PASSWORD).await.expect(200);
}
