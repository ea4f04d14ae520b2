//! `GET /api/health`: is the service able to serve? Checks the database and the session store
//! concurrently, each with a short timeout, so the check itself never hangs.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::envelope::{
    ApiResponse, ErrorEnvelope, SuccessEnvelope, current_request_id, error_response,
};
use crate::state::AppState;

/// How long each dependency gets to answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The state of each dependency.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthChecks {
    /// `ok` or `error`.
    #[schema(example = "ok")]
    pub database: &'static str,
    /// `ok` or `error`.
    #[schema(example = "ok")]
    pub session_store: &'static str,
}

/// A healthy service.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// The server's version.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// Each dependency.
    pub checks: HealthChecks,
}

/// Liveness and readiness in one: 200 when every dependency answers, 503 otherwise.
#[utoipa::path(
    get, path = "/api/health", tag = "health",
    responses(
        (status = 200, description = "Every dependency answers", body = SuccessEnvelope<Health>),
        (status = 503, description = "A dependency is down (`SERVICE_UNAVAILABLE`, details name it)", body = ErrorEnvelope),
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    let (database, sessions) =
        tokio::join!(check(state.store.ping()), check(state.sessions.ping()),);
    let checks = HealthChecks {
        database,
        session_store: sessions,
    };
    if checks.database == "ok" && checks.session_store == "ok" {
        let health = Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
            checks,
        };
        return ApiResponse::ok("Service is healthy", health).into_response();
    }
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "Service is degraded",
        json!({ "status": "degraded", "version": env!("CARGO_PKG_VERSION"), "checks": checks }),
        current_request_id(),
    )
}

async fn check<E: std::fmt::Display>(ping: impl Future<Output = Result<(), E>>) -> &'static str {
    match tokio::time::timeout(CHECK_TIMEOUT, ping).await {
        Ok(Ok(())) => "ok",
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check failed");
            "error"
        }
        Err(_) => {
            tracing::warn!("health check timed out");
            "error"
        }
    }
}
