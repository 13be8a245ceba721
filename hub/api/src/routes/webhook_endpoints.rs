//! Outbound webhook endpoints (`read:webhooks`, `write:webhooks`): create, list, get, replace,
//! delete; pause and resume; rotate the signing secret; send a sample event; the delivery log
//! (the last 100 attempts); recover since a time (re-enable and re-send every event since);
//! replay one event or every failed delivery since a time. Each endpoint belongs to the
//! caller's organization; another organization's is `404`.

use crate::auth::{ReadWebhooks, Scoped, WriteWebhooks};
use crate::error::{ApiError, ApiJson, ApiPath, ErrorBody, OptionalJson};
use crate::outbound::{check_headers, check_patterns, EventType, Refused};
use crate::responses::{BadRequest, NotFound, UnsupportedMediaType};
use crate::schemas;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchyard_core::ids::{EventId, JobId, OrgId, WebhookEndpointId};
use switchyard_store::queue::RetryPolicy;
use switchyard_store::webhook_endpoints::{
    self as store, AttemptOutcome, AttemptRow, EndpointRow, EndpointSettings, EndpointStatus,
    DEFAULT_MAX_IN_FLIGHT,
};
use switchyard_store::webhook_replays;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The delivery log shows this many attempts.
pub const LOG_ATTEMPTS: i64 = 100;

/// The PRD's default (FR-INT-006): 3 retries after the first attempt.
const DEFAULT_MAX_RETRIES: i32 = 3;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, replace_endpoint, delete_endpoint))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test))
        .routes(routes!(attempts))
        .routes(routes!(recover_endpoint))
        .routes(routes!(replay_to_endpoint))
}

/// An endpoint as shown. The secret is shown: the owner of `write:webhooks`/`read:webhooks`
/// needs it to verify signatures (Svix shows it the same way, on request).
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    #[schema(value_type = uuid::Uuid)]
    pub id: WebhookEndpointId,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    #[schema(schema_with = endpoint_status)]
    pub status: EndpointStatus,
    /// Why it is paused or disabled (a 410 Gone from the receiver, say).
    pub status_reason: Option<String>,
    /// `whsec_` + base64: the key of the Standard Webhooks signature.
    pub secret: String,
    /// The secret before the last rotation, still signed with until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    #[schema(schema_with = schemas::retry_policy)]
    pub retry_policy: RetryPolicy,
    pub max_retries: i32,
    #[schema(value_type = Object)]
    pub headers: Value,
    pub last_triggered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Deliveries to it at once (per worker process); more wait in the queue.
    pub max_in_flight: i32,
    /// Deliveries started per second (per worker process); null: no limit.
    pub rate_limit_per_sec: Option<i32>,
    /// Also signed the PRD's way: `X-Switchyard-Signature: sha256=<hex HMAC-SHA256 of the
    /// body, keyed with the secret string>`, `X-Switchyard-Event`, `X-Switchyard-Delivery-ID`.
    pub prd_signature: bool,
    /// The first failed delivery since the last success (throttling answers aside); the
    /// endpoint is disabled once this is `[webhooks] disable_after_secs` old.
    pub failing_since: Option<DateTime<Utc>>,
}

fn event_patterns() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(schemas::event_pattern())
        .min_items(Some(1))
        .max_items(Some(50))
        .build()
}

fn endpoint_status() -> utoipa::openapi::schema::Object {
    schemas::one_of(&EndpointStatus::ALL)
}

fn attempt_outcome() -> utoipa::openapi::schema::Object {
    schemas::one_of(&AttemptOutcome::ALL)
}

impl EndpointView {
    /// The view of `e`, its secrets opened (sealed at rest); one that does not open (a key
    /// not configured) is a server-side failure, logged with the endpoint and the key.
    fn new(e: EndpointRow, now: DateTime<Utc>, app: &AppState) -> Result<Self, ApiError> {
        let secrets = e
            .secrets(&app.api.config.webhooks.sealing)
            .map_err(|err| ApiError::internal(&err))?;
        // A previous secret past its overlap signs nothing any more: not shown.
        let overlapping = e.previous_signs(now);
        Ok(Self {
            id: e.id,
            name: e.name,
            url: e.url,
            events: e.events,
            status: e.status,
            status_reason: e.status_reason,
            secret: secrets.current,
            previous_secret: secrets.previous.filter(|_| overlapping),
            previous_secret_until: e.previous_secret_until.filter(|_| overlapping),
            retry_policy: e.retry_policy,
            max_retries: e.max_retries,
            headers: e.headers,
            last_triggered_at: e.last_triggered_at,
            created_at: e.created_at,
            updated_at: e.updated_at,
            max_in_flight: e.max_in_flight,
            rate_limit_per_sec: e.rate_limit_per_sec,
            prd_signature: e.prd_signature,
            failing_since: e.failing_since,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub items: Vec<EndpointView>,
}

/// An endpoint's settings (create; a replace takes the same and keeps status and secret).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// `https://...`; `http://` only to a host in `[webhooks] allow_http_hosts`. A host that is
    /// or resolves to a loopback, private, link-local, unique-local, CGNAT, multicast or
    /// metadata address is refused unless `[webhooks] allow_private` lists it.
    #[schema(min_length = 1, pattern = r"^[^\u0000]*$")]
    pub url: String,
    /// Event types (`order.created`), families (`order.*`) or `*`.
    #[schema(schema_with = event_patterns)]
    pub events: Vec<String>,
    /// `exponential` when absent.
    #[serde(default)]
    #[schema(schema_with = schemas::retry_policy, required = false)]
    pub retry_policy: Option<RetryPolicy>,
    /// Retries after the first attempt, 0 to 20; 3 when absent (a `manual` endpoint is not
    /// retried automatically: its failed deliveries wait in the retry queue).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 20)]
    pub max_retries: Option<i32>,
    /// Extra request headers (`{"X-Tenant": "acme"}`); not `webhook-*` or `content-type`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Deliveries to it at once, 1 to 100 (per worker process); 4 when absent. More wait in
    /// the queue without holding a worker, so a slow receiver never delays the others.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub max_in_flight: Option<i32>,
    /// Deliveries started per second, 1 to 10,000 (per worker process); no limit when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub rate_limit_per_sec: Option<i32>,
    /// Also sign the PRD's way (`X-Switchyard-Signature: sha256=<hex>`, `X-Switchyard-Event`,
    /// `X-Switchyard-Delivery-ID`); false when absent. Standard Webhooks' headers are always sent.
    #[serde(default)]
    pub prd_signature: Option<bool>,
    /// `paused` creates it without deliveries; `active` when absent.
    #[serde(default)]
    #[schema(schema_with = endpoint_status, required = false)]
    pub status: Option<EndpointStatus>,
}

fn refusal(r: Refused) -> ApiError {
    ApiError::validation(format!("{}: {}", r.field, r.message))
        .with_details(json!({"field": r.field}))
}

impl EndpointBody {
    async fn settings(&self, app: &AppState) -> Result<EndpointSettings, ApiError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ApiError::validation("name: must not be blank"));
        }
        app.api
            .config
            .webhooks
            .check_url(&self.url)
            .map_err(refusal)?;
        app.api
            .config
            .webhooks
            .check_destination(&self.url)
            .await
            .map_err(refusal)?;
        check_patterns(&self.events).map_err(refusal)?;
        check_headers(&self.headers).map_err(refusal)?;
        let max_retries = self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        if !(0..=20).contains(&max_retries) {
            return Err(ApiError::validation(format!(
                "max_retries: between 0 and 20, got {max_retries}"
            )));
        }
        let max_in_flight = self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
        if !(1..=100).contains(&max_in_flight) {
            return Err(ApiError::validation(format!(
                "max_in_flight: between 1 and 100, got {max_in_flight}"
            ))
            .with_details(json!({"field": "max_in_flight"})));
        }
        if let Some(n) = self
            .rate_limit_per_sec
            .filter(|n| !(1..=10_000).contains(n))
        {
            return Err(ApiError::validation(format!(
                "rate_limit_per_sec: between 1 and 10000, got {n}"
            ))
            .with_details(json!({"field": "rate_limit_per_sec"})));
        }
        let mut events = self.events.clone();
        events.sort();
        events.dedup();
        Ok(EndpointSettings {
            name: name.to_owned(),
            url: self.url.trim().to_owned(),
            events,
            retry_policy: self.retry_policy.unwrap_or(RetryPolicy::Exponential),
            max_retries,
            headers: serde_json::to_value(&self.headers).unwrap_or_default(),
            max_in_flight,
            rate_limit_per_sec: self.rate_limit_per_sec,
            prd_signature: self.prd_signature.unwrap_or(false),
        })
    }
}

async fn own(app: &AppState, org: OrgId, id: WebhookEndpointId) -> Result<EndpointRow, ApiError> {
    store::get(&app.api.pool, org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

#[utoipa::path(get, path = "/webhooks", tag = "outbound-webhooks",
    responses((status = 200, body = EndpointList)))]
async fn list_endpoints(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadWebhooks>,
) -> Result<Json<EndpointList>, ApiError> {
    let now = app.api.queue.now();
    let rows = store::list(&app.api.pool, auth.org).await?;
    Ok(Json(EndpointList {
        items: rows
            .into_iter()
            .map(|e| EndpointView::new(e, now, &app))
            .collect::<Result<_, _>>()?,
    }))
}

/// Create an endpoint; its secret is generated (`whsec_...`).
#[utoipa::path(post, path = "/webhooks", tag = "outbound-webhooks", request_body = EndpointBody,
    responses((status = 201, body = EndpointView), (status = 400, response = BadRequest),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "a URL that is not https (or http to an allowed host), a URL whose host is or resolves to a loopback, private, link-local or metadata address not allowed in config (the SSRF guard), an unknown event type, a header the hub sets", body = ErrorBody)))]
async fn create_endpoint(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
    let settings = body.settings(&app).await?;
    let status = match body.status {
        None | Some(EndpointStatus::Active) => EndpointStatus::Active,
        Some(_) => EndpointStatus::Paused,
    };
    let now = app.api.queue.now();
    let row = store::create(
        &app.api.pool,
        auth.org,
        &settings,
        status,
        &store::new_secret(),
        &app.api.config.webhooks.sealing,
        now,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointView::new(row, now, &app)?),
    ))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "outbound-webhooks",
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 200, body = EndpointView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn get_endpoint(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
) -> Result<Json<EndpointView>, ApiError> {
    let now = app.api.queue.now();
    Ok(Json(EndpointView::new(
        own(&app, auth.org, id).await?,
        now,
        &app,
    )?))
}

/// Replace an endpoint's settings (status and secret stay; `status` in the body is ignored,
/// use pause and resume).
#[utoipa::path(put, path = "/webhooks/{id}", tag = "outbound-webhooks", request_body = EndpointBody,
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 200, body = EndpointView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "as for create", body = ErrorBody)))]
async fn replace_endpoint(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
    ApiJson(body): ApiJson<EndpointBody>,
) -> Result<Json<EndpointView>, ApiError> {
    let settings = body.settings(&app).await?;
    let now = app.api.queue.now();
    let row = store::update(&app.api.pool, auth.org, id, &settings, now)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok(Json(EndpointView::new(row, now, &app)?))
}

/// Delete an endpoint and its delivery log; deliveries still queued end without sending.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "outbound-webhooks",
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 204, description = "deleted"), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn delete_endpoint(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
) -> Result<StatusCode, ApiError> {
    if store::delete(&app.api.pool, auth.org, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook endpoint"))
    }
}

async fn set_status(
    app: &AppState,
    org: OrgId,
    id: WebhookEndpointId,
    status: EndpointStatus,
    reason: Option<&str>,
) -> Result<Json<EndpointView>, ApiError> {
    let now = app.api.queue.now();
    let row = store::set_status(&app.api.pool, org, id, status, reason, now)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok(Json(EndpointView::new(row, now, app)?))
}

/// Pause: no events are fanned out to it, and its queued deliveries end without sending.
#[utoipa::path(post, path = "/webhooks/{id}/pause", tag = "outbound-webhooks",
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 200, body = EndpointView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn pause(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
) -> Result<Json<EndpointView>, ApiError> {
    set_status(
        &app,
        auth.org,
        id,
        EndpointStatus::Paused,
        Some("paused through the API"),
    )
    .await
}

/// Resume a paused or disabled endpoint: events from now on are delivered.
#[utoipa::path(post, path = "/webhooks/{id}/resume", tag = "outbound-webhooks",
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 200, body = EndpointView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn resume(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
) -> Result<Json<EndpointView>, ApiError> {
    set_status(&app, auth.org, id, EndpointStatus::Active, None).await
}

/// Generate a new secret. The old one keeps signing (both signatures are sent) for
/// `[webhooks] secret_overlap_secs`, so receivers can switch without losing a delivery.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "outbound-webhooks",
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 200, body = EndpointView), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn rotate_secret(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
) -> Result<Json<EndpointView>, ApiError> {
    let now = app.api.queue.now();
    // Capped at 30 days: a rotated-out secret is one that may have leaked.
    let overlap = app
        .api
        .config
        .webhooks
        .secret_overlap_secs
        .min(30 * 24 * 60 * 60);
    let until = now + Duration::seconds(overlap as i64);
    let row = store::rotate_secret(
        &app.api.pool,
        auth.org,
        id,
        &store::new_secret(),
        &app.api.config.webhooks.sealing,
        until,
        now,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok(Json(EndpointView::new(row, now, &app)?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// The type of the sample; `order.created` when absent.
    #[serde(default)]
    #[schema(required = false)]
    pub event_type: Option<EventType>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestSent {
    /// The sample event (the `webhook-id` the receiver sees).
    #[schema(value_type = uuid::Uuid)]
    pub event_id: EventId,
    /// The delivery job; its attempts show in the endpoint's delivery log.
    #[schema(value_type = uuid::Uuid)]
    pub job_id: JobId,
}

/// Send a sample event of a chosen type to this endpoint only (whatever it subscribes to
/// and even while paused), signed and retried like any delivery.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "outbound-webhooks",
    request_body(content = Option<TestBody>, description = "optional: no body sends an `order.created` sample"),
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 202, body = TestSent), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "an unknown event type", body = ErrorBody)))]
async fn send_test(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
    OptionalJson(body): OptionalJson<TestBody>,
) -> Result<(StatusCode, Json<TestSent>), ApiError> {
    let endpoint = own(&app, auth.org, id).await?;
    let event_type = body.event_type.unwrap_or(EventType::OrderCreated);
    let (event, job) = store::enqueue_sample(
        &app.api.pool,
        &endpoint,
        event_type.as_str(),
        &event_type.sample(),
        app.api.queue.now(),
    )
    .await?;
    switchyard_store::queue::notify(&app.api.pool).await.ok();
    Ok((
        StatusCode::ACCEPTED,
        Json(TestSent {
            event_id: event.id,
            job_id: job,
        }),
    ))
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub id: uuid::Uuid,
    #[schema(value_type = uuid::Uuid)]
    pub event_id: EventId,
    pub event_type: String,
    pub job_id: Option<uuid::Uuid>,
    /// 1 for the first attempt of the delivery.
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// What was sent, the signature masked.
    #[schema(value_type = Object)]
    pub request_headers: Value,
    #[schema(schema_with = attempt_outcome)]
    pub outcome: AttemptOutcome,
    pub http_status: Option<i32>,
    /// The first KiB of the answer.
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

impl From<AttemptRow> for AttemptView {
    fn from(a: AttemptRow) -> Self {
        Self {
            id: a.id,
            event_id: a.event_id,
            event_type: a.event_type,
            job_id: a.job_id,
            attempt: a.attempt,
            at: a.at,
            request_headers: a.request_headers,
            outcome: a.outcome,
            http_status: a.http_status,
            response_excerpt: a.response_excerpt,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptList {
    pub items: Vec<AttemptView>,
}

/// The delivery log: the endpoint's last 100 attempts, newest first.
#[utoipa::path(get, path = "/webhooks/{id}/attempts", tag = "outbound-webhooks",
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 200, body = AttemptList), (status = 400, response = BadRequest), (status = 404, response = NotFound)))]
async fn attempts(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<ReadWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
) -> Result<Json<AttemptList>, ApiError> {
    own(&app, auth.org, id).await?;
    let rows = store::attempts(&app.api.pool, auth.org, id, LOG_ATTEMPTS).await?;
    Ok(Json(AttemptList {
        items: rows.into_iter().map(AttemptView::from).collect(),
    }))
}

/// How many deliveries a recovery or replay queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Redeliveries {
    /// Deliveries queued, in event order (they may arrive out of it: ordering is not
    /// promised, each body carries its event's time).
    pub queued: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    /// Every event since this time (inclusive) that the endpoint subscribes to is sent again.
    pub since: DateTime<Utc>,
}

/// Recover: re-enable the endpoint (active, its failing streak forgotten) and send again
/// every event since `since` that it subscribes to, queued in event order. For an endpoint the hub disabled
/// after days of failure, `since` is typically its `failing_since`.
#[utoipa::path(post, path = "/webhooks/{id}/recover", tag = "outbound-webhooks", request_body = RecoverBody,
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 202, body = Redeliveries), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "a body that is not a `since` time", body = ErrorBody)))]
async fn recover_endpoint(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
    ApiJson(body): ApiJson<RecoverBody>,
) -> Result<(StatusCode, Json<Redeliveries>), ApiError> {
    let now = app.api.queue.now();
    let queued = webhook_replays::recover(&app.api.pool, auth.org, id, body.since, now)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok((StatusCode::ACCEPTED, Json(Redeliveries { queued })))
}

/// What to send again to one endpoint: one event, or every failed delivery since a time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// One event of the organization, sent again to this endpoint whatever it subscribes to.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>, required = false)]
    pub event_id: Option<EventId>,
    /// Every event whose delivery to this endpoint failed since this time and never
    /// succeeded (and is not waiting for a retry in the queue).
    #[serde(default)]
    #[schema(required = false)]
    pub failed_since: Option<DateTime<Utc>>,
}

/// Replay to this endpoint one event (`event_id`) or every failed delivery since a time
/// (`failed_since`): exactly one of them. A paused or disabled endpoint's replays are skipped
/// when they run (resume or recover it first).
#[utoipa::path(post, path = "/webhooks/{id}/replay", tag = "outbound-webhooks", request_body = ReplayBody,
    params(("id" = uuid::Uuid, Path, description = "endpoint id")),
    responses((status = 202, body = Redeliveries), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "neither or both of `event_id` and `failed_since`", body = ErrorBody)))]
async fn replay_to_endpoint(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteWebhooks>,
    ApiPath(id): ApiPath<WebhookEndpointId>,
    ApiJson(body): ApiJson<ReplayBody>,
) -> Result<(StatusCode, Json<Redeliveries>), ApiError> {
    own(&app, auth.org, id).await?;
    let now = app.api.queue.now();
    let pool = &app.api.pool;
    let queued = match (body.event_id, body.failed_since) {
        (Some(event), None) => {
            let n = webhook_replays::replay_to_endpoint(pool, auth.org, id, event, now).await?;
            if n == 0 {
                return Err(ApiError::not_found("event"));
            }
            n
        }
        (None, Some(since)) => webhook_replays::replay_failed(pool, auth.org, id, since, now).await?,
        _ => {
            return Err(ApiError::validation(
                "give exactly one of `event_id` (one event) and `failed_since` (every failed delivery since then)",
            )
            .with_details(json!({"field": "event_id"})))
        }
    };
    Ok((StatusCode::ACCEPTED, Json(Redeliveries { queued })))
}
