//! The caller's own account: profile, password, deletion, and their organizations.

use authy2_core::DisplayName;
use authy2_core::audit::{AuditAction, AuditEvent, AuditTarget};
use authy2_core::password::{self, NewPassword};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use super::ApiError;
use super::auth::{rate_limit_event, rate_limited};
use super::context::RequestContext;
use super::cookies;
use super::envelope::{ApiResponse, ErrorEnvelope, SuccessEnvelope};
use super::extract::CurrentUser;
use super::json::ApiJson;
use super::params::PageParams;
use super::query::QueryParams;
use super::views::{OrganizationWithRoleView, UserView};
use crate::state::AppState;

/// Profile fields to change; an absent field is left as it is, `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// Display name, at most 100 characters; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 100, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$", example = "Ada King")]
    pub name: Option<Option<String>>,
}

/// Distinguishes `"name": null` (Some(None)) from an absent field (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A new password, with the current one to prove it is the owner asking.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    #[schema(format = Password)]
    pub current_password: String,
    /// The new password; same rules as at registration.
    #[schema(format = Password, min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// The password, to prove it is the owner deleting the account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's password.
    #[schema(format = Password)]
    pub password: String,
}

/// The caller's account.
#[utoipa::path(
    get, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The caller's account", body = SuccessEnvelope<UserView>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
    )
)]
pub async fn get_profile(caller: CurrentUser) -> ApiResponse<UserView> {
    ApiResponse::ok("Current user", UserView::from(&caller.user))
}

/// Changes the caller's display name.
#[utoipa::path(
    patch, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = []), ("cookie" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "The updated account", body = SuccessEnvelope<UserView>),
        (status = 400, description = "`VALIDATION_ERROR`", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
    )
)]
pub async fn update_profile(
    State(state): State<AppState>,
    context: RequestContext,
    caller: CurrentUser,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> Result<ApiResponse<UserView>, ApiError> {
    let Some(name) = body.name else {
        return Ok(ApiResponse::ok(
            "Nothing to change",
            UserView::from(&caller.user),
        ));
    };
    let name =
        DisplayName::parse_optional(name.as_deref()).map_err(|e| ApiError::invalid("name", e))?;
    let now = state.clock.now();
    let audit = AuditEvent::success(AuditAction::UserUpdated, &context.audit(), now)
        .by(caller.user.id)
        .on(AuditTarget::user(caller.user.id))
        .with("fields", serde_json::json!(["name"]));
    let user = state
        .store
        .update_user_name(caller.user.id, name, now, audit)
        .await?;
    Ok(ApiResponse::ok("Profile updated", UserView::from(&user)))
}

/// Changes the caller's password; every other session of theirs is revoked.
#[utoipa::path(
    post, path = "/api/v1/users/me/password", tag = "users",
    security(("bearer" = []), ("cookie" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Password changed; other sessions revoked", body = SuccessEnvelope<Option<String>>),
        (status = 400, description = "`VALIDATION_ERROR` on `new_password`", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`INVALID_CREDENTIALS`: wrong current password", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMITED`", body = ErrorEnvelope),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    context: RequestContext,
    caller: CurrentUser,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<ApiResponse<Option<()>>, ApiError> {
    let new_password = NewPassword::parse(&body.new_password, &caller.user.email)
        .map_err(|e| ApiError::invalid("new_password", e))?;
    reauthenticate(
        &state,
        &context,
        &caller,
        &body.current_password,
        AuditAction::UserPasswordChanged,
    )
    .await?;
    let hash = state.hasher.hash(new_password.expose()).await?;
    let now = state.clock.now();
    let audit = AuditEvent::success(AuditAction::UserPasswordChanged, &context.audit(), now)
        .by(caller.user.id)
        .on(AuditTarget::user(caller.user.id));
    state
        .store
        .update_password(caller.user.id, hash, now, audit)
        .await?;
    let revoked = state
        .sessions
        .revoke_user_sessions(caller.user.id, Some(caller.session.id))
        .await?;
    tracing::info!(user.id = %caller.user.id, revoked, "password changed; other sessions revoked");
    Ok(ApiResponse::ok("Password changed", None))
}

/// Deletes the caller's account and all its sessions.
#[utoipa::path(
    delete, path = "/api/v1/users/me", tag = "users",
    security(("bearer" = []), ("cookie" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 200, description = "Account deleted; cookie cleared", body = SuccessEnvelope<Option<String>>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`INVALID_CREDENTIALS`: wrong password", body = ErrorEnvelope),
        (status = 409, description = "`CONFLICT`: sole owner of an organization with other members", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMITED`", body = ErrorEnvelope),
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    context: RequestContext,
    caller: CurrentUser,
    ApiJson(body): ApiJson<DeleteAccountRequest>,
) -> Result<Response, ApiError> {
    reauthenticate(
        &state,
        &context,
        &caller,
        &body.password,
        AuditAction::UserDeleted,
    )
    .await?;
    let audit = AuditEvent::success(
        AuditAction::UserDeleted,
        &context.audit(),
        state.clock.now(),
    )
    .by(caller.user.id)
    .on(AuditTarget::user(caller.user.id))
    .about_email(caller.user.email.as_str());
    state.store.delete_user(caller.user.id, audit).await?;
    // SQL sessions went with the account; sessions elsewhere (Redis) go now.
    state
        .sessions
        .revoke_user_sessions(caller.user.id, None)
        .await?;
    let mut response = ApiResponse::ok("Account deleted", None::<()>).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::cleared_session_cookie(state.config.is_production()),
    );
    Ok(response)
}

/// The caller's organizations with their role in each.
#[utoipa::path(
    get, path = "/api/v1/users/me/organizations", tag = "users",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of organizations", body = SuccessEnvelope<Vec<OrganizationWithRoleView>>),
        (status = 400, description = "`VALIDATION_ERROR` for a bad page parameter", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
    )
)]
pub async fn list_my_organizations(
    State(state): State<AppState>,
    caller: CurrentUser,
    query: QueryParams,
) -> Result<ApiResponse<Vec<OrganizationWithRoleView>>, ApiError> {
    let page = query.page_only()?;
    let organizations = state
        .store
        .list_user_organizations(caller.user.id, page)
        .await?;
    Ok(ApiResponse::page(
        "Your organizations",
        organizations,
        OrganizationWithRoleView::from,
    ))
}

/// Proves the caller knows the account's password before a sensitive change. Rate limited per
/// account, and every refusal is recorded.
async fn reauthenticate(
    state: &AppState,
    context: &RequestContext,
    caller: &CurrentUser,
    password: &str,
    action: AuditAction,
) -> Result<(), ApiError> {
    if let Err(err) = state.limiter.check_sensitive_action(caller.user.id).await {
        let event = rate_limit_event(state, context, action)
            .by(caller.user.id)
            .on(AuditTarget::user(caller.user.id));
        return Err(rate_limited(state, err, event).await);
    }
    let is_valid = if password.chars().count() > password::MAX_CHARS {
        false
    } else {
        let stored = state
            .store
            .find_credentials_by_id(caller.user.id)
            .await?
            .and_then(|c| c.password_hash);
        state.hasher.verify(password, stored).await?.is_valid
    };
    if !is_valid {
        let event = AuditEvent::failure(action, &context.audit(), state.clock.now())
            .by(caller.user.id)
            .on(AuditTarget::user(caller.user.id))
            .with("reason", "wrong_password");
        state.record_attempt(event).await;
        return Err(ApiError::WrongCurrentPassword);
    }
    Ok(())
}
