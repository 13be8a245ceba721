//! Outbound webhook endpoints and their delivery attempts (migrations/0016_events.sql). The
//! fan-out of events into `webhook.deliver` jobs is the trigger on `events`; this module holds
//! the endpoints' lifecycle, what a delivery reads, and the attempts it writes.

use crate::db::{Result, StoreError};
use crate::events::{self, EventRow};
use crate::jobs::{NewJob, Queue};
use crate::retry::{RetryPolicy, RetrySpec};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use switchyard_core::ids::{EventId, JobId, OrgId, WebhookEndpointId};
use uuid::Uuid;

/// The job kind of one delivery (the fan-out trigger writes the same string).
pub const DELIVER_KIND: &str = "webhook.deliver";

/// A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks' form; the
/// bytes after the prefix are the HMAC key).
pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Whether an endpoint gets deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    /// Subscribed events are fanned out to it.
    Active,
    /// Nothing is fanned out to it until it is resumed; queued deliveries are skipped.
    Paused,
    /// Like paused, but set by the hub (a 410 Gone) or an admin; resumed the same way.
    Disabled,
}

impl EndpointStatus {
    pub const ALL: [EndpointStatus; 3] = [Self::Active, Self::Paused, Self::Disabled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        }
    }
}

impl TryFrom<String> for EndpointStatus {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| StoreError::Invalid(format!("endpoint status `{s}`")))
    }
}

/// A stored endpoint. `secret` and `previous_secret` are the signing keys (`whsec_...`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EndpointRow {
    #[sqlx(try_from = "Uuid")]
    pub id: WebhookEndpointId,
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    #[sqlx(try_from = "String")]
    pub status: EndpointStatus,
    pub status_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    pub retry_policy: RetryPolicy,
    pub max_retries: i32,
    pub headers: serde_json::Value,
    pub last_triggered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Deliveries to it running at once in one worker process; more are deferred.
    pub max_in_flight: i32,
    /// Deliveries started per second in one worker process; `None`: no limit.
    pub rate_limit_per_sec: Option<i32>,
    /// Also sign the MonoPilot PRD's way (`X-Switchyard-Signature: sha256=<hex>`).
    pub prd_signature: bool,
    /// The first failed delivery since the last success (throttling answers aside).
    pub failing_since: Option<DateTime<Utc>>,
}

impl EndpointRow {
    /// The secrets to sign with at `now`: the current one, and the previous one while its
    /// overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_secret_until) {
            if now < until {
                out.push(old);
            }
        }
        out
    }

    /// The queue's retry spec for a delivery to this endpoint.
    pub fn retry_spec(&self) -> RetrySpec {
        RetrySpec {
            policy: self.retry_policy,
            max_attempts: if self.retry_policy == RetryPolicy::Manual {
                1
            } else {
                self.max_retries + 1
            },
        }
    }
}

pub(crate) const COLUMNS: &str = "id, org_id, name, url, events, status, status_reason, secret, previous_secret, \
     previous_secret_until, retry_policy, max_retries, headers, last_triggered_at, created_at, updated_at, \
     max_in_flight, rate_limit_per_sec, prd_signature, failing_since";

/// An endpoint's settings (create, or replace on update).
#[derive(Debug, Clone)]
pub struct EndpointSettings {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub retry_policy: RetryPolicy,
    pub max_retries: i32,
    pub headers: serde_json::Value,
    pub max_in_flight: i32,
    pub rate_limit_per_sec: Option<i32>,
    pub prd_signature: bool,
}

/// The default of [`EndpointSettings::max_in_flight`] (the column's default too): enough for
/// a healthy receiver's throughput on loopback, few enough that a hanging one holds at most
/// four worker slots (and one once it is known to be failing).
pub const DEFAULT_MAX_IN_FLIGHT: i32 = 4;

pub async fn create(
    pool: &PgPool,
    org: OrgId,
    settings: &EndpointSettings,
    status: EndpointStatus,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<EndpointRow> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoints (id, org_id, name, url, events, status, secret, retry_policy,
                                        max_retries, headers, created_at, updated_at,
                                        max_in_flight, rate_limit_per_sec, prd_signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14) RETURNING {COLUMNS}"
    ))
    .bind(WebhookEndpointId::new().0)
    .bind(org.0)
    .bind(&settings.name)
    .bind(&settings.url)
    .bind(&settings.events)
    .bind(status.as_str())
    .bind(secret)
    .bind(settings.retry_policy.as_str())
    .bind(settings.max_retries)
    .bind(&settings.headers)
    .bind(now)
    .bind(settings.max_in_flight)
    .bind(settings.rate_limit_per_sec)
    .bind(settings.prd_signature)
    .fetch_one(pool)
    .await?)
}

/// `org`'s endpoints, oldest first (an organization has a handful, not thousands).
pub async fn list(pool: &PgPool, org: OrgId) -> Result<Vec<EndpointRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY created_at, id LIMIT 1000"
    ))
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, org: OrgId, id: WebhookEndpointId) -> Result<Option<EndpointRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?)
}

pub async fn update(
    pool: &PgPool,
    org: OrgId,
    id: WebhookEndpointId,
    settings: &EndpointSettings,
    now: DateTime<Utc>,
) -> Result<Option<EndpointRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET name = $3, url = $4, events = $5, retry_policy = $6,
                max_retries = $7, headers = $8, updated_at = $9, max_in_flight = $10,
                rate_limit_per_sec = $11, prd_signature = $12
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(&settings.name)
    .bind(&settings.url)
    .bind(&settings.events)
    .bind(settings.retry_policy.as_str())
    .bind(settings.max_retries)
    .bind(&settings.headers)
    .bind(now)
    .bind(settings.max_in_flight)
    .bind(settings.rate_limit_per_sec)
    .bind(settings.prd_signature)
    .fetch_optional(pool)
    .await?)
}

/// Pause, resume or disable; `reason` is shown with the endpoint.
pub async fn set_status(
    pool: &PgPool,
    org: OrgId,
    id: WebhookEndpointId,
    status: EndpointStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<EndpointRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET status = $3, status_reason = $4, updated_at = $5,
                -- A resumed endpoint starts its health afresh: the days it was off do not count.
                failing_since = CASE WHEN $3 = 'active' THEN NULL ELSE failing_since END
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(reason)
    .bind(now)
    .fetch_optional(pool)
    .await?)
}

/// Make `secret` the signing secret; the current one keeps signing until `overlap_until`.
pub async fn rotate_secret(
    pool: &PgPool,
    org: OrgId,
    id: WebhookEndpointId,
    secret: &str,
    overlap_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<EndpointRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $4,
                secret = $3, updated_at = $5
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(secret)
    .bind(overlap_until)
    .bind(now)
    .fetch_optional(pool)
    .await?)
}

/// Delete an endpoint and its attempts. Deliveries still queued find no endpoint and end.
pub async fn delete(pool: &PgPool, org: OrgId, id: WebhookEndpointId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2")
        .bind(org.0)
        .bind(id.0)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// What one delivery job needs: its endpoint and its event, both of `org`.
pub async fn delivery(
    pool: &PgPool,
    org: OrgId,
    endpoint: WebhookEndpointId,
    event: EventId,
) -> Result<Option<(EndpointRow, EventRow)>> {
    let Some(e) = get(pool, org, endpoint).await? else {
        return Ok(None);
    };
    let ev: Option<EventRow> = sqlx::query_as(&format!(
        "SELECT {} FROM events WHERE org_id = $1 AND id = $2",
        events::COLUMNS
    ))
    .bind(org.0)
    .bind(event.0)
    .fetch_optional(pool)
    .await?;
    Ok(ev.map(|ev| (e, ev)))
}

/// A sample event of `event_type` for `endpoint` only, and its delivery job, in one
/// transaction. Returns the event and the job's id.
pub async fn enqueue_sample(
    pool: &PgPool,
    endpoint: &EndpointRow,
    event_type: &str,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(EventRow, JobId)> {
    let mut tx = crate::begin(pool).await?;
    let event = events::record(
        &mut *tx,
        endpoint.org_id,
        event_type,
        data,
        Some(endpoint.id),
    )
    .await?;
    let job = NewJob::new(
        endpoint.org_id,
        DELIVER_KIND,
        serde_json::json!({"endpoint": endpoint.id, "event": event.id}),
    )
    .key(format!("{}:{}", event.id, endpoint.id))
    .retry(endpoint.retry_spec());
    let id = JobId::new();
    Queue::insert_job_with_id(&mut *tx, id, &job, now).await?;
    tx.commit().await?;
    Ok((event, id))
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Succeeded,
    Failed,
    /// Not sent: the endpoint was paused or disabled when the delivery ran.
    Skipped,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 3] = [Self::Succeeded, Self::Failed, Self::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

impl TryFrom<String> for AttemptOutcome {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| StoreError::Invalid(format!("attempt outcome `{s}`")))
    }
}

/// One delivery attempt, as stored and listed.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: Uuid,
    #[sqlx(try_from = "Uuid")]
    pub endpoint_id: WebhookEndpointId,
    #[sqlx(try_from = "Uuid")]
    pub event_id: EventId,
    pub event_type: String,
    pub job_id: Option<Uuid>,
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub request_headers: serde_json::Value,
    #[sqlx(try_from = "String")]
    pub outcome: AttemptOutcome,
    pub http_status: Option<i32>,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// Record an attempt; a sent one also stamps the endpoint's `last_triggered_at`.
pub async fn record_attempt(pool: &PgPool, org: OrgId, a: &AttemptRow) -> Result<()> {
    let mut tx = crate::begin(pool).await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (id, org_id, endpoint_id, event_id, event_type, job_id, attempt, at,
                                       request_headers, outcome, http_status, response_excerpt, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(a.id)
    .bind(org.0)
    .bind(a.endpoint_id.0)
    .bind(a.event_id.0)
    .bind(&a.event_type)
    .bind(a.job_id)
    .bind(a.attempt)
    .bind(a.at)
    .bind(&a.request_headers)
    .bind(a.outcome.as_str())
    .bind(a.http_status)
    .bind(a.response_excerpt.as_deref())
    .bind(a.error.as_deref())
    .bind(a.duration_ms)
    .execute(&mut *tx)
    .await?;
    if a.outcome != AttemptOutcome::Skipped {
        sqlx::query("UPDATE webhook_endpoints SET last_triggered_at = $2 WHERE id = $1")
            .bind(a.endpoint_id.0)
            .bind(a.at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The endpoint's latest `limit` attempts, newest first.
pub async fn attempts(
    pool: &PgPool,
    org: OrgId,
    endpoint: WebhookEndpointId,
    limit: i64,
) -> Result<Vec<AttemptRow>> {
    Ok(sqlx::query_as(
        "SELECT id, endpoint_id, event_id, event_type, job_id, attempt, at, request_headers, outcome,
                http_status, response_excerpt, error, duration_ms
         FROM webhook_attempts WHERE org_id = $1 AND endpoint_id = $2
         ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(org.0)
    .bind(endpoint.0)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
