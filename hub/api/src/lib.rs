//! The Switchyard REST API.
//!
//! * [`router`]: the whole axum router — `/healthz`, `/readyz`, `/metrics` and everything
//!   under `/api/v1` — built from an [`ApiState`] the daemon assembles.
//! * [`auth`]: API keys from `Authorization: Bearer` or `X-API-Key`, scopes, the per-key rate
//!   limit ([`rate_limit`]) and its headers.
//! * [`access_log`]: one integration-log row per API call (429s and 401s included).
//! * [`error`]: the one error shape and the extractors that keep to it.
//! * [`routes`]: keys, logs, jobs, retry queue, dead letters, health, each with its OpenAPI
//!   annotation; [`openapi`] assembles the document served at `/api/v1/openapi.json`.
//! * [`metrics`]: the process-wide Prometheus recorder ([`metrics_handle`]).

// Handlers return `Result<_, ApiError>` everywhere; the error is built once per failed request
// and turned into a response at once, so its size (a JSON `details` value, headers) costs
// nothing worth boxing for.
#![allow(clippy::result_large_err)]

pub mod access_log;
pub mod auth;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod routes;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};
use serde::Deserialize;
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};
use switchyard_store::logs::Masker;
use switchyard_store::queue::{Queue, RetrySpec};
use utoipa_axum::router::OpenApiRouter;

pub use crate::metrics::metrics_handle;
pub use crate::rate_limit::{RateLimits, TierLimit};

/// The job kinds the daemon can run, and their retry policy. The API enqueues only kinds it
/// resolves; an unknown kind is answered with 422 and the list of known ones.
pub trait JobKinds: Send + Sync {
    /// The retry policy for `kind` (possibly overridden for `partner`), or `None` if the kind
    /// is unknown.
    fn resolve(&self, kind: &str, partner: Option<&str>) -> Option<RetrySpec>;
    /// Every known kind, for error messages.
    fn known(&self) -> Vec<String>;
}

/// API settings (the `[api]` section of the daemon's config, minus the bind address).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Request bodies above this get 413.
    pub body_limit_bytes: usize,
    pub rate_limits: RateLimits,
    /// Field names masked in logged bodies, on top of the built-in ones (password, token,
    /// secret, authorization, api key, ...).
    pub sensitive_fields: Vec<String>,
    /// The EDI trading partners the daemon is configured with (`POST /edi/send` refuses others
    /// with 422). Not read from the `[api]` table: the daemon fills it in from its partner
    /// configuration, because this crate reads no configuration of its own.
    #[serde(skip)]
    pub edi_partners: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            rate_limits: RateLimits::default(),
            sensitive_fields: Vec::new(),
            edi_partners: Vec::new(),
        }
    }
}

/// What the router needs from the daemon.
#[derive(Clone)]
pub struct ApiState {
    pub pool: PgPool,
    pub queue: Queue,
    pub job_kinds: Arc<dyn JobKinds>,
    pub config: ApiConfig,
}

/// The router's own state: the daemon's plus what the API builds from it once.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub api: ApiState,
    pub limiter: rate_limit::RateLimiter,
    pub masker: Masker,
    /// The OpenAPI document, filled in once the router (and so the document) is built.
    pub openapi: OnceLock<serde_json::Value>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    fn new(api: ApiState) -> Self {
        let limiter = rate_limit::RateLimiter::new(api.config.rate_limits);
        let masker = Masker::with_fields(&api.config.sensitive_fields);
        Self(Arc::new(Inner {
            api,
            limiter,
            masker,
            openapi: OnceLock::new(),
        }))
    }
}

/// The routes and their OpenAPI document. Middleware is attached only when there is a state
/// for it; the document is the same either way.
fn assemble(state: Option<&AppState>) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut protected = routes::protected();
    if let Some(state) = state {
        // `route_layer`: unknown paths get a plain 404 rather than a 401.
        protected = protected.route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    }
    // The v1 fallback sits inside the access log, so calls to unknown paths are logged too.
    let mut v1 = OpenApiRouter::new()
        .merge(protected)
        .merge(routes::public_v1())
        .fallback(error::route_not_found);
    if let Some(state) = state {
        v1 = v1.layer(middleware::from_fn_with_state(
            state.clone(),
            access_log::record,
        ));
    }
    OpenApiRouter::with_openapi(openapi::base())
        .nest("/api/v1", v1)
        .merge(routes::health())
        .split_for_parts()
}

/// The OpenAPI document alone (for exports and tests).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    assemble(None).1
}

/// The whole API: `/healthz`, `/readyz`, `/metrics`, and `/api/v1/...`.
pub fn router(state: ApiState) -> Router {
    // Install the recorder now, so what the daemon records before the first scrape is kept.
    metrics::metrics_handle();
    let body_limit = state.config.body_limit_bytes;
    let state = AppState::new(state);
    let (router, doc) = assemble(Some(&state));
    let doc = serde_json::to_value(&doc).expect("the OpenAPI document serializes");
    // The cell is fresh, so this cannot fail; ignore the impossible case rather than panic.
    let _ = state.openapi.set(doc);
    router
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
