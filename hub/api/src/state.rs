//! What the router needs from the daemon ([`ApiState`]), and the state handlers get
//! ([`AppState`]): the daemon's parts plus what the API builds from them once.

use crate::error::ErrorCode;
use crate::rate_limit::{RateLimiter, RateLimits};
use crate::scopes::Scopes;
use crate::webhooks::WebhookIntake;
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};
use switchyard_core::redact::SecretValues;
use switchyard_store::logs::Masker;
use switchyard_store::queue::{Queue, RetrySpec};

/// Why a job may not be enqueued, in the API's words.
#[derive(Debug, Clone)]
pub struct JobRefusal {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
}

/// The runtime's admission of jobs: a known kind, and a partner that exists and declares the
/// capability the job needs. The API enqueues only what this admits; the refusal is a 422
/// naming why.
pub trait JobAdmission: Send + Sync {
    /// The job's retry policy (possibly overridden for `partner`), or why it is refused.
    fn admit(
        &self,
        kind: &str,
        partner: Option<&str>,
        payload: &Value,
    ) -> Result<RetrySpec, JobRefusal>;

    /// The job kinds it knows, for the OpenAPI document (`kind` of `POST /jobs` is one of
    /// them); empty when it cannot say, and the document names only their form.
    fn kinds(&self) -> Vec<String> {
        Vec::new()
    }
}

/// What the daemon knows about its own long-lived tasks (the worker's claiming, acking and
/// leases, the scheduler, the log writer). `/readyz` is 503 while this names a problem.
pub trait Readiness: Send + Sync {
    /// Why the process is not ready; empty when it is.
    fn problems(&self) -> Vec<String>;
}

/// API settings (the `[api]` section of the daemon's config, minus the bind address).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Request bodies above this get 413.
    pub body_limit_bytes: usize,
    /// The limit of an import upload (`POST /imports`) instead: files are larger than API
    /// calls. 413 above it, naming it.
    pub import_limit_bytes: usize,
    pub rate_limits: RateLimits,
    /// Field names masked in logged bodies, on top of the built-in ones (password, token,
    /// secret, authorization, api key, ...).
    pub sensitive_fields: Vec<String>,
    /// Header-read, body-read and whole-request limits on slow clients (set from the
    /// daemon's `[api]` `*_timeout_ms` keys).
    #[serde(skip)]
    pub timeouts: crate::timeouts::Timeouts,
    /// Outbound webhooks (the daemon's `[webhooks]` section): which hosts plain http may
    /// reach, the secret rotation overlap.
    #[serde(skip)]
    pub webhooks: crate::outbound::WebhookSettings,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            import_limit_bytes: 10 * 1024 * 1024,
            rate_limits: RateLimits::default(),
            sensitive_fields: Vec::new(),
            timeouts: crate::timeouts::Timeouts::default(),
            webhooks: crate::outbound::WebhookSettings::default(),
        }
    }
}

/// What the router needs from the daemon.
#[derive(Clone)]
pub struct ApiState {
    pub pool: PgPool,
    pub queue: Queue,
    pub admission: Arc<dyn JobAdmission>,
    pub config: ApiConfig,
    /// The scopes keys may hold: the hub's and every integration's.
    pub scopes: Scopes,
    /// `POST /webhooks/{partner}`; absent, the route answers 404.
    pub webhooks: Option<Arc<dyn WebhookIntake>>,
    /// The migration versions this build expects applied (`/readyz`).
    pub migrations: Vec<i64>,
    /// Partners' credential values, masked in logged bodies and in job payloads shown.
    pub secret_values: SecretValues,
    /// The daemon's tasks (`/readyz`); absent, only the database is checked.
    pub readiness: Option<Arc<dyn Readiness>>,
    /// The mapping files product imports read uploads through; absent, every mapping name
    /// is unknown.
    pub mappings: Option<Arc<dyn switchyard_import::MappingSource>>,
}

impl ApiState {
    /// The hub's scopes and migrations, no webhook intake.
    pub fn new(
        pool: PgPool,
        queue: Queue,
        admission: Arc<dyn JobAdmission>,
        config: ApiConfig,
    ) -> Self {
        Self {
            pool,
            queue,
            admission,
            config,
            scopes: Scopes::hub(),
            webhooks: None,
            secret_values: SecretValues::default(),
            migrations: switchyard_store::MIGRATOR
                .iter()
                .filter(|m| !m.migration_type.is_down_migration())
                .map(|m| m.version)
                .collect(),
            readiness: None,
            mappings: None,
        }
    }
}

/// The router's own state: the daemon's plus what the API builds from it once.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub api: ApiState,
    pub limiter: RateLimiter,
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
    pub(crate) fn new(api: ApiState) -> Self {
        let limiter = RateLimiter::new(api.config.rate_limits);
        let masker = Masker::with_fields(&api.config.sensitive_fields)
            .with_values(api.secret_values.clone());
        Self(Arc::new(Inner {
            api,
            limiter,
            masker,
            openapi: OnceLock::new(),
        }))
    }
}
