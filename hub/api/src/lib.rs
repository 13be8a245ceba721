//! The Switchyard REST API.
//!
//! * [`router`]: the whole axum router — `/healthz`, `/readyz`, `/metrics`,
//!   `/webhooks/{partner}` and everything under `/api/v1` — built from an [`ApiState`] the
//!   daemon assembles, plus the routes integrations contribute.
//! * [`state`]: [`ApiState`] (what the daemon provides, including the runtime's
//!   [`JobAdmission`]) and [`AppState`] (what handlers get).
//! * [`auth`]: API keys from `Authorization: Bearer` or `X-API-Key`, the per-key rate limit
//!   ([`rate_limit`]) and its headers; [`scopes`]: declared scopes and the [`Scoped`]
//!   extractor that checks them.
//! * [`access_log`]: one integration-log row per API call (429s and 401s included).
//! * [`error`]: the one error shape and the extractors that keep to it; [`paging`]: limits
//!   and keyset pages; [`quantities`]: stock quantities as exact decimal strings.
//! * [`routes`]: keys, logs, jobs, retry queue, dead letters, orders, catalog, inventory,
//!   health, each with its OpenAPI annotation; [`openapi`] assembles the document served at `/api/v1/openapi.json`.
//! * [`webhooks`]: `POST /webhooks/{partner}` over the runtime's [`webhooks::WebhookIntake`].
//! * [`metrics`]: the process-wide Prometheus recorder ([`metrics_handle`]).
//! * `testkit` (feature `testkit`): the API on a loopback port over a test database, for the
//!   hub's and integrations' route tests.
//!
//! Integrations build their routes with the same pieces (`AppState`, `Scoped`, `ApiError`,
//! `paging`) and hand them to [`router`]; they land under `/api/v1` behind the key check and
//! in the OpenAPI document.

// Handlers return `Result<_, ApiError>` everywhere; the error is built once per failed request
// and turned into a response at once, so its size (a JSON `details` value, headers) costs
// nothing worth boxing for.
#![allow(clippy::result_large_err)]

pub mod access_log;
pub mod auth;
pub mod error;
mod key_authority;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod paging;
pub mod quantities;
pub mod rate_limit;
pub mod responses;
pub mod routes;
pub mod schemas;
pub mod scopes;
pub mod serve;
pub mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod timeouts;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};
use utoipa_axum::router::OpenApiRouter;

pub use crate::auth::Scoped;
pub use crate::metrics::metrics_handle;
pub use crate::rate_limit::{RateLimits, TierLimit};
pub use crate::scopes::{ScopeSpec, Scopes};
pub use crate::serve::serve;
pub use crate::state::{ApiConfig, ApiState, AppState, JobAdmission, JobRefusal, Readiness};
pub use crate::timeouts::Timeouts;

/// The routes and their OpenAPI document. Middleware is attached only when there is a state
/// for it; the document is the same either way.
fn assemble(
    state: Option<&state::AppState>,
    extra: Vec<OpenApiRouter<state::AppState>>,
) -> (Router<state::AppState>, utoipa::openapi::OpenApi) {
    let mut protected = routes::protected();
    for routes in extra {
        protected = protected.merge(routes);
    }
    // What the layers answer is documented where they are attached, for every route behind them.
    responses::add_to_every_operation(protected.get_openapi_mut(), responses::PROTECTED);
    if let Some(state) = state {
        // `route_layer`: unknown paths get a plain 404 rather than a 401.
        protected = protected.route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    }
    // The v1 fallbacks (an unknown path, a known path with another method) sit inside the
    // access log, so those calls are logged too. A method fallback set on the outer router
    // would replace the inner routes' default one without the layer: 405s went unlogged.
    let mut v1 = OpenApiRouter::new()
        .merge(protected)
        .merge(routes::public_v1())
        .fallback(error::route_not_found);
    responses::add_to_every_operation(v1.get_openapi_mut(), responses::V1);
    let (mut v1, v1_doc) = v1.split_for_parts();
    v1 = v1.method_not_allowed_fallback(error::method_not_allowed);
    if let Some(state) = state {
        v1 = v1.layer(middleware::from_fn_with_state(
            state.clone(),
            access_log::record,
        ));
    }
    let (root, doc) = OpenApiRouter::with_openapi(openapi::base())
        .merge(routes::health())
        .merge(routes::webhooks())
        .split_for_parts();
    let mut doc = doc.nest("/api/v1", v1_doc);
    responses::add_to_every_operation(&mut doc, responses::EVERY_ROUTE);
    (root.nest("/api/v1", v1), doc)
}

/// The OpenAPI document alone (for exports and tests), with the integrations' routes `extra`.
pub fn openapi_document(extra: Vec<OpenApiRouter<state::AppState>>) -> serde_json::Value {
    finish(assemble(None, extra).1)
}

/// The document as JSON, with what is said of every string at once.
fn finish(doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(&doc).expect("the OpenAPI document serializes");
    openapi::forbid_nul(&mut doc);
    doc
}

/// The whole API: `/healthz`, `/readyz`, `/metrics`, `/webhooks/{partner}` and `/api/v1/...`,
/// with the integrations' routes `extra` under `/api/v1`.
pub fn router(api: ApiState, extra: Vec<OpenApiRouter<state::AppState>>) -> Router {
    // Install the recorder now, so what the daemon records before the first scrape is kept.
    metrics::metrics_handle();
    let body_limit = api.config.body_limit_bytes;
    let body_read = api.config.timeouts.body_read;
    let request_limit = api.config.timeouts.request;
    let state = state::AppState::new(api);
    let (router, mut doc) = assemble(Some(&state), extra);
    let scopes: Vec<&str> = state.api.scopes.all().iter().map(|s| s.name).collect();
    openapi::enumerate(&mut doc, "ScopeName", &scopes);
    let kinds = state.api.admission.kinds();
    // The test kit's stub admission cannot say; its document keeps the kinds' form.
    if !kinds.is_empty() {
        openapi::enumerate(&mut doc, "JobKindName", &kinds);
    }
    let doc = finish(doc);
    // The cell is fresh, so this cannot fail; ignore the impossible case rather than panic.
    let _ = state.openapi.set(doc);
    router
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        // Outermost: every route, the webhooks and health included, is bounded in time.
        .layer(middleware::from_fn_with_state(
            request_limit,
            timeouts::limit_request,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_read))
        .with_state(state)
}
