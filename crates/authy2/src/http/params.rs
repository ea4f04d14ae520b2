//! Query parameters and enumerations as the OpenAPI document describes them. Parsing happens in
//! `query.rs` and the domain types; these types only give the document the same constraints.

use authy2_core::{AuditAction, Role};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// `page` and `per_page` of every list.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u32>,
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u32>,
}

/// Filters of the audit log.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilterParams {
    /// Only this action.
    #[param(value_type = Option<AuditActionName>)]
    pub action: Option<String>,
    /// Only events by this user.
    #[param(value_type = Option<uuid::Uuid>)]
    pub actor_id: Option<String>,
    /// At or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00Z")]
    pub since: Option<String>,
    /// Before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
}

/// A role's name: `owner`, `admin` or `member`.
#[derive(Debug)]
pub struct RoleName;

impl PartialSchema for RoleName {
    fn schema() -> RefOr<Schema> {
        string_enum(Role::ALL.iter().map(|role| role.as_str()))
    }
}

impl ToSchema for RoleName {}

/// An audit action's name, e.g. `auth.login`.
#[derive(Debug)]
pub struct AuditActionName;

impl PartialSchema for AuditActionName {
    fn schema() -> RefOr<Schema> {
        string_enum(AuditAction::ALL.iter().map(|action| action.as_str()))
    }
}

impl ToSchema for AuditActionName {}

fn string_enum(values: impl Iterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .into()
}
