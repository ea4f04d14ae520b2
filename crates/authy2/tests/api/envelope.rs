//! The envelope of API.md on every kind of failure the framework itself produces, and the
//! request-id rules.

use axum::routing::get;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, check_envelope};

#[tokio::test]
async fn unknown_routes_answer_404_in_the_envelope() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/nothing-here", None)
        .await
        .expect_error(404, "NOT_FOUND");
    app.get("/", None).await.expect_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn wrong_methods_answer_405_with_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let response = app
        .call(Method::PUT, "/api/v1/auth/login", None)
        .await
        .expect_error(405, "METHOD_NOT_ALLOWED");
    assert!(
        response
            .header("allow")
            .is_some_and(|allow| allow.contains("POST"))
    );
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let app = TestApp::spawn().await;
    for body in [
        "{",
        "{\"email\": }",
        "not json",
        "",
        "{\"email\":\"a@example.com\",\"password\":\"x\"} trailing",
    ] {
        let request = app
            .request(Method::POST, "/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(body);
        app.send(request).await.expect_error(400, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_unsupported() {
    let app = TestApp::spawn().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .request(Method::POST, "/api/v1/auth/login")
            .body(r#"{"email":"a@example.com","password":"whatever12"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        app.send(request)
            .await
            .expect_error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    // Parameters and structured suffixes are still JSON.
    let request = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"email":"a@example.com","password":"whatever12"}"#);
    app.send(request)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_by_length_and_on_the_stream() {
    let app = TestApp::spawn().await;
    let big = format!(
        r#"{{"email":"a@example.com","password":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let request = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(big.clone());
    app.send(request)
        .await
        .expect_error(413, "PAYLOAD_TOO_LARGE");

    // Chunked, without Content-Length: only the stream can tell.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .into_bytes()
        .chunks(8 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    let request = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream));
    app.send(request)
        .await
        .expect_error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn unknown_fields_are_rejected_by_name() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": "a@example.com", "password": "correct horse battery", "email_verified": true }),
        )
        .await
        .expect_error(400, "VALIDATION_ERROR");
    assert!(
        response.body["error"]["details"]["email_verified"].is_array(),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn missing_and_mistyped_fields_are_named() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "password": "correct horse battery" }),
        )
        .await
        .expect_error(400, "VALIDATION_ERROR");
    assert_eq!(response.body["error"]["details"]["email"][0], "is required");

    let response = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({ "email": 42, "password": "correct horse battery" }),
        )
        .await
        .expect_error(400, "VALIDATION_ERROR");
    assert_eq!(
        response.body["error"]["details"]["email"][0],
        "must be a string"
    );

    let response = app
        .post("/api/v1/auth/register", None, json!([1, 2]))
        .await
        .expect_error(400, "VALIDATION_ERROR");
    assert!(
        response.body["error"]["details"]["body"].is_array(),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn deeply_nested_json_is_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let body = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let request = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(body);
    app.send(request).await.expect_error(400, "BAD_REQUEST");
}

#[tokio::test]
async fn a_valid_incoming_request_id_is_echoed() {
    let app = TestApp::spawn().await;
    let request = app
        .request(Method::GET, "/api/health")
        .header("x-request-id", "trace.abc_123-XYZ");
    let response = app.send(request).await.expect(200);
    assert_eq!(response.header("x-request-id"), Some("trace.abc_123-XYZ"));
    assert_eq!(response.body["request_id"], "trace.abc_123-XYZ");
}

#[tokio::test]
async fn an_invalid_or_missing_request_id_is_replaced_by_a_uuid() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(129);
    for incoming in [
        Some("has space"),
        Some("semi;colon"),
        Some(too_long.as_str()),
        Some(""),
        None,
    ] {
        let mut request = app.request(Method::GET, "/api/health");
        if let Some(incoming) = incoming {
            request = request.header("x-request-id", incoming);
        }
        let response = app.send(request).await.expect(200);
        let id = response.header("x-request-id").unwrap_or_default();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{incoming:?} gave {id}");
        assert_ne!(Some(id), incoming);
    }
    let at_limit = "b".repeat(128);
    let request = app
        .request(Method::GET, "/api/health")
        .header("x-request-id", &at_limit);
    let response = app.send(request).await.expect(200);
    assert_eq!(response.header("x-request-id"), Some(at_limit.as_str()));
}

async fn boom() -> &'static str {
    panic!("deliberate test panic")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let routes = axum::Router::new().route("/boom", get(boom)).route(
        "/fine",
        get(|| async { authy2::http::envelope::ApiResponse::ok("fine", json!({})) }),
    );
    let router = authy2::http::with_middleware(routes, app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(authy2::server::serve(
        listener,
        router,
        tokio_util::sync::CancellationToken::new(),
        std::time::Duration::from_secs(1),
    ));

    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client.get(format!("{base}/boom")).send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body: serde_json::Value = response.json().await.unwrap();
        check_envelope(status, &headers, &body);
        assert_eq!(status, 500);
        assert_eq!(body["error"]["type"], "INTERNAL_ERROR");
        assert!(
            !body.to_string().contains("deliberate"),
            "panic text leaked: {body}"
        );
    }
    let response = client.get(format!("{base}/fine")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn oversized_request_heads_are_refused_before_the_application() {
    let app = TestApp::spawn().await;
    let request = app
        .request(Method::GET, "/api/v1/auth/me")
        .header("x-padding", "p".repeat(20 * 1024));
    let response = app.send(request).await.expect_error(431, "BAD_REQUEST");
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));

    // Past the field count, hyper refuses before any of our code runs.
    let mut many = reqwest::Client::new().get(format!("{}/api/health", app.address));
    for i in 0..80 {
        many = many.header(format!("x-header-{i}"), "v");
    }
    let status = many.send().await.map(|r| r.status().as_u16());
    assert!(matches!(status, Err(_) | Ok(431)), "{status:?}");

    app.get("/api/health", None).await.expect(200);
}
