//! Browser-facing defences: security headers on every response, CORS for configured origins
//! only, and the CSRF check for cookie-authenticated requests.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::ApiError;
use super::cookies::SESSION_COOKIE;
use crate::config::AllowedOrigin;
use crate::state::AppState;

/// Policy for JSON: nothing may load, nothing may frame.
const JSON_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// Policy for the interactive docs: same-origin scripts, styles and images only. The one hash is
/// the single inline style element the bundled Swagger UI inserts; nothing else inline may run.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; object-src 'none'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const HSTS: &str = "max-age=31536000; includeSubDomains";
const CROSS_ORIGIN_OPENER_POLICY: header::HeaderName =
    header::HeaderName::from_static("cross-origin-opener-policy");

/// Whether a path belongs to the API document or the docs page, which are not envelopes.
pub fn is_docs_path(path: &str) -> bool {
    path == "/api/openapi.json" || path == "/api/docs" || path.starts_with("/api/docs/")
}

/// Adds the headers of API.md's "Security headers" to a response.
pub fn add_headers(response: &mut Response, path: &str, is_production: bool) {
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, CROSS_ORIGIN_OPENER_POLICY, "same-origin");
    if path.starts_with("/api/docs") {
        set(headers, header::CONTENT_SECURITY_POLICY, DOCS_CSP);
    } else {
        set(headers, header::CONTENT_SECURITY_POLICY, JSON_CSP);
    }
    // Everything under /api/v1 is personal or tenant data: no cache may keep it.
    if path.starts_with("/api/v1/") {
        set(headers, header::CACHE_CONTROL, "no-store");
        set(headers, header::PRAGMA, "no-cache");
    }
    if is_production {
        set(headers, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
}

/// CORS for the configured origins only: exact matches, credentials allowed, never `*`.
pub fn cors_layer(origins: &[AllowedOrigin]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin.as_str()).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::HeaderName::from_static("x-request-id"),
                header::RETRY_AFTER,
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Refuses unsafe requests that carry the session cookie (and no bearer token) when their
/// `Origin`, or failing that `Referer`, is neither this server nor an allowed CORS origin.
/// Requests with neither header come from non-browser clients and pass.
pub async fn csrf_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_cross_site_cookie_request(&request, &state.config.cors_allowed_origins) {
        return ApiError::CsrfFailed.into_response();
    }
    next.run(request).await
}

fn is_cross_site_cookie_request(request: &Request, allowed: &[AllowedOrigin]) -> bool {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let headers = request.headers();
    if !unsafe_method
        || headers.contains_key(header::AUTHORIZATION)
        || super::cookies::find(headers, SESSION_COOKIE).is_none()
    {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|value| value.to_str().unwrap_or("null"));
    match source {
        None => false,
        Some(source) => !is_same_or_allowed_origin(source, host, allowed),
    }
}

/// Whether an `Origin` or `Referer` value names this server (`host`, the request's `Host`
/// header) or one of the allowed origins.
pub fn is_same_or_allowed_origin(
    source: &str,
    host: Option<&str>,
    allowed: &[AllowedOrigin],
) -> bool {
    let Some((scheme, rest)) = source.split_once("://") else {
        return false; // "null", or garbage
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return false;
    }
    let origin = format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    );
    if allowed.iter().any(|a| a.as_str() == origin) {
        return true;
    }
    host.is_some_and(|host| host.eq_ignore_ascii_case(authority))
}
