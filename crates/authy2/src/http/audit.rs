//! Reading the audit log: the caller's own events, and an organization's (owner or admin).

use authy2_core::audit::{AuditAction, AuditEvent, AuditFilter, AuditScope};
use authy2_core::authz::Action;
use authy2_core::{Timestamp, UserId, ValidationErrors};
use axum::extract::State;

use super::ApiError;
use super::envelope::{ApiResponse, ErrorEnvelope, SuccessEnvelope};
use super::extract::{CurrentUser, OrgMember};
use super::params::{AuditFilterParams, PageParams};
use super::query::QueryParams;
use super::views::AuditEventView;
use crate::state::AppState;

/// Events the caller did, or that were done to their account, newest first.
#[utoipa::path(
    get, path = "/api/v1/users/me/audit-logs", tag = "audit",
    security(("bearer" = []), ("cookie" = [])),
    params(
        AuditFilterParams,
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of events", body = SuccessEnvelope<Vec<AuditEventView>>),
        (status = 400, description = "`VALIDATION_ERROR` naming the bad filter", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
    )
)]
pub async fn list_my_audit_events(
    State(state): State<AppState>,
    caller: CurrentUser,
    query: QueryParams,
) -> Result<ApiResponse<Vec<AuditEventView>>, ApiError> {
    list(&state, AuditScope::User(caller.user.id), &query).await
}

/// The organization's events, newest first (owner or admin).
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}/audit-logs", tag = "audit",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        AuditFilterParams,
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of events", body = SuccessEnvelope<Vec<AuditEventView>>),
        (status = 400, description = "`VALIDATION_ERROR` naming the bad filter", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`: members may not read the log", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`", body = ErrorEnvelope),
    )
)]
pub async fn list_organization_audit_events(
    State(state): State<AppState>,
    member: OrgMember,
    query: QueryParams,
) -> Result<ApiResponse<Vec<AuditEventView>>, ApiError> {
    member.require(Action::ViewAuditLog)?;
    list(
        &state,
        AuditScope::Organization(member.organization_id()),
        &query,
    )
    .await
}

async fn list(
    state: &AppState,
    scope: AuditScope,
    query: &QueryParams,
) -> Result<ApiResponse<Vec<AuditEventView>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let filter = AuditFilter {
        scope,
        action: query.parse("action", &mut errors, |raw| raw.parse::<AuditAction>()),
        actor_id: query.parse("actor_id", &mut errors, parse_uuid),
        since: query.parse("since", &mut errors, parse_time),
        until: query.parse("until", &mut errors, parse_time),
    };
    let page = query.page(&mut errors);
    // `until` before `since` is a window with nothing in it: an empty page, not an error.
    errors.into_result()?;
    let events = state.store.list_audit_events(&filter, page).await?;
    Ok(ApiResponse::page("Audit events", events, |event| {
        AuditEventView::from(for_scope(event, scope))
    }))
}

/// What a scope's reader may see of an event. In a user's own log, events that someone else
/// did to their account (an admin adding them to an organization) keep who did it but not
/// that person's address or client; anonymous attempts (failed logins) keep theirs, which is
/// what the account's owner needs to see.
fn for_scope(mut event: AuditEvent, scope: AuditScope) -> AuditEvent {
    if let AuditScope::User(reader) = scope
        && event.actor_user_id.is_some_and(|actor| actor != reader)
    {
        event.actor_ip = None;
        event.actor_user_agent = None;
    }
    event
}

/// An RFC 3339 time, converted to UTC.
pub fn parse_time(raw: &str) -> Result<Timestamp, String> {
    // chrono also takes a space between date and time; RFC 3339 (and the document) say `T`.
    let separator = raw.as_bytes().get(10).copied();
    if !matches!(separator, Some(b'T' | b't')) {
        return Err(BAD_TIME.to_owned());
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| BAD_TIME.to_owned())
}

const BAD_TIME: &str = "must be an RFC 3339 time such as 2026-12-04T19:12:28Z";

/// A UUID in its hyphenated form only, as the document states (the parser would also take
/// braces, `urn:uuid:` or bare hex).
fn parse_uuid(raw: &str) -> Result<UserId, String> {
    let hyphenated = raw.len() == 36 && raw.bytes().filter(|b| *b == b'-').count() == 4;
    hyphenated
        .then(|| raw.parse::<UserId>().ok())
        .flatten()
        .ok_or_else(|| "must be a UUID".to_owned())
}
