//! Extractors for who is calling: `CurrentUser` (a valid session) and `OrgMember` (a
//! membership in the organization named by the path). Handlers never check either by hand.

use std::collections::HashMap;

use authy2_core::authz::{self, Action};
use authy2_core::{
    ActingMember, AuditEvent, Membership, OrganizationId, Session, SessionToken, User,
};
use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;

use super::ApiError;
use super::cookies::{self, SESSION_COOKIE};
use crate::state::AppState;

/// How the caller presented their token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer …`
    Bearer,
    /// The `authy_session` cookie.
    Cookie,
}

/// The authenticated caller: their account and the session they used.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// The account.
    pub user: User,
    /// The session presented.
    pub session: Session,
    /// How it was presented.
    pub credential: Credential,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<CurrentUser>() {
            return Ok(known.clone());
        }
        let (presented, credential) = presented_token(parts)?;
        let token = SessionToken::parse(presented).ok_or(ApiError::AuthenticationRequired)?;
        let now = state.clock.now();
        let session = state
            .sessions
            .authenticate(&token.hash(), now, state.config.session_lifetime.idle)
            .await?
            .ok_or(ApiError::AuthenticationRequired)?;
        // The account may have been deleted while a Redis session outlived it.
        let user = state
            .store
            .find_user(session.user_id)
            .await?
            .ok_or(ApiError::AuthenticationRequired)?;
        let current = CurrentUser {
            user,
            session,
            credential,
        };
        parts.extensions.insert(current.clone());
        Ok(current)
    }
}

/// The token from the `Authorization` header, or else from the cookie. A token in the query
/// string is never looked at.
fn presented_token(parts: &Parts) -> Result<(&str, Credential), ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::AuthenticationRequired)?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or(ApiError::AuthenticationRequired)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::AuthenticationRequired);
        }
        return Ok((token.trim(), Credential::Bearer));
    }
    cookies::find(&parts.headers, SESSION_COOKIE)
        .map(|token| (token, Credential::Cookie))
        .ok_or(ApiError::AuthenticationRequired)
}

/// The caller's membership in the organization `{id}` of the path.
#[derive(Clone, Debug)]
pub struct OrgMember {
    /// The caller.
    pub caller: CurrentUser,
    /// Their membership, with the organization.
    pub membership: Membership,
}

impl OrgMember {
    /// Refuses with 403 unless the caller's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        authz::authorize(self.membership.role, action).map_err(|_| ApiError::Forbidden)
    }

    /// Like [`OrgMember::require`], and a refusal is recorded as a failed `event`: an attempt
    /// beyond one's role is what an organization's auditor looks for.
    pub async fn require_audited(
        &self,
        state: &AppState,
        action: Action,
        event: &AuditEvent,
    ) -> Result<(), ApiError> {
        let allowed = self.require(action);
        if allowed.is_err() {
            state.record_attempt(event.refused("forbidden")).await;
        }
        allowed
    }

    /// The caller as the store needs them to re-check their role under its locks.
    pub fn acting(&self) -> ActingMember {
        ActingMember {
            user_id: self.caller.user.id,
            role: self.membership.role,
        }
    }

    /// The organization's id.
    pub fn organization_id(&self) -> OrganizationId {
        self.membership.organization.id
    }
}

impl FromRequestParts<AppState> for OrgMember {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = CurrentUser::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("organization"))?;
        // Same 404 for a malformed id, an unknown organization and one the caller is not a
        // member of: callers must not learn which organizations exist.
        let organization: OrganizationId = params
            .get("id")
            .and_then(|id| id.parse().ok())
            .ok_or(ApiError::NotFound("organization"))?;
        let membership = state
            .store
            .find_membership(organization, caller.user.id)
            .await?
            .ok_or(ApiError::NotFound("organization"))?;
        Ok(OrgMember { caller, membership })
    }
}
