//! The outermost middleware: gives each request its id, client IP and tracing span, makes
//! sure every failure leaves as an envelope (the router's own 404/405, timeouts, panics), and
//! adds the request id and security headers to every response.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use authy2_core::AuditContext;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use tracing::Instrument;

use super::envelope::{Enveloped, REQUEST_ID, error_response};
use super::security;
use crate::state::AppState;

/// Longest user agent kept for sessions and audit events.
const MAX_USER_AGENT_CHARS: usize = 512;
/// Longest accepted incoming request id.
const MAX_REQUEST_ID_LEN: usize = 128;
/// Largest total size of a request's header names and values.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// What every handler may want to know about the request it serves.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The request id, as echoed in `X-Request-ID`.
    pub request_id: String,
    /// The client address per the trusted-proxy rules.
    pub client_ip: Option<IpAddr>,
    /// The client's user agent, truncated.
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// The facts an audit event records about the request.
    pub fn audit(&self) -> AuditContext {
        AuditContext {
            request_id: Some(self.request_id.clone()),
            ip_address: self.client_ip_string(),
            user_agent: self.user_agent.clone(),
        }
    }

    /// The client address as text.
    pub fn client_ip_string(&self) -> Option<String> {
        self.client_ip.map(|ip| ip.to_string())
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestContext {
    type Rejection = super::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| {
                super::ApiError::Internal("request context middleware is missing".into())
            })
    }
}

/// Accepts a client's request id when it is 1–128 characters of `[A-Za-z0-9._-]`.
pub fn accept_request_id(value: &str) -> Option<&str> {
    let valid = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    valid.then_some(value)
}

/// The middleware itself.
pub async fn request_context(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .and_then(accept_request_id)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let client_ip =
        super::client_ip::resolve(peer, request.headers(), &state.config.trusted_proxies);
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    request.extensions_mut().insert(RequestContext {
        request_id: request_id.clone(),
        client_ip,
        user_agent,
    });

    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = %route,
        client_ip = client_ip.map(tracing::field::display),
    );
    let mut response = if header_bytes > MAX_HEADER_BYTES {
        error_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "BAD_REQUEST",
            "Request headers are too large",
            json!({ "limit_bytes": MAX_HEADER_BYTES }),
            request_id.clone(),
        )
    } else {
        REQUEST_ID
            .scope(request_id.clone(), next.run(request))
            .instrument(span.clone())
            .await
    };

    if response.status().as_u16() >= 400
        && response.extensions().get::<Enveloped>().is_none()
        && !security::is_docs_path(&path)
    {
        response = envelope_bare_error(response, request_id.clone());
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    security::add_headers(&mut response, &path, state.config.is_production());

    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, duration_ms, "request failed");
        } else {
            tracing::info!(status, duration_ms, "request completed");
        }
    });
    response
}

/// Wraps a response that some layer below produced without an envelope.
fn envelope_bare_error(bare: Response, request_id: String) -> Response {
    let status = bare.status();
    let (kind, message) = match status {
        StatusCode::NOT_FOUND => ("NOT_FOUND", "No route matches this path"),
        StatusCode::METHOD_NOT_ALLOWED => ("METHOD_NOT_ALLOWED", "Method not allowed on this path"),
        StatusCode::PAYLOAD_TOO_LARGE => ("PAYLOAD_TOO_LARGE", "Request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "UNSUPPORTED_MEDIA_TYPE",
            "Request body must be application/json",
        ),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
            "SERVICE_UNAVAILABLE",
            "The request could not be completed in time",
        ),
        StatusCode::TOO_MANY_REQUESTS => ("RATE_LIMITED", "Too many requests; try again later"),
        status if status.is_server_error() => ("INTERNAL_ERROR", "Internal server error"),
        _ => ("BAD_REQUEST", "Bad request"),
    };
    // A timeout is reported as 503, the status the envelope's type stands for.
    let status = if status == StatusCode::REQUEST_TIMEOUT {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        status
    };
    let mut response = error_response(status, kind, message, json!({}), request_id);
    // Keep what the client needs from the original: the methods a 405 allows, and the CORS
    // headers without which a browser hides the error from the calling page.
    for (name, value) in bare.headers() {
        let is_cors = name.as_str().starts_with("access-control-") || name == header::VARY;
        if is_cors || name == header::ALLOW || name == header::RETRY_AFTER {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}
