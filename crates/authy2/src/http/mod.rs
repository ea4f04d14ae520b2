//! The HTTP layer: the router with every route and middleware, and one module per resource.

pub mod audit;
pub mod auth;
pub mod client_ip;
pub mod context;
pub mod cookies;
pub mod docs;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod members;
pub mod organizations;
pub mod params;
pub mod query;
pub mod security;
pub mod users;
pub mod views;

use std::any::Any;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;

use crate::state::AppState;

/// Largest request body accepted, checked on the stream as it arrives.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Every API route, with its OpenAPI description.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::list_sessions))
        .routes(routes!(auth::revoke_session))
        .routes(routes!(
            users::get_profile,
            users::update_profile,
            users::delete_account
        ))
        .routes(routes!(users::change_password))
        .routes(routes!(users::list_my_organizations))
        .routes(routes!(audit::list_my_audit_events))
        .routes(routes!(organizations::create_organization))
        .routes(routes!(
            organizations::get_organization,
            organizations::update_organization,
            organizations::delete_organization
        ))
        .routes(routes!(members::list_members, members::add_member))
        .routes(routes!(members::remove_member))
        .routes(routes!(members::change_member_role))
        .routes(routes!(audit::list_organization_audit_events))
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::finish(api_routes().into_openapi())
}

/// The whole application: routes, docs and middleware.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_routes().split_for_parts();
    with_middleware(api.merge(docs::routes(docs::finish(openapi))), state)
}

/// Wraps routes in the middleware every response goes through: request context and envelope,
/// CORS, timeout, panic recovery, CSRF and the body limit. Routes must be added before this.
/// CORS sits outside the timeout and panic layers so that their answers carry its headers too.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let router = routes
        .fallback(route_not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(from_fn_with_state(state.clone(), security::csrf_guard))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.config.request_timeout,
        ));
    let router = match security::cors_layer(&state.config.cors_allowed_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(from_fn_with_state(state.clone(), context::request_context))
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError::NotFound("route")
}

/// A panicking handler becomes a 500 envelope; the process keeps serving.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}
