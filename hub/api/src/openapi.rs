//! The base of the OpenAPI document: info, tags, the two ways to present a key and the shared
//! error responses ([`crate::responses`]). Paths and schemas are added by `utoipa-axum` from
//! the handlers' annotations as routes are registered.

use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub const BEARER: &str = "bearer";
pub const API_KEY: &str = "api_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "Integration hub: API keys, integration logs, jobs, the retry queue and dead letters, \
            orders, the catalog and its inventory, and the routes of the integrations this build includes. \
            Every error has the body `{\"error\": {\"code\", \"message\", \"details\"}}`. Authenticated \
            responses carry `X-RateLimit-Limit` (the key tier's burst), `X-RateLimit-Remaining` and \
            `X-RateLimit-Reset` (seconds until the bucket is full); a 429 carries `Retry-After`. \
            No text may contain the NUL character (U+0000: every plain string's schema says so with \
            its `pattern`, and so does a string anywhere in a free-form JSON value) and no number \
            may be beyond a 64-bit float: the database cannot store them, so they are refused \
            (400 in a path or query, 422 in a body)."
    ),
    modifiers(&Security, &ErrorResponses),
    components(schemas(crate::error::ErrorBody, crate::routes::catalog::ProductItem,
        crate::outbound::WebhookPayload, crate::outbound::ProductEventData,
        crate::outbound::InventoryEventData, crate::outbound::PriceEventData,
        crate::outbound::OrderEventData, crate::outbound::DeadLetterEventData,
        crate::outbound::SupplierStatusEventData, crate::outbound::LowStockEventData,
        crate::outbound::BomEventData, crate::outbound::ExportEventData,
        crate::outbound::EndpointDisabledEventData,
        crate::outbound::ShipmentEventData, crate::outbound::InvoiceEventData,
        crate::outbound::EdiReceivedEventData, crate::outbound::EdiFailedEventData)),
    security(("bearer" = []), ("api_key" = [])),
    tags(
        (name = "keys", description = "API keys (scope admin:keys)"),
        (name = "logs", description = "Integration logs (scope read:logs)"),
        (name = "jobs", description = "Jobs (read:jobs, write:jobs)"),
        (name = "retry-queue", description = "Jobs waiting for a retry (read:jobs, write:jobs)"),
        (name = "dead-letters", description = "Dead letters (read:dead-letters, write:dead-letters)"),
        (name = "orders", description = "Orders (created through the API, pending review, fixes), their shipments, and the customers and products they are checked against (read:orders, write:orders)"),
        (name = "invoices", description = "Invoices with their lines, optionally for a sales order (read:orders, write:orders)"),
        (name = "pricing", description = "The price each customer sees (read:pricing) and the price data behind it (write:catalog). Camel-case shapes after SteelWise 3.2; amounts are decimal strings"),
        (name = "catalog", description = "Products with their storefront data and variants, and the change feed every sync reads (read:catalog, write:catalog)"),
        (name = "imports", description = "Product and BOM files (CSV, XLSX, JSON; XML through a mapping) read through mapping files: templates, upload, errors by row and column, preview, confirm with a conflict policy (write:catalog; read:catalog to look)"),
        (name = "exports", description = "Products, orders, order lines, inventory, customers, shipments and invoices as CSV (UTF-8 with BOM), JSON or XML (schema: hub/export/schemas/export.xsd): a job that writes a file kept 24 hours, with progress, or a synchronous stream of at most 10,000 rows (the entity's read scope: read:catalog, read:inventory, read:orders)"),
        (name = "inventory", description = "Stock per location, availability and soft reservations (read:inventory, write:inventory)"),
        (name = "syncs", description = "The sync engine: each partner's catalog, inventory and price syncs, their checkpoints, lag and last run; runs on demand (read:jobs, write:jobs)"),
        (name = "pulls", description = "Scheduled pulls from partners (the distributor's core system) into the catalog, stock and list prices: their cursors and last runs' figures; runs on demand (read:catalog, write:catalog)"),
        (name = "webhooks", description = "Partners' webhook deliveries: no API key, verified by the partner's adapter"),
        (name = "outbound-webhooks", description = "Endpoints that receive the hub's domain events, signed by Standard Webhooks 1.0 (read:webhooks, write:webhooks). Each delivery's body is a `WebhookPayload`; deliveries are not ordered, each carries its event's time"),
        (name = "events", description = "Domain events recorded with the changes they describe (read:webhooks); payload schemas per type: `ProductEventData`, `InventoryEventData`, `PriceEventData`, `OrderEventData`, `SupplierStatusEventData`, `LowStockEventData`, `DeadLetterEventData`, `BomEventData`, `ExportEventData`, `EndpointDisabledEventData`, `ShipmentEventData`, `InvoiceEventData`, `EdiReceivedEventData`, `EdiFailedEventData`"),
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

/// What a plain string's schema (no format, enum or pattern of its own) is given: no NUL.
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// Say in the schema of every plain string of the document (`doc` as JSON) that it holds no
/// NUL, which the API refuses everywhere (`crate::error`'s extractors): a client, or a fuzzer,
/// that follows the document then never sends one. A string with a format (uuid, date-time)
/// or an enum cannot hold one anyway; the patterns of `crate::schemas` exclude it themselves.
pub(crate) fn forbid_nul(doc: &mut Value) {
    visit(doc, false);
}

/// Walk `value`; `schema` says it stands where a schema does (not an example, not a name).
fn visit(value: &mut Value, schema: bool) {
    match value {
        Value::Object(map) => {
            if schema {
                constrain(map);
            }
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "schema" | "items" | "additionalProperties" | "not" => visit(child, true),
                    // Maps from names to schemas.
                    "properties" | "schemas" => {
                        if let Value::Object(named) = child {
                            named.values_mut().for_each(|s| visit(s, true));
                        }
                    }
                    "oneOf" | "anyOf" | "allOf" | "prefixItems" => {
                        if let Value::Array(schemas) = child {
                            schemas.iter_mut().for_each(|s| visit(s, true));
                        }
                    }
                    // Values, not schemas.
                    "example" | "examples" | "enum" | "const" | "default" => {}
                    _ => visit(child, false),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| visit(v, false)),
        _ => {}
    }
}

fn constrain(schema: &mut serde_json::Map<String, Value>) {
    let is_string = match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    let described = ["format", "enum", "const", "pattern"]
        .iter()
        .any(|k| schema.contains_key(*k));
    if is_string && !described {
        schema.insert("pattern".to_owned(), Value::from(NO_NUL));
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
