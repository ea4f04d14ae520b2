//! The response envelope every endpoint answers with (API.md, "Envelope"), and the request id
//! that goes into it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Envelope format version.
pub const ENVELOPE_VERSION: &str = "1.0";

tokio::task_local! {
    /// The id of the request being served, set by the request-context middleware so that
    /// responses built anywhere below it carry the id in their body.
    pub static REQUEST_ID: String;
}

/// The current request's id, or a fresh one outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
}

/// Marks a response whose body is already an envelope, so the middleware leaves it alone.
#[derive(Clone, Copy, Debug)]
pub struct Enveloped;

/// Pagination facts of a list.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct PageMeta {
    /// 1-based page number.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Items in the whole list.
    pub total: u64,
}

impl<T> From<&authy2_core::Page<T>> for PageMeta {
    fn from(page: &authy2_core::Page<T>) -> Self {
        Self {
            page: page.request.page(),
            per_page: page.request.per_page(),
            total: page.total,
        }
    }
}

/// A successful response.
#[derive(Debug)]
pub struct ApiResponse<T> {
    status: StatusCode,
    message: &'static str,
    data: T,
    meta: Option<PageMeta>,
}

impl<T: Serialize> ApiResponse<T> {
    /// 200 with `data`.
    pub fn ok(message: &'static str, data: T) -> Self {
        Self {
            status: StatusCode::OK,
            message,
            data,
            meta: None,
        }
    }

    /// 201 with `data`.
    pub fn created(message: &'static str, data: T) -> Self {
        Self {
            status: StatusCode::CREATED,
            ..Self::ok(message, data)
        }
    }
}

impl<T: Serialize> ApiResponse<Vec<T>> {
    /// 200 with one page of a list.
    pub fn page<U>(
        message: &'static str,
        page: authy2_core::Page<U>,
        view: impl FnMut(U) -> T,
    ) -> Self {
        let meta = PageMeta::from(&page);
        Self {
            status: StatusCode::OK,
            message,
            data: page.items.into_iter().map(view).collect(),
            meta: Some(meta),
        }
    }
}

/// The envelope of a success, as serialized.
#[derive(Serialize, ToSchema)]
pub struct SuccessEnvelope<T> {
    /// Always "1.0".
    #[schema(example = "1.0")]
    pub version: &'static str,
    /// Always true.
    pub success: bool,
    /// The HTTP status.
    #[schema(example = 200)]
    pub code: u16,
    /// A short human-readable summary.
    pub message: &'static str,
    /// The request id, as in `X-Request-ID`.
    pub request_id: String,
    /// The payload.
    pub data: T,
    /// Pagination, on lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<PageMeta>,
}

impl<T: Serialize> IntoResponse for ApiResponse<T> {
    fn into_response(self) -> Response {
        let body = SuccessEnvelope {
            version: ENVELOPE_VERSION,
            success: true,
            code: self.status.as_u16(),
            message: self.message,
            request_id: current_request_id(),
            data: self.data,
            meta: self.meta,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(Enveloped);
        response
    }
}

/// The `error` member of a failure.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// One of the error types of API.md.
    #[serde(rename = "type")]
    #[schema(example = "VALIDATION_ERROR")]
    pub kind: &'static str,
    /// Field → messages for validation errors; `{}` when there is nothing to add.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// The envelope of a failure, as serialized.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always "1.0".
    #[schema(example = "1.0")]
    pub version: &'static str,
    /// Always false.
    pub success: bool,
    /// The HTTP status.
    #[schema(example = 400)]
    pub code: u16,
    /// A short human-readable summary.
    pub message: String,
    /// The request id, as in `X-Request-ID`.
    pub request_id: String,
    /// What went wrong.
    pub error: ErrorBody,
}

/// Builds a failure response.
pub fn error_response(
    status: StatusCode,
    kind: &'static str,
    message: impl Into<String>,
    details: Value,
    request_id: String,
) -> Response {
    let body = ErrorEnvelope {
        version: ENVELOPE_VERSION,
        success: false,
        code: status.as_u16(),
        message: message.into(),
        request_id,
        error: ErrorBody { kind, details },
    };
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(Enveloped);
    response
}
