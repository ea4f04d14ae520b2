//! `ApiJson`: the JSON body extractor whose every rejection is an envelope — 415 for another
//! content type, 413 over the size limit, 400 `BAD_REQUEST` for malformed JSON, 400
//! `VALIDATION_ERROR` naming the field for unknown, missing or mistyped fields.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::ApiError;

/// Deepest nesting of arrays and objects accepted; request bodies are flat objects, so
/// anything deeper is an attack on the parser, not a request.
pub const MAX_JSON_DEPTH: usize = 32;

/// A JSON request body, parsed into `T` (which should deny unknown fields).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::BadRequest("Could not read the request body".to_owned()),
                })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a body, classifying every failure.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if nesting_depth(bytes) > MAX_JSON_DEPTH {
        return Err(ApiError::BadRequest(format!(
            "JSON is nested deeper than {MAX_JSON_DEPTH} levels"
        )));
    }
    // serde also accepts a struct written as an array; request bodies are objects only.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(malformed()),
        Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() => {
            return Err(malformed());
        }
        Some(_) => return Err(ApiError::invalid("body", "must be a JSON object")),
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(classify)?;
    deserializer.end().map_err(|_| malformed())?;
    Ok(value)
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn malformed() -> ApiError {
    ApiError::BadRequest("Malformed JSON body".to_owned())
}

fn classify(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = err.path().to_string();
    let inner = err.into_inner();
    if !matches!(inner.classify(), Category::Data) {
        return malformed();
    }
    // serde_json appends " at line L column C"; clients need only the first part.
    let message = inner.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head);
    if let Some(field) = quoted_after(message, "unknown field `") {
        return ApiError::invalid(&join(&path, field), "is not allowed");
    }
    if let Some(field) = quoted_after(message, "missing field `") {
        return ApiError::invalid(&join(&path, field), "is required");
    }
    if let Some(field) = quoted_after(message, "duplicate field `") {
        return ApiError::invalid(&join(&path, field), "must be given once");
    }
    let reason = match message.split_once("expected ") {
        Some((_, expected)) => format!("must be {expected}"),
        None => "is invalid".to_owned(),
    };
    ApiError::invalid(&path, reason)
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// The full name of `field` under `path`; serde_path_to_error already ends the path with the
/// field for some errors (unknown fields) and not for others (missing fields).
fn join(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_owned()
    } else if path == field || path.ends_with(&format!(".{field}")) {
        path.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// How deeply arrays and objects nest, ignoring brackets inside strings.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}
