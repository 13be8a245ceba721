//! The base of the OpenAPI document: info, tags, the two ways to present a key and the shared
//! error responses ([`crate::responses`]). Paths and schemas are added by `utoipa-axum` from
//! the handlers' annotations as routes are registered.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub const BEARER: &str = "bearer";
pub const API_KEY: &str = "api_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "Integration hub: API keys, integration logs, jobs, the retry queue and dead letters, \
            orders, and the routes of the integrations this build includes. \
            Every error has the body `{\"error\": {\"code\", \"message\", \"details\"}}`. Authenticated \
            responses carry `X-RateLimit-Limit` (the key tier's burst), `X-RateLimit-Remaining` and \
            `X-RateLimit-Reset` (seconds until the bucket is full); a 429 carries `Retry-After`."
    ),
    modifiers(&Security, &ErrorResponses),
    components(schemas(crate::error::ErrorBody)),
    security(("bearer" = []), ("api_key" = [])),
    tags(
        (name = "keys", description = "API keys (scope admin:keys)"),
        (name = "logs", description = "Integration logs (scope read:logs)"),
        (name = "jobs", description = "Jobs (read:jobs, write:jobs)"),
        (name = "retry-queue", description = "Jobs waiting for a retry (read:jobs, write:jobs)"),
        (name = "dead-letters", description = "Dead letters (read:dead-letters, write:dead-letters)"),
        (name = "orders", description = "Orders (pending review, fixes) and the customers and products they are checked against (read:orders, write:orders)"),
        (name = "webhooks", description = "Partners' webhook deliveries: no API key, verified by the partner's adapter"),
        (name = "operations", description = "Health, readiness, metrics, this document")
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sy_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.responses.extend(crate::responses::all());
    }
}

/// Replace the schema component `name` by an enum of `values`: what the served document knows
/// and a document built without a server does not, such as the scopes this build declares
/// (`ScopeName`) and the job kinds its runtime knows (`JobKindName`), so a client (or a
/// fuzzer) knows which are valid.
pub(crate) fn enumerate<T: serde::Serialize>(
    doc: &mut utoipa::openapi::OpenApi,
    name: &str,
    values: &[T],
) {
    if let Some(components) = doc.components.as_mut() {
        components
            .schemas
            .insert(name.to_owned(), crate::schemas::one_of(values).into());
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
