//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the interactive
//! docs page (Swagger UI, whose assets are compiled into the binary so it works offline).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::envelope::{ErrorBody, ErrorEnvelope, PageMeta};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// Where the docs page is served.
pub const DOCS_PATH: &str = "/api/docs";

/// The document's fixed parts; paths are added by the router as routes are registered.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Authy2",
        description = "Authentication and authorization API: password accounts, sessions, \
            organizations with roles, and an audit log.\n\n\
            Every response is an envelope `{ version, success, code, message, request_id, data | error, meta? }`. \
            Errors carry `error.type`, one of `BAD_REQUEST`, `VALIDATION_ERROR`, \
            `AUTHENTICATION_REQUIRED`, `INVALID_CREDENTIALS`, `CSRF_FAILED`, `FORBIDDEN`, \
            `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `CONFLICT`, `PAYLOAD_TOO_LARGE`, \
            `UNSUPPORTED_MEDIA_TYPE`, `RATE_LIMITED`, `INTERNAL_ERROR`, `SERVICE_UNAVAILABLE`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "health", description = "Service health"),
        (name = "auth", description = "Register, log in and out, sessions"),
        (name = "users", description = "The caller's own account"),
        (name = "organizations", description = "Organizations"),
        (name = "members", description = "Organization members and roles"),
        (name = "audit", description = "The audit log"),
    ),
    components(schemas(ErrorEnvelope, ErrorBody, PageMeta)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

/// Adds the two ways to present a session token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `data.session.token` of a login or registration"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::cookies::SESSION_COOKIE,
                "Set by login and registration; unsafe methods must come from an allowed origin",
            ))),
        );
    }
}

/// Completes the generated document: every operation also documents the failures any request
/// can meet (`4XX`, `5XX`: a malformed body, an oversized one, a rate limit, a store outage), so a
/// client — or a contract test — finds every possible answer described.
pub fn finish(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                    .build(),
            )
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            responses.entry("4XX".to_owned()).or_insert_with(|| {
                error("Any other client error in the envelope: `BAD_REQUEST`, `VALIDATION_ERROR`, \
                       `METHOD_NOT_ALLOWED`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`, `RATE_LIMITED` …")
                .into()
            });
            responses.entry("5XX".to_owned()).or_insert_with(|| {
                error("`INTERNAL_ERROR`, or `SERVICE_UNAVAILABLE` when a backing store is down")
                    .into()
            });
        }
    }
    openapi
}

/// The docs page and the document, as routes.
pub fn routes(openapi: utoipa::openapi::OpenApi) -> SwaggerUi {
    // No validator badge: it is an image from elsewhere, which the page must never load.
    let config = Config::new([OPENAPI_PATH])
        .validator_url("none")
        .try_it_out_enabled(true);
    SwaggerUi::new(DOCS_PATH)
        .url(OPENAPI_PATH, openapi)
        .config(config)
}
