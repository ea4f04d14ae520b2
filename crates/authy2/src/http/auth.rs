//! Authentication: register, login, logout, the current session, and the caller's sessions.

use authy2_core::audit::{AuditAction, AuditEvent, AuditTarget};
use authy2_core::email::lookup_key;
use authy2_core::password::{self, NewPassword};
use authy2_core::{
    AuthMethod, DisplayName, Email, NewSession, NewUser, SessionId, StoreError, UserId,
    ValidationErrors,
};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiError;
use super::context::RequestContext;
use super::cookies;
use super::envelope::{ApiResponse, ErrorEnvelope, SuccessEnvelope};
use super::extract::CurrentUser;
use super::json::ApiJson;
use super::params::PageParams;
use super::query::QueryParams;
use super::views::{AuthenticatedView, NewSessionView, SessionView, UserSessionView, UserView};
use crate::ratelimit::RateLimitError;
use crate::state::AppState;

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Email address; unique regardless of case.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 8–128 characters; not a common password; must not contain the email's local part.
    #[schema(format = Password, min_length = 8, max_length = 128, example = "correct horse battery staple")]
    pub password: String,
    /// Display name, at most 100 characters, no control characters.
    #[schema(
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$",
        example = "Ada Lovelace"
    )]
    pub name: Option<String>,
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email address, any case.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// The password, exactly as set.
    #[schema(format = Password, max_length = 128, example = "correct horse battery staple")]
    pub password: String,
}

/// Creates an account and signs it in.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the session token is also set as the `authy_session` cookie", body = SuccessEnvelope<AuthenticatedView>),
        (status = 400, description = "`VALIDATION_ERROR` naming each bad field, or `BAD_REQUEST`", body = ErrorEnvelope),
        (status = 409, description = "`CONFLICT`: the email already has an account", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMITED`", body = ErrorEnvelope),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    context: RequestContext,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let email = errors.check("email", Email::parse(&body.email));
    let name = errors.check("name", DisplayName::parse_optional(body.name.as_deref()));
    let password = match &email {
        Some(email) => errors.check("password", NewPassword::parse(&body.password, email)),
        None => {
            errors.check("password", password::check_length(&body.password));
            None
        }
    };
    errors.into_result()?;
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let ip = context.client_ip_string();
    if let Err(err) = state.limiter.check_registration(ip.as_deref()).await {
        let event = rate_limit_event(&state, &context, AuditAction::UserRegistered);
        return Err(rate_limited(&state, err, event).await);
    }

    let password_hash = state.hasher.hash(password.expose()).await?;
    let now = state.clock.now();
    let id = UserId::generate();
    let audit = AuditEvent::success(AuditAction::UserRegistered, &context.audit(), now)
        .by(id)
        .on(AuditTarget::user(id))
        .about_email(email.as_str());
    let new_user = NewUser {
        id,
        email,
        name,
        password_hash: Some(password_hash),
        created_at: now,
    };
    let user = state.store.insert_user(new_user, audit).await?;
    let session = start_session(&state, &context, user.id, AuthMethod::Password).await?;
    Ok(signed_in(
        &state,
        ApiResponse::created("Account created", authenticated(&user, &session)),
        &session,
    ))
}

/// Signs in with email and password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the session token is also set as the `authy_session` cookie", body = SuccessEnvelope<AuthenticatedView>),
        (status = 400, description = "`VALIDATION_ERROR`", body = ErrorEnvelope),
        (status = 401, description = "`INVALID_CREDENTIALS`, the same for an unknown email and a wrong password", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMITED`, even with the right password", body = ErrorEnvelope),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    context: RequestContext,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    // `None`: no account can have this address; it still costs a hash below.
    let lookup = lookup_key(&body.email);
    // No password can be longer than this, so it is refused before costing a hash. Anything
    // else, however odd, is simply credentials that do not match.
    if body.password.chars().count() > password::MAX_CHARS {
        return Err(ApiError::invalid(
            "password",
            format!("must be at most {} characters", password::MAX_CHARS),
        ));
    }

    let ip = context.client_ip_string();
    let limited_email = lookup.as_deref().unwrap_or("");
    let attempt = match state
        .limiter
        .begin_login(limited_email, ip.as_deref())
        .await
    {
        Ok(attempt) => attempt,
        Err(err) => {
            let mut event =
                rate_limit_event(&state, &context, AuditAction::AuthLogin).about_email(&body.email);
            // Shown in the account's own log, and redacted with it if it is deleted. Looked
            // up only when the refusal is recorded, not for every refused attempt.
            if err.is_first_refusal()
                && let Some(key) = &lookup
                && let Some(account) = state.store.find_user_by_email(key).await?
            {
                event = event.on(AuditTarget::user(account.id));
            }
            return Err(rate_limited(&state, err, event).await);
        }
    };
    let credentials = match &lookup {
        Some(key) => state.store.find_credentials(key).await?,
        None => None,
    };
    let stored_hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
    let verification = state
        .hasher
        .verify(&body.password, stored_hash.clone())
        .await?;
    let now = state.clock.now();

    let credentials = match credentials {
        Some(credentials) if verification.is_valid => credentials,
        refused => {
            let mut event = AuditEvent::failure(AuditAction::AuthLogin, &context.audit(), now)
                .about_email(&body.email)
                .with("reason", "invalid_credentials");
            // Shown in the account's own audit log, so its owner sees attempts against it.
            if let Some(refused) = refused {
                event = event.on(AuditTarget::user(refused.user.id));
            }
            state.record_attempt(event).await;
            return Err(ApiError::InvalidCredentials);
        }
    };

    if let Err(err) = state.limiter.login_succeeded(attempt).await {
        tracing::warn!(error = %err, "could not clear provisional login failures");
    }
    let user_id = credentials.user.id;
    let Some(verified_hash) = stored_hash else {
        return Err(ApiError::Internal(
            "a valid login without a stored hash".into(),
        ));
    };
    let session = start_session(&state, &context, user_id, AuthMethod::Password).await?;
    let audit = AuditEvent::success(AuditAction::AuthLogin, &context.audit(), now)
        .by(user_id)
        .on(AuditTarget::session(session.session.id))
        .with("auth_method", "password")
        .with("password_rehashed", verification.upgraded_hash.is_some());
    let recorded = state
        .store
        .record_login(
            user_id,
            now,
            &verified_hash,
            verification.upgraded_hash,
            audit,
        )
        .await;
    let user = match recorded {
        Ok(user) => user,
        Err(err) => {
            // No session without its audit record, and none for a password that changed
            // (or an account deleted) while this login was being checked.
            let _ = state
                .sessions
                .revoke_session(user_id, session.session.id)
                .await;
            return Err(match err {
                StoreError::NotFound => ApiError::InvalidCredentials,
                other => other.into(),
            });
        }
    };
    Ok(signed_in(
        &state,
        ApiResponse::ok("Logged in", authenticated(&user, &session)),
        &session,
    ))
}

/// Ends the current session and clears the cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Session revoked; cookie cleared", body = SuccessEnvelope<Option<String>>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`; the cookie is cleared anyway", body = ErrorEnvelope),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    context: RequestContext,
    caller: Result<CurrentUser, ApiError>,
) -> Response {
    let secure = state.config.is_production();
    let outcome = match caller {
        Ok(caller) => revoke_current(&state, &context, &caller).await,
        Err(err) => Err(err),
    };
    let mut response = match outcome {
        Ok(()) => ApiResponse::ok("Logged out", None::<()>).into_response(),
        Err(err) => err.into_response(),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::cleared_session_cookie(secure));
    response
}

async fn revoke_current(
    state: &AppState,
    context: &RequestContext,
    caller: &CurrentUser,
) -> Result<(), ApiError> {
    let audit = AuditEvent::success(AuditAction::AuthLogout, &context.audit(), state.clock.now())
        .by(caller.user.id)
        .on(AuditTarget::session(caller.session.id));
    // The record first: if it cannot be written, the session stays and the client may retry.
    state.store.append_audit_event(audit).await?;
    state
        .sessions
        .revoke_session(caller.user.id, caller.session.id)
        .await?;
    Ok(())
}

/// The caller and their current session.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The caller", body = SuccessEnvelope<UserSessionView>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
    )
)]
pub async fn me(caller: CurrentUser) -> ApiResponse<UserSessionView> {
    ApiResponse::ok(
        "Current user",
        UserSessionView {
            user: UserView::from(&caller.user),
            session: SessionView::new(&caller.session, &caller.session),
        },
    )
}

/// The caller's active sessions, newest first, the current one marked.
#[utoipa::path(
    get, path = "/api/v1/auth/sessions", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of sessions", body = SuccessEnvelope<Vec<SessionView>>),
        (status = 400, description = "`VALIDATION_ERROR` for a bad page parameter", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
    )
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: CurrentUser,
    query: QueryParams,
) -> Result<ApiResponse<Vec<SessionView>>, ApiError> {
    let page = query.page_only()?;
    let sessions = state
        .sessions
        .list_user_sessions(caller.user.id, state.clock.now())
        .await?;
    Ok(ApiResponse::page(
        "Active sessions",
        page.slice(sessions),
        |session| SessionView::new(&session, &caller.session),
    ))
}

/// Revokes one of the caller's sessions.
#[utoipa::path(
    delete, path = "/api/v1/auth/sessions/{id}", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 200, description = "Session revoked", body = SuccessEnvelope<Option<String>>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`: no such session of the caller", body = ErrorEnvelope),
    )
)]
pub async fn revoke_session(
    State(state): State<AppState>,
    context: RequestContext,
    caller: CurrentUser,
    Path(id): Path<String>,
) -> Result<ApiResponse<Option<()>>, ApiError> {
    let id: SessionId = id.parse().map_err(|_| ApiError::NotFound("session"))?;
    let owned = state
        .sessions
        .list_user_sessions(caller.user.id, state.clock.now())
        .await?
        .iter()
        .any(|session| session.id == id);
    if !owned {
        return Err(ApiError::NotFound("session"));
    }
    let audit = AuditEvent::success(
        AuditAction::SessionRevoked,
        &context.audit(),
        state.clock.now(),
    )
    .by(caller.user.id)
    .on(AuditTarget::session(id));
    state.store.append_audit_event(audit).await?;
    if !state.sessions.revoke_session(caller.user.id, id).await? {
        return Err(ApiError::NotFound("session"));
    }
    Ok(ApiResponse::ok("Session revoked", None))
}

/// Creates and stores a session for a user who just proved who they are.
pub(crate) async fn start_session(
    state: &AppState,
    context: &RequestContext,
    user: UserId,
    method: AuthMethod,
) -> Result<NewSession, ApiError> {
    let new = NewSession::start(
        user,
        method,
        state.clock.now(),
        state.config.session_lifetime,
        context.client_ip_string(),
        context.user_agent.clone(),
    );
    state.sessions.insert_session(&new.session).await?;
    Ok(new)
}

fn authenticated(user: &authy2_core::User, new: &NewSession) -> AuthenticatedView {
    AuthenticatedView {
        user: UserView::from(user),
        session: NewSessionView {
            session: SessionView::new(&new.session, &new.session),
            token: new.token.expose().to_owned(),
        },
    }
}

/// Adds the session cookie to a sign-in response.
fn signed_in(state: &AppState, response: impl IntoResponse, session: &NewSession) -> Response {
    let max_age = state.config.session_lifetime.absolute.num_seconds();
    let cookie: HeaderValue = cookies::session_cookie(
        session.token.expose(),
        max_age,
        state.config.is_production(),
    );
    let mut response = response.into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The start of an `auth.rate_limited` event for a refused attempt at `attempted`.
pub(crate) fn rate_limit_event(
    state: &AppState,
    context: &RequestContext,
    attempted: AuditAction,
) -> AuditEvent {
    AuditEvent::failure(
        AuditAction::AuthRateLimited,
        &context.audit(),
        state.clock.now(),
    )
    .with("attempted_action", attempted.as_str())
}

/// Records a refused attempt (`event`, from [`rate_limit_event`]) and turns the refusal into
/// its error.
pub(crate) async fn rate_limited(
    state: &AppState,
    err: RateLimitError,
    event: AuditEvent,
) -> ApiError {
    // Only the refusal that trips a limit is recorded: one row per limit and window, however
    // hard a client hammers, so a flood cannot turn into a flood of writes.
    if let RateLimitError::Limited(limited) = &err
        && limited.is_first_refusal
    {
        state
            .record_attempt(event.with("limit", limited.limit))
            .await;
    }
    err.into()
}
