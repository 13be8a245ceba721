//! `POST /api/v1/integrations/comarch/test` (`write:optima`, FR-INT-012 "Test Connection"):
//! runs the connection's health check now (rest: `GET /api/ping` with the key and secret;
//! xml-exchange: the folder is reachable and writable and a probe file round-trips) and
//! answers what failed in words. 200 either way (the test ran); 422 for an unknown connection,
//! 404 for another organization's (every Optima route: `owner.rs`).

// Handlers return `Result<_, ApiError>`, the API's one error shape.
#![allow(clippy::result_large_err)]

use crate::config::Surface;
use crate::OptimaAdapter;
use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use switchyard_api::error::{ApiError, ApiJson, ErrorBody};
use switchyard_api::responses::{BadRequest, UnsupportedMediaType};
use switchyard_api::{AppState, ScopeSpec, Scoped};
use switchyard_core::adapter::{Adapter, NullSink};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod accounts;
pub mod invoices;
mod owner;
pub mod vat;

pub use owner::owns;
pub(crate) use owner::{job_owns, owned_connection, refuse_foreign};

pub const SCOPES: &[ScopeSpec] = &[
    ScopeSpec {
        name: "read:optima",
        about: "Comarch ERP Optima: invoices' sync status, the chart of accounts, VAT files",
    },
    ScopeSpec {
        name: "write:optima",
        about: "Comarch ERP Optima: test connections, record and push invoices, pull the chart of accounts, generate VAT files",
    },
];

switchyard_api::scope_marker!(ReadOptima => "read:optima", WriteOptima => "write:optima");

/// The configured Optima connections by partner name.
pub type Connections = BTreeMap<String, Arc<OptimaAdapter>>;

#[derive(OpenApi)]
#[openapi(tags((name = "optima", description = "Comarch ERP Optima connections (write:optima)")))]
struct OptimaTags;

pub fn router(connections: Arc<Connections>) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(OptimaTags::openapi())
        .routes(routes!(test_connection))
        .merge(invoices::router())
        .merge(accounts::router())
        .merge(vat::router())
        .layer(Extension(connections))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestConnection {
    /// The connection: a `[partners.NAME]` with `kind = "optima"`.
    pub partner: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTested {
    pub partner: String,
    /// `xml-exchange` or `rest`.
    pub surface: String,
    pub ok: bool,
    /// What was checked, or what failed, in words.
    pub message: String,
    /// `transient`, `auth`, `permanent` when the test failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
}

/// Test an Optima connection now: rest calls `GET /api/ping` with the key and secret;
/// xml-exchange checks the folder is reachable and writable and that a probe file reads back.
#[utoipa::path(post, path = "/integrations/comarch/test", tag = "optima",
    request_body = TestConnection,
    responses(
        (status = 200, description = "the test ran; `ok` says whether it passed, `message` what failed", body = ConnectionTested),
        (status = 400, response = BadRequest),
        (status = 404, description = "the connection belongs to another organization", body = ErrorBody),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "no Optima connection of that name (`unknown_partner`), or an invalid body", body = ErrorBody)
    ))]
async fn test_connection(
    State(app): State<AppState>,
    Extension(connections): Extension<Arc<Connections>>,
    Scoped(auth, _): Scoped<WriteOptima>,
    ApiJson(body): ApiJson<TestConnection>,
) -> Result<Json<ConnectionTested>, ApiError> {
    let name = body.partner.trim();
    let adapter = owned_connection(&app.api.pool, &connections, auth.org, name).await?;
    let surface = match adapter.partner().surface {
        Surface::Rest(_) => "rest",
        Surface::XmlExchange(_) => "xml-exchange",
    };
    let ctx = switchyard_core::adapter::AdapterContext {
        org: auth.org,
        job: None,
        idempotency_key: format!("connection-test-{}", uuid::Uuid::now_v7().simple()),
        correlation_id: String::new(),
        attempt: 1,
        sink: Arc::new(NullSink),
    };
    let tested = match adapter.health(&ctx).await {
        Ok(()) => ConnectionTested {
            partner: name.to_owned(),
            surface: surface.into(),
            ok: true,
            message: match surface {
                "rest" => {
                    "Optima answered GET /api/ping and accepted the API key and secret".into()
                }
                _ => "the exchange folder is reachable and writable; a probe file read back intact"
                    .into(),
            },
            error_class: None,
        },
        Err(e) => ConnectionTested {
            partner: name.to_owned(),
            surface: surface.into(),
            ok: false,
            message: e.message.clone(),
            error_class: Some(e.class.as_str().to_owned()),
        },
    };
    Ok(Json(tested))
}
