//! Outbound webhook endpoints and their delivery attempts (migrations/0016_events.sql). The
//! fan-out of events into `webhook.deliver` jobs is the trigger on `events`; this module holds
//! the endpoints' lifecycle, what a delivery reads, and the attempts it writes.

use crate::db::{Result, StoreError};
use crate::events::{self, EventRow};
use crate::jobs::{NewJob, Queue};
use crate::retry::{RetryPolicy, RetrySpec};
use crate::sealing::{SealError, Sealing, Stored};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
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

/// An endpoint's signing secrets (`whsec_...`) as stored: sealed (migration 0030), or in the
/// clear when written before it or with no secret key configured.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSecrets {
    pub current: Stored,
    /// The secret before the last rotation (it signs until `previous_secret_until`).
    pub previous: Option<Stored>,
}

impl<'r> sqlx::FromRow<'r, PgRow> for StoredSecrets {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        let current = Stored::from_columns(
            row.try_get("secret")?,
            row.try_get("secret_sealed")?,
            row.try_get("secret_key_id")?,
        )
        .ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "secret".into(),
            source: "an endpoint without a secret".into(),
        })?;
        let previous = Stored::from_columns(
            row.try_get("previous_secret")?,
            row.try_get("previous_secret_sealed")?,
            row.try_get("previous_secret_key_id")?,
        );
        Ok(Self { current, previous })
    }
}

/// An endpoint's secrets in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    pub current: String,
    pub previous: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(***)")
    }
}

/// A stored endpoint. `secrets` are its signing keys, opened with [`EndpointRow::secrets`].
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
    #[sqlx(flatten)]
    pub stored_secrets: StoredSecrets,
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
    /// Its secrets in the clear (the endpoint's id is the sealed values' associated data).
    pub fn secrets(&self, sealing: &Sealing) -> std::result::Result<Secrets, SealError> {
        let what = format!("the secret of webhook endpoint {}", self.id);
        let aad = self.id.0.as_bytes();
        Ok(Secrets {
            current: self.stored_secrets.current.open(sealing, &what, aad)?,
            previous: self
                .stored_secrets
                .previous
                .as_ref()
                .map(|p| p.open(sealing, &format!("the previous {what}"), aad))
                .transpose()?,
        })
    }

    /// Whether the previous secret still signs at `now` (its overlap lasts).
    pub fn previous_signs(&self, now: DateTime<Utc>) -> bool {
        self.stored_secrets.previous.is_some()
            && self.previous_secret_until.is_some_and(|until| now < until)
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

pub(crate) const COLUMNS: &str = "id, org_id, name, url, events, status, status_reason, secret, secret_sealed, \
     secret_key_id, previous_secret, previous_secret_sealed, previous_secret_key_id, previous_secret_until, retry_policy, max_retries, headers, last_triggered_at, created_at, updated_at, \
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

/// Create an endpoint signing with `secret`, sealed by `sealing` (in the clear without a key).
pub async fn create(
    pool: &PgPool,
    org: OrgId,
    settings: &EndpointSettings,
    status: EndpointStatus,
    secret: &str,
    sealing: &Sealing,
    now: DateTime<Utc>,
) -> Result<EndpointRow> {
    let id = WebhookEndpointId::new();
    let stored = Stored::new(sealing, id.0.as_bytes(), secret);
    let (plain, sealed, key_id) = stored.columns();
    Ok(sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoints (id, org_id, name, url, events, status, secret, retry_policy,
                                        max_retries, headers, created_at, updated_at,
                                        max_in_flight, rate_limit_per_sec, prd_signature,
                                        secret_sealed, secret_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15, $16)
         RETURNING {COLUMNS}"
    ))
    .bind(id.0)
    .bind(org.0)
    .bind(&settings.name)
    .bind(&settings.url)
    .bind(&settings.events)
    .bind(status.as_str())
    .bind(plain)
    .bind(settings.retry_policy.as_str())
    .bind(settings.max_retries)
    .bind(&settings.headers)
    .bind(now)
    .bind(settings.max_in_flight)
    .bind(settings.rate_limit_per_sec)
    .bind(settings.prd_signature)
    .bind(sealed)
    .bind(key_id)
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

/// Make `secret` the signing secret (sealed by `sealing`); the current one keeps signing until
/// `overlap_until`. The current value moves to the previous columns as stored: both are
/// sealed with the row's id, so it opens there as well.
pub async fn rotate_secret(
    pool: &PgPool,
    org: OrgId,
    id: WebhookEndpointId,
    secret: &str,
    sealing: &Sealing,
    overlap_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<EndpointRow>> {
    let stored = Stored::new(sealing, id.0.as_bytes(), secret);
    let (plain, sealed, key_id) = stored.columns();
    Ok(sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_sealed = secret_sealed,
                previous_secret_key_id = secret_key_id, previous_secret_until = $4,
                secret = $3, secret_sealed = $6, secret_key_id = $7, updated_at = $5
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(plain)
    .bind(overlap_until)
    .bind(now)
    .bind(sealed)
    .bind(key_id)
    .fetch_optional(pool)
    .await?)
}

/// How [`reseal`] went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Endpoints whose secrets were in the clear or under an older key, now under the current.
    pub endpoints: u64,
}

/// Seal every endpoint secret still in the clear, and re-seal those under an older key with
/// the current one (the daemon runs this at start). Each row is updated only if its secrets
/// are still what was read, so a rotation meanwhile is neither lost nor overwritten (that row
/// is done at the next start). Fails on the first value that does not open, naming it: a
/// daemon that cannot open its endpoints' secrets cannot sign for them.
pub async fn reseal(
    pool: &PgPool,
    sealing: &Sealing,
) -> std::result::Result<Resealed, ResealError> {
    let mut done = Resealed::default();
    if sealing.keyring().is_none() {
        let sealed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_endpoints
             WHERE secret_sealed IS NOT NULL OR previous_secret_sealed IS NOT NULL",
        )
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)?;
        if sealed > 0 {
            return Err(ResealError::Seal(SealError::NoKey {
                what: format!("the secret of {sealed} webhook endpoint(s)"),
            }));
        }
        return Ok(done);
    }
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints ORDER BY id"
    ))
    .fetch_all(pool)
    .await
    .map_err(StoreError::from)?;
    for row in rows {
        let s = &row.stored_secrets;
        if !s.current.needs_resealing(sealing)
            && !s
                .previous
                .as_ref()
                .is_some_and(|p| p.needs_resealing(sealing))
        {
            continue;
        }
        let what = format!("the secret of webhook endpoint {}", row.id);
        let aad = row.id.0.as_bytes();
        let current = s.current.reseal(sealing, &what, aad)?;
        let previous = s
            .previous
            .as_ref()
            .map(|p| p.reseal(sealing, &format!("the previous {what}"), aad))
            .transpose()?;
        let (_, cur_sealed, cur_key) = current.columns();
        let (old_sealed, old_key) = match &previous {
            Some(p) => {
                let (_, b, k) = p.columns();
                (b, k)
            }
            None => (None, None),
        };
        let (was_plain, was_sealed, _) = s.current.columns();
        let updated = sqlx::query(
            "UPDATE webhook_endpoints SET secret = NULL, secret_sealed = $2, secret_key_id = $3,
                    previous_secret = NULL, previous_secret_sealed = $4, previous_secret_key_id = $5
             WHERE id = $1 AND secret IS NOT DISTINCT FROM $6 AND secret_sealed IS NOT DISTINCT FROM $7",
        )
        .bind(row.id.0)
        .bind(cur_sealed)
        .bind(cur_key)
        .bind(old_sealed)
        .bind(old_key)
        .bind(was_plain)
        .bind(was_sealed)
        .execute(pool)
        .await
        .map_err(StoreError::from)?;
        done.endpoints += updated.rows_affected();
    }
    Ok(done)
}

/// Why [`reseal`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// What one delivery job needs: its endpoint and its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryKey {
    pub org: OrgId,
    pub endpoint: WebhookEndpointId,
    pub event: EventId,
}

/// The endpoint and event of each delivery in `wanted` (in order; `None` when either is gone
/// or is not of the delivery's organization), in two statements for the whole batch: the
/// delivery handlers read through one batcher, so a busy worker reads many deliveries at once.
pub async fn deliveries(
    pool: &PgPool,
    wanted: &[DeliveryKey],
) -> Result<Vec<Option<(EndpointRow, EventRow)>>> {
    let endpoint_ids: Vec<Uuid> = wanted.iter().map(|w| w.endpoint.0).collect();
    let event_ids: Vec<Uuid> = wanted.iter().map(|w| w.event.0).collect();
    let endpoints: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = ANY($1)"
    ))
    .bind(&endpoint_ids)
    .fetch_all(pool)
    .await?;
    let events: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {} FROM events WHERE id = ANY($1)",
        events::COLUMNS
    ))
    .bind(&event_ids)
    .fetch_all(pool)
    .await?;
    let endpoints: std::collections::HashMap<WebhookEndpointId, EndpointRow> =
        endpoints.into_iter().map(|e| (e.id, e)).collect();
    let events: std::collections::HashMap<EventId, EventRow> =
        events.into_iter().map(|e| (e.id, e)).collect();
    Ok(wanted
        .iter()
        .map(|w| {
            let endpoint = endpoints.get(&w.endpoint).filter(|e| e.org_id == w.org)?;
            let event = events.get(&w.event).filter(|e| e.org_id == w.org)?;
            Some((endpoint.clone(), event.clone()))
        })
        .collect())
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

/// Record attempts (of any organizations' endpoints) in one statement, and stamp each
/// endpoint with a sent attempt with the latest one's time (`last_triggered_at`, once per
/// endpoint per batch rather than once per delivery: under load every delivery of an endpoint
/// would otherwise queue on that row's lock). An attempt whose endpoint has been deleted
/// meanwhile is dropped with it, as the cascade would have dropped it.
pub async fn record_attempts(pool: &PgPool, attempts: &[(OrgId, AttemptRow)]) -> Result<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&(OrgId, AttemptRow)) -> Uuid| attempts.iter().map(f).collect::<Vec<_>>();
    let ids = col(|(_, a)| a.id);
    let orgs = col(|(o, _)| o.0);
    let endpoints = col(|(_, a)| a.endpoint_id.0);
    let events = col(|(_, a)| a.event_id.0);
    let types: Vec<&str> = attempts
        .iter()
        .map(|(_, a)| a.event_type.as_str())
        .collect();
    let jobs: Vec<Option<Uuid>> = attempts.iter().map(|(_, a)| a.job_id).collect();
    let numbers: Vec<i32> = attempts.iter().map(|(_, a)| a.attempt).collect();
    let ats: Vec<DateTime<Utc>> = attempts.iter().map(|(_, a)| a.at).collect();
    let headers: Vec<serde_json::Value> = attempts
        .iter()
        .map(|(_, a)| a.request_headers.clone())
        .collect();
    let outcomes: Vec<&str> = attempts.iter().map(|(_, a)| a.outcome.as_str()).collect();
    let statuses: Vec<Option<i32>> = attempts.iter().map(|(_, a)| a.http_status).collect();
    let excerpts: Vec<Option<&str>> = attempts
        .iter()
        .map(|(_, a)| a.response_excerpt.as_deref())
        .collect();
    let errors: Vec<Option<&str>> = attempts.iter().map(|(_, a)| a.error.as_deref()).collect();
    let durations: Vec<i32> = attempts.iter().map(|(_, a)| a.duration_ms).collect();
    sqlx::query(
        "WITH added AS (
             INSERT INTO webhook_attempts (id, org_id, endpoint_id, event_id, event_type, job_id, attempt, at,
                                           request_headers, outcome, http_status, response_excerpt, error, duration_ms)
             SELECT t.* FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[],
                                    $7::int[], $8::timestamptz[], $9::jsonb[], $10::text[], $11::int[],
                                    $12::text[], $13::text[], $14::int[])
                  AS t(id, org_id, endpoint_id, event_id, event_type, job_id, attempt, at, request_headers,
                       outcome, http_status, response_excerpt, error, duration_ms)
             WHERE EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = t.endpoint_id)
             RETURNING endpoint_id, at, outcome
         ), sent AS (
             SELECT endpoint_id, max(at) AS at FROM added WHERE outcome <> 'skipped' GROUP BY endpoint_id
         )
         UPDATE webhook_endpoints w SET last_triggered_at = sent.at FROM sent
         WHERE w.id = sent.endpoint_id AND (w.last_triggered_at IS NULL OR w.last_triggered_at < sent.at)",
    )
    .bind(&ids)
    .bind(&orgs)
    .bind(&endpoints)
    .bind(&events)
    .bind(&types)
    .bind(&jobs)
    .bind(&numbers)
    .bind(&ats)
    .bind(&headers)
    .bind(&outcomes)
    .bind(&statuses)
    .bind(&excerpts)
    .bind(&errors)
    .bind(&durations)
    .execute(pool)
    .await?;
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
