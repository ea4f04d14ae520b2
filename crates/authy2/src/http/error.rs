//! One error type for every handler and extractor; it becomes the failure envelope.

use authy2_core::store::Conflict;
use authy2_core::{StoreError, ValidationErrors};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::envelope::{current_request_id, error_response};
use crate::passwords::HashingUnavailable;
use crate::ratelimit::{Limited, RateLimitError};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON or query string.
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed input that breaks a rule.
    #[error("request validation failed")]
    Validation(ValidationErrors),
    /// No valid session.
    #[error("authentication required")]
    AuthenticationRequired,
    /// Wrong email or password at login.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Wrong current password when re-authenticating.
    #[error("current password is incorrect")]
    WrongCurrentPassword,
    /// A cookie-authenticated request from a foreign origin.
    #[error("cross-site request refused")]
    CsrfFailed,
    /// Authenticated, but the role does not allow it.
    #[error("forbidden")]
    Forbidden,
    /// No such resource, or one the caller may not know exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change breaks a rule of the data model.
    #[error(transparent)]
    Conflict(Conflict),
    /// Body over the size limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// A body that is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A rate limit is reached.
    #[error("rate limited")]
    RateLimited(Limited),
    /// A backing store cannot be reached.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or corrupt data; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A single-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(ValidationErrors::single(field, message))
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound("resource"),
            StoreError::Conflict(conflict) => Self::Conflict(conflict),
            StoreError::Unavailable(cause) => Self::Unavailable(cause),
            StoreError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<HashingUnavailable> for ApiError {
    fn from(err: HashingUnavailable) -> Self {
        Self::Unavailable(err.to_string())
    }
}

impl From<RateLimitError> for ApiError {
    fn from(err: RateLimitError) -> Self {
        match err {
            RateLimitError::Limited(limited) => Self::RateLimited(limited),
            RateLimitError::Unavailable(err) => err.into(),
        }
    }
}

/// The field a conflict is about, so clients can show it next to the right input.
fn conflict_details(conflict: Conflict) -> Value {
    match conflict {
        Conflict::EmailTaken => json!({ "email": [conflict.to_string()] }),
        Conflict::SlugTaken => json!({ "slug": [conflict.to_string()] }),
        _ => json!({}),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, message, details) = match &self {
            Self::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                message.clone(),
                json!({}),
            ),
            Self::Validation(errors) => (
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "Request validation failed".to_owned(),
                json!(errors.fields()),
            ),
            Self::AuthenticationRequired => (
                StatusCode::UNAUTHORIZED,
                "AUTHENTICATION_REQUIRED",
                "Authentication required".to_owned(),
                json!({}),
            ),
            Self::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "INVALID_CREDENTIALS",
                "Invalid email or password".to_owned(),
                json!({}),
            ),
            Self::WrongCurrentPassword => (
                StatusCode::FORBIDDEN,
                "INVALID_CREDENTIALS",
                "Password is incorrect".to_owned(),
                json!({}),
            ),
            Self::CsrfFailed => (
                StatusCode::FORBIDDEN,
                "CSRF_FAILED",
                "Cross-site request refused".to_owned(),
                json!({}),
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "Your role does not allow this".to_owned(),
                json!({}),
            ),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("{} not found", capitalize(what)),
                json!({}),
            ),
            Self::Conflict(conflict) => (
                StatusCode::CONFLICT,
                "CONFLICT",
                capitalize(&conflict.to_string()),
                conflict_details(*conflict),
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "Request body is too large".to_owned(),
                json!({}),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Request body must be application/json".to_owned(),
                json!({}),
            ),
            Self::RateLimited(limited) => (
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "Too many requests; try again later".to_owned(),
                json!({ "retry_after": limited.retry_after_secs }),
            ),
            Self::Unavailable(cause) => {
                tracing::warn!(error = %cause, "backing store unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "Service temporarily unavailable".to_owned(),
                    json!({}),
                )
            }
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "Internal server error".to_owned(),
                    json!({}),
                )
            }
        };
        let mut response = error_response(status, kind, message, details, current_request_id());
        if let Self::RateLimited(limited) = &self
            && let Ok(value) = HeaderValue::from_str(&limited.retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
