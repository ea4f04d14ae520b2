//! Rate limits of API.md, and the Redis that instances share them (and sessions) through:
//! shared counters and revocations, a Redis that cannot be reached, and recovery after an outage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authy2_core::{AuditAction, AuditFilter, AuditOutcome, AuditScope, PageRequest};
use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::helpers::{PASSWORD, TestApp, TestResponse, redis_url, unique_email};

const WRONG: &str = "not the right password";

/// A server with the given variables set.
async fn spawn_with_vars(vars: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(|all| {
        for (name, value) in vars {
            all.insert((*name).into(), (*value).into());
        }
    })
    .await
}

/// Logs in as if from `client` behind a trusted proxy.
async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> TestResponse {
    app.send(
        app.request(Method::POST, "/api/v1/auth/login")
            .header("x-forwarded-for", client)
            .json(&json!({ "email": email, "password": password })),
    )
    .await
}

/// Asserts a 429 with a whole number of seconds in `Retry-After`, at most `window_secs`.
#[track_caller]
fn assert_limited(response: TestResponse, window_secs: u64) {
    let response = response.expect_error(429, "RATE_LIMITED");
    let retry_after = response.header("retry-after").expect("Retry-After header");
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not a number of seconds: {retry_after:?}"));
    assert!(
        (1..=window_secs).contains(&seconds),
        "Retry-After {seconds} for a {window_secs}s window"
    );
}

async fn change_password(app: &TestApp, token: &str, current: &str) -> TestResponse {
    app.post(
        "/api/v1/users/me/password",
        Some(token),
        json!({ "current_password": current, "new_password": "an entirely new passphrase" }),
    )
    .await
}

async fn rate_limited_events(app: &TestApp) -> Vec<authy2_core::AuditEvent> {
    let filter = AuditFilter {
        action: Some(AuditAction::AuthRateLimited),
        ..AuditFilter::scope(AuditScope::All)
    };
    app.state
        .store
        .list_audit_events(&filter, PageRequest::new(1, 100))
        .await
        .expect("audit events")
        .items
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn failed_logins_per_account_and_ip_are_limited_even_for_the_right_password() {
    let app = spawn_with_vars(&[
        ("RATE_LIMIT_LOGIN_FAILURES", "3"),
        ("RATE_LIMIT_LOGIN_FAILURES_WINDOW", "15m"),
    ])
    .await;
    let user = app.register(&unique_email("failures")).await;
    // Spellings of one address count as one account.
    for email in [
        user.email.clone(),
        user.email.to_uppercase(),
        format!("  {} ", user.email),
    ] {
        app.login(&email, WRONG)
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }

    let wrong = app.login(&user.email, WRONG).await;
    let right = app.login(&user.email, PASSWORD).await;

    assert_limited(wrong, 15 * 60);
    assert_limited(right, 15 * 60);
}

#[tokio::test]
async fn successful_logins_do_not_count_as_failures() {
    let app = spawn_with_vars(&[("RATE_LIMIT_LOGIN_FAILURES", "2")]).await;
    let user = app.register(&unique_email("successes")).await;
    app.login(&user.email, WRONG)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    for _ in 0..3 {
        app.login(&user.email, PASSWORD).await.expect(200);
    }

    let second_failure = app.login(&user.email, WRONG).await;
    let third_failure = app.login(&user.email, WRONG).await;

    second_failure.expect_error(401, "INVALID_CREDENTIALS");
    third_failure.expect_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn failed_logins_against_one_account_are_capped_across_ips() {
    let app = spawn_with_vars(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL", "3"),
    ])
    .await;
    let target = app.register(&unique_email("target")).await;
    let bystander = app.register(&unique_email("bystander")).await;
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        login_from(&app, client, &target.email, WRONG)
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }

    let fresh_ip = login_from(&app, "203.0.113.4", &target.email, PASSWORD).await;
    let other_account = login_from(&app, "203.0.113.4", &bystander.email, PASSWORD).await;

    fresh_ip.expect_error(429, "RATE_LIMITED");
    other_account.expect(200);
}

#[tokio::test]
async fn login_attempts_are_limited_per_ip_whatever_their_outcome() {
    let app = spawn_with_vars(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("RATE_LIMIT_LOGIN_ATTEMPTS", "3"),
    ])
    .await;
    let emails = [
        unique_email("a"),
        unique_email("b"),
        unique_email("c"),
        unique_email("d"),
    ];
    for email in &emails {
        app.register(email).await;
    }
    login_from(&app, "203.0.113.1", &emails[0], PASSWORD)
        .await
        .expect(200);
    login_from(&app, "203.0.113.1", &emails[1], WRONG)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    login_from(&app, "203.0.113.1", &emails[2], PASSWORD)
        .await
        .expect(200);

    let limited = login_from(&app, "203.0.113.1", &emails[3], PASSWORD).await;
    let other_ip = login_from(&app, "203.0.113.2", &emails[3], PASSWORD).await;

    assert_limited(limited, 60);
    other_ip.expect(200);
}

#[tokio::test]
async fn registrations_are_limited_per_ip() {
    let app = spawn_with_vars(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("RATE_LIMIT_REGISTRATIONS", "2"),
    ])
    .await;
    let register_from = |client: &'static str| {
        app.send(
            app.request(Method::POST, "/api/v1/auth/register")
                .header("x-forwarded-for", client)
                .json(&json!({ "email": unique_email("signup"), "password": PASSWORD })),
        )
    };
    register_from("203.0.113.1").await.expect(201);
    register_from("203.0.113.1").await.expect(201);

    let limited = register_from("203.0.113.1").await;
    let other_ip = register_from("203.0.113.2").await;

    assert_limited(limited, 60 * 60);
    other_ip.expect(201);
}

#[tokio::test]
async fn password_changes_and_deletions_are_limited_per_account() {
    let app = spawn_with_vars(&[("RATE_LIMIT_SENSITIVE_ACTIONS", "2")]).await;
    let user = app.register(&unique_email("sensitive")).await;
    let other = app.register(&unique_email("other")).await;
    for _ in 0..2 {
        change_password(&app, &user.token, WRONG)
            .await
            .expect_error(403, "INVALID_CREDENTIALS");
    }

    let change_limited = change_password(&app, &user.token, PASSWORD).await;
    let delete_limited = app
        .json(
            Method::DELETE,
            "/api/v1/users/me",
            Some(&user.token),
            json!({ "password": PASSWORD }),
        )
        .await;
    let other_account = change_password(&app, &other.token, PASSWORD).await;

    assert_limited(change_limited, 15 * 60);
    assert_limited(delete_limited, 15 * 60);
    other_account.expect(200);
    // Neither the change nor the deletion happened.
    app.login(&user.email, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn a_limit_hit_is_recorded_as_an_audit_event() {
    let app = spawn_with_vars(&[("RATE_LIMIT_LOGIN_FAILURES", "1")]).await;
    let user = app.register(&unique_email("audited")).await;
    app.login(&user.email, WRONG)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    assert!(rate_limited_events(&app).await.is_empty());

    let limited = app
        .login(&user.email, PASSWORD)
        .await
        .expect_error(429, "RATE_LIMITED");

    let events = rate_limited_events(&app).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event.outcome, AuditOutcome::Failure);
    assert_eq!(event.actor_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(event.subject_email.as_deref(), Some(user.email.as_str()));
    assert_eq!(event.request_id.as_deref(), limited.header("x-request-id"));
    assert_eq!(event.metadata["attempted_action"], "auth.login");
    assert!(event.metadata["limit"].is_string(), "{:?}", event.metadata);
    assert_eq!(
        event.target.as_ref().map(|t| t.id.as_str()),
        Some(user.id.as_str())
    );
}

#[tokio::test]
async fn hammering_a_limit_records_one_event_per_window_not_one_per_request() {
    let app = spawn_with_vars(&[("RATE_LIMIT_LOGIN_FAILURES", "1")]).await;
    let user = app.register(&unique_email("hammer")).await;
    app.login(&user.email, WRONG).await.expect(401);

    for _ in 0..5 {
        app.login(&user.email, WRONG)
            .await
            .expect_error(429, "RATE_LIMITED");
    }

    assert_eq!(rate_limited_events(&app).await.len(), 1);
}

#[tokio::test]
async fn ipv6_clients_are_limited_by_their_64_bit_prefix() {
    let app = spawn_with_vars(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("RATE_LIMIT_REGISTRATIONS", "1"),
    ])
    .await;
    let register_from = |client: &'static str| {
        let email = unique_email("v6");
        app.send(
            app.request(Method::POST, "/api/v1/auth/register")
                .header("x-forwarded-for", client)
                .json(&json!({ "email": email, "password": PASSWORD })),
        )
    };

    register_from("2001:db8:1:2::1").await.expect(201);
    // Another address of the same /64: the same client as far as limits go.
    assert_limited(register_from("2001:db8:1:2::ffff").await, 3600);
    // Another /64 is another client.
    register_from("2001:db8:1:3::1").await.expect(201);
}

#[tokio::test]
async fn a_limit_ends_with_its_window_and_never_locks_out_for_good() {
    // Redis keeps real time, which the test clock cannot move: there the window is a second.
    let is_redis = redis_url().is_some();
    let window = if is_redis { "1s" } else { "15m" };
    let app = spawn_with_vars(&[
        ("RATE_LIMIT_LOGIN_FAILURES", "1"),
        ("RATE_LIMIT_LOGIN_FAILURES_WINDOW", window),
    ])
    .await;
    let user = app.register(&unique_email("window")).await;
    app.login(&user.email, WRONG)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    app.login(&user.email, PASSWORD)
        .await
        .expect_error(429, "RATE_LIMITED");

    if is_redis {
        tokio::time::sleep(Duration::from_millis(1200)).await;
    } else {
        app.clock.advance(chrono::Duration::minutes(16));
    }

    app.login(&user.email, PASSWORD).await.expect(200);
    app.login(&user.email, WRONG)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
}

// ---------------------------------------------------------------------------------------------
// Redis shared by instances
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn instances_sharing_redis_share_rate_limit_counters() {
    if redis_url().is_none() {
        return;
    }
    let first = spawn_with_vars(&[("RATE_LIMIT_LOGIN_FAILURES", "2")]).await;
    let second = first.spawn_sibling(|_| {}).await;
    let user = first.register(&unique_email("shared")).await;
    first
        .login(&user.email, WRONG)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    second
        .login(&user.email, WRONG)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");

    let on_first = first.login(&user.email, PASSWORD).await;
    let on_second = second.login(&user.email, PASSWORD).await;

    on_first.expect_error(429, "RATE_LIMITED");
    on_second.expect_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn a_session_revoked_on_one_instance_is_refused_by_the_other_at_once() {
    if redis_url().is_none() {
        return;
    }
    let first = TestApp::spawn().await;
    let second = first.spawn_sibling(|_| {}).await;
    let user = first.register(&unique_email("revoked")).await;
    let other_device = first.login_user(&user.email).await;
    second
        .get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);

    // Revoked from the other device, logged out on its own: either way it is gone everywhere.
    first
        .call(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{}", user.session_id),
            Some(&other_device.token),
        )
        .await
        .expect(200);
    first
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&other_device.token),
        )
        .await
        .expect(200);

    for token in [&user.token, &other_device.token] {
        second
            .get("/api/v1/auth/me", Some(token))
            .await
            .expect_error(401, "AUTHENTICATION_REQUIRED");
    }
}

#[tokio::test]
async fn an_unreachable_redis_makes_sign_in_and_sessions_unavailable_never_open() {
    if redis_url().is_none() {
        return;
    }
    let app = TestApp::spawn_with(|vars: &mut HashMap<String, String>| {
        // Nothing listens on port 1.
        vars.insert("REDIS_URL".into(), "redis://127.0.0.1:1".into());
    })
    .await;
    let well_formed_token = "A".repeat(43);

    let login = app.login("someone@example.com", PASSWORD).await;
    let register = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": unique_email("down"), "password": PASSWORD }),
        )
        .await;
    let me = app.get("/api/v1/auth/me", Some(&well_formed_token)).await;

    login.expect_error(503, "SERVICE_UNAVAILABLE");
    register.expect_error(503, "SERVICE_UNAVAILABLE");
    me.expect_error(503, "SERVICE_UNAVAILABLE");
}

#[tokio::test]
async fn sessions_work_again_when_redis_comes_back_without_a_restart() {
    let Some(url) = redis_url() else {
        return;
    };
    let proxy = RedisProxy::start(&url).await;
    let app = TestApp::spawn_with(|vars| {
        vars.insert("REDIS_URL".into(), proxy.url.clone());
    })
    .await;
    let user = app.register(&unique_email("outage")).await;
    app.get("/api/v1/auth/me", Some(&user.token))
        .await
        .expect(200);

    proxy.go_down().await;
    let during_me = app.get("/api/v1/auth/me", Some(&user.token)).await;
    let during_login = app.login(&user.email, PASSWORD).await;
    proxy.come_back();
    let after = me_once_reconnected(&app, &user.token).await;

    during_me.expect_error(503, "SERVICE_UNAVAILABLE");
    during_login.expect_error(503, "SERVICE_UNAVAILABLE");
    assert_eq!(after.expect(200).data()["user"]["id"], user.id.as_str());
}

/// `GET /auth/me` until the server has reconnected to Redis; until then only a 503 is fair.
async fn me_once_reconnected(app: &TestApp, token: &str) -> TestResponse {
    let mut attempts = 0;
    loop {
        let response = app.get("/api/v1/auth/me", Some(token)).await;
        attempts += 1;
        if response.status != 503 || attempts == 40 {
            return response;
        }
        response.expect_error(503, "SERVICE_UNAVAILABLE");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A TCP proxy in front of the real Redis. Switched off, it closes every connection it carries
/// and drops new ones as soon as they arrive, as a Redis that went away would.
struct RedisProxy {
    /// `REDIS_URL` pointing at the proxy.
    url: String,
    state: Arc<Mutex<ProxyState>>,
    accept_loop: JoinHandle<()>,
}

struct ProxyState {
    is_up: bool,
    connections: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl RedisProxy {
    async fn start(redis_url: &str) -> RedisProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let (url, target) = redirect(redis_url, port);
        let state = Arc::new(Mutex::new(ProxyState {
            is_up: true,
            connections: CancellationToken::new(),
            tasks: Vec::new(),
        }));
        let shared = state.clone();
        let accept_loop = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = shared.lock().expect("proxy state");
                if !state.is_up {
                    continue; // dropping `client` closes it
                }
                let closed = state.connections.clone();
                let target = target.clone();
                state.tasks.push(tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        biased;
                        () = closed.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                }));
            }
        });
        RedisProxy {
            url,
            state,
            accept_loop,
        }
    }

    /// Closes every proxied connection (and waits until they are closed); refuses new ones.
    async fn go_down(&self) {
        let tasks = {
            let mut state = self.state.lock().expect("proxy state");
            state.is_up = false;
            state.connections.cancel();
            state.connections = CancellationToken::new();
            std::mem::take(&mut state.tasks)
        };
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Accepts and forwards connections again.
    fn come_back(&self) {
        self.state.lock().expect("proxy state").is_up = true;
    }
}

impl Drop for RedisProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
        if let Ok(state) = self.state.lock() {
            state.connections.cancel();
        }
    }
}

/// `redis_url` with its host and port replaced by the proxy's, and the `host:port` it named.
fn redirect(redis_url: &str, proxy_port: u16) -> (String, String) {
    let (scheme, rest) = redis_url.split_once("://").expect("REDIS_URL has a scheme");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((credentials, host_port)) => (format!("{credentials}@"), host_port),
        None => (String::new(), authority),
    };
    let target = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    };
    (
        format!("{scheme}://{credentials}127.0.0.1:{proxy_port}/{path}"),
        target,
    )
}
