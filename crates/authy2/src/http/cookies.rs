//! The session cookie (API.md, "Authentication").

use axum::http::{HeaderMap, HeaderValue, header};

/// The cookie's name.
pub const SESSION_COOKIE: &str = "authy_session";

/// Finds a cookie's value among the request's `Cookie` headers.
pub fn find<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// `Set-Cookie` for a new session: the value is exactly the token.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub fn cleared_session_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "authy_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("authy_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
    }
}
