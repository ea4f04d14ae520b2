//! Organization members: list, add, change role, remove.

use authy2_core::audit::{AuditAction, AuditEvent, AuditTarget};
use authy2_core::authz::Action;
use authy2_core::email::lookup_key;
use authy2_core::organization::Member;
use authy2_core::{Role, UserId};
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiError;
use super::context::RequestContext;
use super::envelope::{ApiResponse, ErrorEnvelope, SuccessEnvelope};
use super::extract::OrgMember;
use super::json::ApiJson;
use super::params::{PageParams, RoleName};
use super::query::QueryParams;
use super::views::MemberView;
use crate::state::AppState;

/// An existing user to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The user's email, any case.
    #[schema(example = "grace@example.com")]
    pub email: String,
    /// `owner`, `admin` or `member` (default); only owners may grant `owner`.
    #[schema(value_type = Option<RoleName>, example = "member")]
    pub role: Option<String>,
}

/// A new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    /// `owner`, `admin` or `member`.
    #[schema(value_type = RoleName, example = "admin")]
    pub role: String,
}

/// The organization's members, oldest first.
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}/members", tag = "members",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of members", body = SuccessEnvelope<Vec<MemberView>>),
        (status = 400, description = "`VALIDATION_ERROR` for a bad page parameter", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`", body = ErrorEnvelope),
    )
)]
pub async fn list_members(
    State(state): State<AppState>,
    member: OrgMember,
    query: QueryParams,
) -> Result<ApiResponse<Vec<MemberView>>, ApiError> {
    member.require(Action::ViewMembers)?;
    let page = query.page_only()?;
    let members = state
        .store
        .list_members(member.organization_id(), page)
        .await?;
    Ok(ApiResponse::page("Members", members, MemberView::from))
}

/// Adds an existing user (owner or admin; only owners may add owners).
#[utoipa::path(
    post, path = "/api/v1/organizations/{id}/members", tag = "members",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Organization id")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Member added", body = SuccessEnvelope<MemberView>),
        (status = 400, description = "`VALIDATION_ERROR`", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`: no such organization, or no account with that email", body = ErrorEnvelope),
        (status = 409, description = "`CONFLICT`: already a member", body = ErrorEnvelope),
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    context: RequestContext,
    member: OrgMember,
    ApiJson(body): ApiJson<AddMemberRequest>,
) -> Result<ApiResponse<MemberView>, ApiError> {
    let role = match body.role.as_deref() {
        Some(role) => role
            .parse::<Role>()
            .map_err(|e| ApiError::invalid("role", e))?,
        None => Role::Member,
    };
    let organization = member.organization_id();
    let now = state.clock.now();
    let attempt = AuditEvent::success(AuditAction::MemberAdded, &context.audit(), now)
        .by(member.caller.user.id)
        .in_organization(organization)
        .with("role", role.as_str());
    // Refused before the lookup, so that members cannot probe which emails have accounts.
    member
        .require_audited(&state, Action::AddMember { role }, &attempt)
        .await?;
    // Any string is looked up; one that is no account's address is simply not found.
    let user = match lookup_key(&body.email) {
        Some(key) => state.store.find_user_by_email(&key).await?,
        None => None,
    }
    .ok_or(ApiError::NotFound("user"))?;
    let audit = attempt.on(AuditTarget::user(user.id));
    let added = state
        .audited(
            &audit,
            state.store.add_member(
                organization,
                member.acting(),
                user.id,
                role,
                now,
                audit.clone(),
            ),
        )
        .await?;
    Ok(ApiResponse::created(
        "Member added",
        MemberView::from(added),
    ))
}

/// Removes a member (owner or admin; admins cannot remove owners; anyone may leave).
#[utoipa::path(
    delete, path = "/api/v1/organizations/{id}/members/{user_id}", tag = "members",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 200, description = "Member removed", body = SuccessEnvelope<Option<String>>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`: no such organization or member", body = ErrorEnvelope),
        (status = 409, description = "`CONFLICT`: the last owner cannot be removed", body = ErrorEnvelope),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    context: RequestContext,
    member: OrgMember,
    Path((_, user_id)): Path<(String, String)>,
) -> Result<ApiResponse<Option<()>>, ApiError> {
    let target = find_target(&state, &member, &user_id).await?;
    let is_self = target.user_id == member.caller.user.id;
    let organization = member.organization_id();
    let audit = AuditEvent::success(
        AuditAction::MemberRemoved,
        &context.audit(),
        state.clock.now(),
    )
    .by(member.caller.user.id)
    .in_organization(organization)
    .on(AuditTarget::user(target.user_id))
    .with("role", target.role.as_str())
    .with("left", is_self);
    let action = Action::RemoveMember {
        target: target.role,
        is_self,
    };
    member.require_audited(&state, action, &audit).await?;
    state
        .audited(
            &audit,
            state.store.remove_member(
                organization,
                member.acting(),
                target.user_id,
                target.role,
                audit.clone(),
            ),
        )
        .await?;
    Ok(ApiResponse::ok("Member removed", None))
}

/// Changes a member's role (owner: any change; admin: between member and admin only).
#[utoipa::path(
    patch, path = "/api/v1/organizations/{id}/members/{user_id}/role", tag = "members",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "The member with the new role", body = SuccessEnvelope<MemberView>),
        (status = 400, description = "`VALIDATION_ERROR`", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`: no such organization or member", body = ErrorEnvelope),
        (status = 409, description = "`CONFLICT`: the last owner cannot be demoted", body = ErrorEnvelope),
    )
)]
pub async fn change_member_role(
    State(state): State<AppState>,
    context: RequestContext,
    member: OrgMember,
    Path((_, user_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChangeRoleRequest>,
) -> Result<ApiResponse<MemberView>, ApiError> {
    let role: Role = body
        .role
        .parse()
        .map_err(|e| ApiError::invalid("role", e))?;
    let target = find_target(&state, &member, &user_id).await?;
    let organization = member.organization_id();
    let audit = AuditEvent::success(
        AuditAction::MemberRoleChanged,
        &context.audit(),
        state.clock.now(),
    )
    .by(member.caller.user.id)
    .in_organization(organization)
    .on(AuditTarget::user(target.user_id))
    .with("from", target.role.as_str())
    .with("to", role.as_str());
    let action = Action::ChangeRole {
        from: target.role,
        to: role,
    };
    member.require_audited(&state, action, &audit).await?;
    let changed = state
        .audited(
            &audit,
            state.store.change_member_role(
                organization,
                member.acting(),
                target.user_id,
                target.role,
                role,
                audit.clone(),
            ),
        )
        .await?;
    Ok(ApiResponse::ok("Role changed", MemberView::from(changed)))
}

/// The member named by the path, in the caller's organization.
async fn find_target(
    state: &AppState,
    member: &OrgMember,
    user_id: &str,
) -> Result<Member, ApiError> {
    let user_id: UserId = user_id.parse().map_err(|_| ApiError::NotFound("member"))?;
    state
        .store
        .find_member(member.organization_id(), user_id)
        .await?
        .ok_or(ApiError::NotFound("member"))
}
