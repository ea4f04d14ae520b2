//! Organizations: create, read, rename, delete. Who may do what is decided by
//! `authy2_core::authz`; the membership is loaded by the `OrgMember` extractor.

use authy2_core::audit::{AuditAction, AuditEvent, AuditTarget};
use authy2_core::authz::Action;
use authy2_core::organization::{NewOrganization, OrganizationName, OrganizationUpdate};
use authy2_core::store::Conflict;
use authy2_core::{OrganizationId, Slug, StoreError, ValidationErrors};
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiError;
use super::context::RequestContext;
use super::envelope::{ApiResponse, ErrorEnvelope, SuccessEnvelope};
use super::extract::{CurrentUser, OrgMember};
use super::json::ApiJson;
use super::views::OrganizationView;
use crate::state::AppState;

/// A new organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    /// 1–100 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$",
        example = "Acme Corp"
    )]
    pub name: String,
    /// 3–63 of `[a-z0-9-]`, not starting or ending with `-`; derived from the name when absent.
    #[schema(
        min_length = 3,
        max_length = 63,
        pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
        example = "acme-corp"
    )]
    pub slug: Option<String>,
}

/// Fields of an organization to change; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    /// 1–100 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$"
    )]
    pub name: Option<String>,
    /// 3–63 of `[a-z0-9-]`, not starting or ending with `-`.
    #[schema(
        min_length = 3,
        max_length = 63,
        pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    )]
    pub slug: Option<String>,
}

/// Creates an organization; the caller becomes its owner.
#[utoipa::path(
    post, path = "/api/v1/organizations", tag = "organizations",
    security(("bearer" = []), ("cookie" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Organization created", body = SuccessEnvelope<OrganizationView>),
        (status = 400, description = "`VALIDATION_ERROR`", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 409, description = "`CONFLICT`: the slug given is taken", body = ErrorEnvelope),
    )
)]
pub async fn create_organization(
    State(state): State<AppState>,
    context: RequestContext,
    caller: CurrentUser,
    ApiJson(body): ApiJson<CreateOrganizationRequest>,
) -> Result<ApiResponse<OrganizationView>, ApiError> {
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", OrganizationName::parse(&body.name));
    let given_slug = body
        .slug
        .as_deref()
        .and_then(|slug| errors.check("slug", Slug::parse(slug)));
    errors.into_result()?;
    let name = name.ok_or_else(|| ApiError::Internal("validated name missing".into()))?;

    // A slug the client chose is theirs or a 409; a derived one is made unique by a suffix.
    let candidates: Vec<Slug> = match given_slug {
        Some(slug) => vec![slug],
        None => Slug::derive(name.as_str()).candidates().collect(),
    };
    let id = OrganizationId::generate();
    for slug in candidates {
        let now = state.clock.now();
        let audit = AuditEvent::success(AuditAction::OrganizationCreated, &context.audit(), now)
            .by(caller.user.id)
            .in_organization(id)
            .on(AuditTarget::organization(id))
            .with("name", name.as_str())
            .with("slug", slug.as_str());
        let new = NewOrganization {
            id,
            name: name.clone(),
            slug,
            created_at: now,
        };
        match state
            .store
            .insert_organization(new, caller.user.id, audit)
            .await
        {
            Ok(organization) => {
                return Ok(ApiResponse::created(
                    "Organization created",
                    OrganizationView::from(&organization),
                ));
            }
            Err(StoreError::Conflict(Conflict::SlugTaken)) if body.slug.is_none() => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Conflict(Conflict::SlugTaken))
}

/// An organization the caller belongs to.
#[utoipa::path(
    get, path = "/api/v1/organizations/{id}", tag = "organizations",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The organization", body = SuccessEnvelope<OrganizationView>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`: no such organization, or the caller is not a member", body = ErrorEnvelope),
    )
)]
pub async fn get_organization(
    member: OrgMember,
) -> Result<ApiResponse<OrganizationView>, ApiError> {
    member.require(Action::ViewOrganization)?;
    Ok(ApiResponse::ok(
        "Organization",
        OrganizationView::from(&member.membership.organization),
    ))
}

/// Renames an organization or changes its slug (owner or admin).
#[utoipa::path(
    patch, path = "/api/v1/organizations/{id}", tag = "organizations",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Organization id")),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, description = "The updated organization", body = SuccessEnvelope<OrganizationView>),
        (status = 400, description = "`VALIDATION_ERROR`", body = ErrorEnvelope),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`: members may not change the organization", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`", body = ErrorEnvelope),
        (status = 409, description = "`CONFLICT`: the slug is taken", body = ErrorEnvelope),
    )
)]
pub async fn update_organization(
    State(state): State<AppState>,
    context: RequestContext,
    member: OrgMember,
    ApiJson(body): ApiJson<UpdateOrganizationRequest>,
) -> Result<ApiResponse<OrganizationView>, ApiError> {
    let id = member.organization_id();
    let now = state.clock.now();
    let mut audit = AuditEvent::success(AuditAction::OrganizationUpdated, &context.audit(), now)
        .by(member.caller.user.id)
        .in_organization(id)
        .on(AuditTarget::organization(id));
    member
        .require_audited(&state, Action::UpdateOrganization, &audit)
        .await?;
    let mut errors = ValidationErrors::new();
    let update = OrganizationUpdate {
        name: body
            .name
            .as_deref()
            .and_then(|name| errors.check("name", OrganizationName::parse(name))),
        slug: body
            .slug
            .as_deref()
            .and_then(|slug| errors.check("slug", Slug::parse(slug))),
    };
    errors.into_result()?;
    if update.is_empty() {
        return Ok(ApiResponse::ok(
            "Nothing to change",
            OrganizationView::from(&member.membership.organization),
        ));
    }
    if let Some(name) = &update.name {
        audit = audit.with("name", name.as_str());
    }
    if let Some(slug) = &update.slug {
        audit = audit.with("slug", slug.as_str());
    }
    let organization = state
        .audited(
            &audit,
            state
                .store
                .update_organization(id, update, now, audit.clone()),
        )
        .await?;
    Ok(ApiResponse::ok(
        "Organization updated",
        OrganizationView::from(&organization),
    ))
}

/// Deletes an organization with its memberships (owner only).
#[utoipa::path(
    delete, path = "/api/v1/organizations/{id}", tag = "organizations",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "Organization deleted", body = SuccessEnvelope<Option<String>>),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`: only owners may delete", body = ErrorEnvelope),
        (status = 404, description = "`NOT_FOUND`", body = ErrorEnvelope),
    )
)]
pub async fn delete_organization(
    State(state): State<AppState>,
    context: RequestContext,
    member: OrgMember,
) -> Result<ApiResponse<Option<()>>, ApiError> {
    let id = member.organization_id();
    let audit = AuditEvent::success(
        AuditAction::OrganizationDeleted,
        &context.audit(),
        state.clock.now(),
    )
    .by(member.caller.user.id)
    .in_organization(id)
    .on(AuditTarget::organization(id))
    .with("slug", member.membership.organization.slug.as_str());
    member
        .require_audited(&state, Action::DeleteOrganization, &audit)
        .await?;
    state.store.delete_organization(id, audit).await?;
    Ok(ApiResponse::ok("Organization deleted", None))
}
