//! `probe`: a partner system defined here, outside every hub crate, that uses every part of
//! the integration seam — the proof that the next adapter touches only its own home plus one
//! line. It contributes:
//!
//! * a config section `[probe]` (`greeting`, strict, problems located) and a partner kind
//!   `probe` (`[partners.NAME]` with `kind = "probe"` and a `webhook_secret`);
//! * its own migration (tables `probe_greetings`, `probe_webhook_events`, version 9001);
//! * a job kind `probe.greet` (`{"name": ...}`) that stores a greeting;
//! * routes `POST /api/v1/probe/greet` (scope `write:probe`) and `GET /api/v1/probe/greetings`
//!   (`read:probe`), listed in the OpenAPI document;
//! * an adapter per partner that receives Standard Webhooks deliveries, and a webhook processor
//!   that records each delivery (counting how often it ran);
//! * a `check` rule: a schedule of `probe.greet` must name someone to greet.

use async_trait::async_trait;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchyard_adapter_http::webhook::{receive, WebhookKey};
use switchyard_api::error::{ApiError, ApiJson};
use switchyard_api::responses::{BadRequest, UnprocessableEntity, UnsupportedMediaType};
use switchyard_api::{AppState, ScopeSpec, Scoped};
use switchyard_core::adapter::{Adapter, AdapterContext, Capability, VerifiedWebhook};
use switchyard_core::diag::Diagnostic;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::integration::{
    BuildContext, CheckContext, Integration, MetricKind, MetricSpec, Parts,
};
use switchyard_runtime::job::{Job, JobKindSpec};
use switchyard_runtime::webhooks::{Delivery, WebhookProcessor};
use switchyard_store::queue::{ClaimedJob, NewJob};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub const PARTNER_KIND: &str = "probe";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/probe_migrations");

/// `[probe]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSection {
    pub greeting: String,
}

impl Default for ProbeSection {
    fn default() -> Self {
        Self {
            greeting: "hello".into(),
        }
    }
}

/// `[partners.NAME]` with `kind = "probe"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbePartner {
    /// The `whsec_…` secret its webhooks are signed with, as a credential reference.
    pub webhook_secret: String,
}

/// `probe.greet`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Greet {
    pub name: String,
}

impl JobPayload for Greet {
    const KIND: &'static str = "probe.greet";
}

const SCOPES: &[ScopeSpec] = &[
    ScopeSpec {
        name: "read:probe",
        about: "the probe's greetings",
    },
    ScopeSpec {
        name: "write:probe",
        about: "ask the probe to greet someone",
    },
];

switchyard_api::scope_marker!(ReadProbe => "read:probe", WriteProbe => "write:probe");

/// The integration.
#[derive(Debug, Default)]
pub struct Probe;

impl Integration for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn partner_kinds(&self) -> &'static [&'static str] {
        &[PARTNER_KIND]
    }

    fn sections(&self) -> &'static [&'static str] {
        &["probe"]
    }

    fn scopes(&self) -> &'static [ScopeSpec] {
        SCOPES
    }

    fn migrations(&self) -> Option<&'static sqlx::migrate::Migrator> {
        Some(&MIGRATOR)
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let section = cx.section("probe");
        let settings: ProbeSection = section.parse().unwrap_or_else(|d| {
            problems.push(d);
            ProbeSection::default()
        });
        if settings.greeting.trim().is_empty() {
            problems.push(section.problem(&["greeting"], "must not be empty"));
        }
        let mut adapters: Vec<(String, Arc<dyn Adapter>)> = Vec::new();
        for partner in cx.partners(&[PARTNER_KIND]) {
            let p: ProbePartner = match partner.parse() {
                Ok(p) => p,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            let key = cx
                .secrets_for(&partner)
                .resolve(&p.webhook_secret)
                .map_err(|e| e.message)
                .and_then(|secret| WebhookKey::parse(&secret));
            match key {
                Ok(key) => adapters.push((partner.name.to_owned(), Arc::new(ProbeAdapter { key }))),
                Err(m) => problems.push(partner.problem(&["webhook_secret"], m)),
            }
        }
        let greeting = Arc::new(settings.greeting);
        Parts {
            adapters,
            jobs: vec![JobKindSpec::typed(GreetJob {
                greeting: greeting.clone(),
            })],
            routes: Some(routes(greeting)),
            webhook_processors: vec![(PARTNER_KIND, Arc::new(RecordDelivery))],
            metrics: vec![MetricSpec {
                name: "switchyard_probe_greetings_total",
                kind: MetricKind::Counter,
                help: "greetings the probe stored",
            }],
        }
    }

    /// A schedule of `probe.greet` must say whom to greet.
    fn check(&self, cx: &CheckContext<'_>) -> Vec<Diagnostic> {
        cx.schedules
            .iter()
            .filter(|s| s.job == Greet::KIND)
            .filter(|s| {
                s.params
                    .get("name")
                    .and_then(|n| n.as_str())
                    .is_none_or(|n| n.trim().is_empty())
            })
            .map(|s| {
                s.source.problem(
                    &["params", "name"],
                    format!(
                        "schedule `{}`: probe.greet needs params.name, the one to greet",
                        s.name
                    ),
                )
            })
            .collect()
    }
}

struct GreetJob {
    greeting: Arc<String>,
}

#[async_trait]
impl Job for GreetJob {
    type Payload = Greet;

    async fn run(&self, ctx: &JobContext, job: &ClaimedJob, p: Greet) -> Result<(), AdapterError> {
        // Keyed by the job: a redelivered job stores nothing twice.
        sqlx::query(
            "INSERT INTO probe_greetings (id, org_id, name, greeting) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(job.id.0)
        .bind(job.org_id.0)
        .bind(&p.name)
        .bind(format!("{}, {}", self.greeting, p.name))
        .execute(ctx.pool())
        .await
        .map_err(|e| AdapterError::transient(e.to_string()))?;
        metrics::counter!("switchyard_probe_greetings_total").increment(1);
        Ok(())
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GreetRequest {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GreetAccepted {
    pub job_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Greetings {
    pub items: Vec<String>,
}

fn routes(greeting: Arc<String>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(greet))
        .routes(routes!(greetings))
        .layer(Extension(greeting))
}

/// Ask the probe to greet someone (enqueues `probe.greet`).
#[utoipa::path(post, path = "/probe/greet", tag = "probe", request_body = GreetRequest,
    responses((status = 202, body = GreetAccepted), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType), (status = 422, response = UnprocessableEntity)))]
async fn greet(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteProbe>,
    ApiJson(body): ApiJson<GreetRequest>,
) -> Result<(StatusCode, Json<GreetAccepted>), ApiError> {
    let payload = json!(Greet { name: body.name });
    let retry = app
        .api
        .admission
        .admit(Greet::KIND, None, &payload)
        .map_err(|r| ApiError::new(r.code, r.message).with_details(r.details))?;
    let job = app
        .api
        .queue
        .enqueue(NewJob::new(auth.org, Greet::KIND, payload).retry(retry))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(GreetAccepted {
            job_id: job.job.id.0,
        }),
    ))
}

/// The greetings stored so far in the caller's organization.
#[utoipa::path(get, path = "/probe/greetings", tag = "probe",
    responses((status = 200, body = Greetings)))]
async fn greetings(
    State(app): State<AppState>,
    Extension(_greeting): Extension<Arc<String>>,
    Scoped(auth, _): Scoped<ReadProbe>,
) -> Result<Json<Greetings>, ApiError> {
    let items: Vec<String> = sqlx::query_scalar(
        "SELECT greeting FROM probe_greetings WHERE org_id = $1 ORDER BY created_at, id",
    )
    .bind(auth.org.0)
    .fetch_all(&app.api.pool)
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(Greetings { items }))
}

/// A probe partner: it only sends webhooks (Standard Webhooks signatures).
struct ProbeAdapter {
    key: WebhookKey,
}

const CAPABILITIES: &[Capability] = &[Capability::ReceiveWebhooks, Capability::HealthCheck];

#[async_trait]
impl Adapter for ProbeAdapter {
    fn kind(&self) -> &'static str {
        PARTNER_KIND
    }

    fn capabilities(&self) -> &[Capability] {
        CAPABILITIES
    }

    async fn health(&self, _ctx: &AdapterContext) -> Result<(), AdapterError> {
        Ok(())
    }

    async fn receive_webhook(
        &self,
        _ctx: &AdapterContext,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<VerifiedWebhook, AdapterError> {
        // The probe's partners sign like HTTP partners do (Standard Webhooks).
        receive(&self.key, Duration::from_secs(300), headers, body)
    }
}

/// Records each delivery it processes; `processed` counts the runs, so a delivery processed
/// twice shows 2.
struct RecordDelivery;

#[async_trait]
impl WebhookProcessor for RecordDelivery {
    async fn process(&self, ctx: &JobContext, delivery: &Delivery) -> Result<(), AdapterError> {
        sqlx::query(
            "INSERT INTO probe_webhook_events (delivery_id, event_id, topic) VALUES ($1, $2, $3)
             ON CONFLICT (delivery_id) DO UPDATE SET processed = probe_webhook_events.processed + 1",
        )
        .bind(delivery.id)
        .bind(&delivery.event_id)
        .bind(&delivery.topic)
        .execute(ctx.pool())
        .await
        .map_err(|e| AdapterError::transient(e.to_string()))?;
        Ok(())
    }
}
