//! `webhook.deliver`: send one event to one outbound webhook endpoint, signed by Standard
//! Webhooks 1.0. The jobs are enqueued by the fan-out trigger on `events`
//! (migrations/0016_events.sql), one per subscribed active endpoint, with the endpoint's retry
//! policy; the queue does the retrying, the dead letters and their replay.
//!
//! * Before sending, the endpoint's gate ([`super::webhook_gate`]): a delivery for an endpoint
//!   at its concurrency or rate limit, or failing, is deferred (back to the queue, the attempt
//!   uncounted), so one bad receiver never holds the worker's slots.
//! * 2xx within `[webhooks] timeout_ms`: delivered.
//! * 410 Gone: the receiver says the endpoint is gone for good: it is disabled (with the
//!   reason and a `webhook.endpoint.disabled` event) and the delivery fails permanently (a
//!   dead letter, replayable after a resume).
//! * Anything else (other statuses, timeouts, refused connections): a retryable failure; a
//!   `Retry-After` is a floor on the policy's delay. Unless it is a throttling answer (429,
//!   502, 503, 504), it counts toward the endpoint's health: one whose deliveries have all
//!   failed for `[webhooks] disable_after_secs` is disabled (`store::webhook_health`).
//! * A paused or disabled endpoint at run time: nothing is sent, an attempt `skipped` is logged.
//!
//! Every attempt is a row of the endpoint's delivery log (`webhook_attempts`) and of the
//! integration log, with the signature masked.
//!
//! The database work of a delivery is shared with the deliveries running beside it: the
//! endpoint and event are read, and the attempt rows written, by two [`Batcher`]s (one
//! statement pair, and one statement, for whatever has queued up), and the job's completion is
//! batched by the worker. A delivery returns only once its attempt row is committed, so the
//! job is never marked succeeded without its attempt; a crash before that commit leaves the
//! job running, and it is delivered again once its lease expires (at-least-once: receivers
//! dedupe by `webhook-id`, which is the event's id on every try). The signing keys are opened
//! (sealed at rest) and keyed once per endpoint and secret, not per delivery. Metrics: `switchyard_webhook_deliveries_total`
//! by endpoint and outcome, `switchyard_webhook_delivery_latency_seconds` (event recorded →
//! delivered), `switchyard_webhook_endpoints_disabled_total` by reason.

use super::webhook_gate::{Admission, Gates, Limits};
use crate::batch::Batcher;
use crate::context::JobContext;
use crate::integration::{MetricKind, MetricSpec};
use crate::job::{Job, JobKindSpec};
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_api::outbound::{WebhookPayload, WebhookSettings};
use switchyard_core::adapter::{Direction, Exchange};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{EventId, OrgId, PartnerName, WebhookEndpointId};
use switchyard_core::JobPayload;
use switchyard_store::events::EventRow;
use switchyard_store::queue::ClaimedJob;
use switchyard_store::sealing::Sealing;
use switchyard_store::webhook_endpoints::{
    self as store, AttemptOutcome, AttemptRow, DeliveryKey, EndpointRow, EndpointStatus,
    StoredSecrets,
};
use switchyard_store::webhook_health::{self as health, DisableReason, Health};

/// Deliveries by endpoint (id) and outcome: succeeded, failed, skipped, deferred.
pub const DELIVERIES_METRIC: &str = "switchyard_webhook_deliveries_total";
/// Seconds from an event's recording to its delivery (2xx), every endpoint.
pub const LATENCY_METRIC: &str = "switchyard_webhook_delivery_latency_seconds";
/// Endpoints the hub disabled, by reason: failing (for `disable_after_secs`) or gone (410).
pub const DISABLED_METRIC: &str = "switchyard_webhook_endpoints_disabled_total";

/// The HELP lines of the metrics above (`/metrics`).
pub const METRICS: [MetricSpec; 3] = [
    MetricSpec {
        name: DELIVERIES_METRIC,
        kind: MetricKind::Counter,
        help: "outbound webhook deliveries by endpoint and outcome (succeeded, failed, skipped, deferred)",
    },
    MetricSpec {
        name: LATENCY_METRIC,
        kind: MetricKind::Histogram,
        help: "seconds from an event's recording to its delivery to an endpoint (2xx)",
    },
    MetricSpec {
        name: DISABLED_METRIC,
        kind: MetricKind::Counter,
        help: "outbound webhook endpoints disabled by the hub, by reason (failing, gone)",
    },
];

/// One delivery: which event to which endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deliver {
    pub endpoint: WebhookEndpointId,
    pub event: EventId,
}

impl JobPayload for Deliver {
    const KIND: &'static str = store::DELIVER_KIND;
}

/// The answer's body is kept up to this many bytes in the delivery log.
const EXCERPT_BYTES: usize = 1024;

type HmacSha256 = Hmac<Sha256>;

/// The HMAC keyed for Standard Webhooks with `secret`: the key is the base64 after `whsec_`.
pub fn standard_key(secret: &str) -> Result<HmacSha256, String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| format!("endpoint secret is not base64: {e}"))?;
    HmacSha256::new_from_slice(&key).map_err(|e| e.to_string())
}

/// Sign `body` for Standard Webhooks 1.0: `v1,<base64 HMAC-SHA256 of "{id}.{ts}.{body}">`
/// with the key that is the base64 after `whsec_`, one signature per secret, space separated.
/// Written here (a dozen lines over hmac + sha2) because no maintained Rust crate implements
/// the scheme; the tests check it against the reference implementation (`standardwebhooks` on
/// PyPI).
pub fn sign(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let keys = secrets
        .iter()
        .map(|s| standard_key(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sign_keyed(keys.iter(), id, timestamp, body))
}

/// [`sign`] with keys already decoded (each is cloned, keyed state and all, per signature).
pub fn sign_keyed<'a>(
    keys: impl Iterator<Item = &'a HmacSha256>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let timestamp = timestamp.to_string();
    let mut out = String::with_capacity(50);
    for key in keys {
        let mut mac = key.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("v1,");
        out.push_str(&STANDARD.encode(mac.finalize().into_bytes()));
    }
    out
}

/// The MonoPilot PRD's signature (`X-Switchyard-Signature: sha256=<hex>`): HMAC-SHA256 of the
/// body alone, keyed with the endpoint's secret as shown (the whole `whsec_...` string, so a
/// receiver passes it to its HMAC as it is), lower-case hex.
pub fn prd_signature(secret: &str, body: &[u8]) -> String {
    prd_signature_keyed(&prd_key(secret), body)
}

fn prd_key(secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length")
}

fn prd_signature_keyed(key: &HmacSha256, body: &[u8]) -> String {
    let mut mac = key.clone();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// An endpoint's secrets opened and keyed, for as long as its stored secrets are the same.
struct SigningKeys {
    stored: StoredSecrets,
    current: HmacSha256,
    previous: Option<HmacSha256>,
    prd: HmacSha256,
}

impl SigningKeys {
    fn open(endpoint: &EndpointRow, sealing: &Sealing) -> Result<Self, String> {
        let secrets = endpoint.secrets(sealing).map_err(|e| e.to_string())?;
        Ok(Self {
            stored: endpoint.stored_secrets.clone(),
            current: standard_key(&secrets.current)?,
            previous: secrets.previous.as_deref().map(standard_key).transpose()?,
            prd: prd_key(&secrets.current),
        })
    }

    /// The keys signing at `now`: the current one, and the previous one while its overlap
    /// lasts.
    fn signing<'a>(
        &'a self,
        endpoint: &EndpointRow,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &'a HmacSha256> {
        let previous = self
            .previous
            .as_ref()
            .filter(|_| endpoint.previous_signs(now));
        std::iter::once(&self.current).chain(previous)
    }
}

/// The body every receiver gets.
pub fn body(event: &EventRow) -> Vec<u8> {
    serde_json::to_vec(&WebhookPayload {
        event: event.event_type.clone(),
        timestamp: event.occurred_at,
        org_id: event.org_id.0,
        data: event.data.clone(),
    })
    .expect("a payload of JSON values serializes")
}

/// `Retry-After` as seconds or an HTTP date, as a duration from `now`.
fn retry_after(value: Option<&str>, now: DateTime<Utc>) -> Option<Duration> {
    let v = value?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    (at - now).to_std().ok()
}

/// Deliveries read or written per statement at most.
const BATCH: usize = 512;

type Found = Option<(EndpointRow, EventRow)>;

struct Deliverer {
    client: reqwest::Client,
    gates: Arc<Gates>,
    disable_after: chrono::Duration,
    guard: switchyard_core::ssrf::Guard,
    sealing: Sealing,
    keys: Mutex<HashMap<WebhookEndpointId, Arc<SigningKeys>>>,
    reads: Batcher<PgPool, DeliveryKey, Found>,
    writes: Batcher<PgPool, (OrgId, AttemptRow), ()>,
}

pub fn spec(settings: &WebhookSettings) -> JobKindSpec {
    // The SSRF guard checks every address the client connects to, after resolution, and
    // follows no redirect (crate::ssrf).
    let guard = settings.guard();
    let client = crate::ssrf::client_builder(guard.clone())
        .timeout(Duration::from_millis(settings.timeout_ms.max(1)))
        .user_agent(concat!("switchyard-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the webhook HTTP client builds");
    JobKindSpec::typed(Deliverer {
        client,
        guard,
        sealing: settings.sealing.clone(),
        keys: Mutex::default(),
        reads: Batcher::new(BATCH, |pool: PgPool, wanted: Vec<DeliveryKey>| async move {
            store::deliveries(&pool, &wanted)
                .await
                .map_err(|e| e.to_string())
        }),
        writes: Batcher::new(
            BATCH,
            |pool: PgPool, rows: Vec<(OrgId, AttemptRow)>| async move {
                let n = rows.len();
                store::record_attempts(&pool, &rows)
                    .await
                    .map(|()| vec![(); n])
                    .map_err(|e| e.to_string())
            },
        ),
        gates: Arc::new(Gates::default()),
        disable_after: chrono::Duration::seconds(
            i64::try_from(settings.disable_after_secs).unwrap_or(i64::MAX / 1000),
        ),
    })
}

/// What one attempt produced.
struct Sent {
    status: Option<u16>,
    excerpt: Option<String>,
    retry_after: Option<Duration>,
    error: Option<String>,
}

#[async_trait]
impl Job for Deliverer {
    type Payload = Deliver;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: Deliver,
    ) -> Result<(), AdapterError> {
        let found = self
            .reads
            .call(
                ctx.pool(),
                DeliveryKey {
                    org: job.org_id,
                    endpoint: p.endpoint,
                    event: p.event,
                },
            )
            .await
            .map_err(AdapterError::transient)?;
        let Some((endpoint, event)) = found else {
            tracing::info!(endpoint = %p.endpoint, event = %p.event, "webhook endpoint or event gone; nothing to deliver");
            return Ok(());
        };
        let now = ctx.now();
        // A test action's sample is sent even to a paused endpoint (the admin asked for it).
        if endpoint.status != EndpointStatus::Active && event.sample_for.is_none() {
            self.log(
                ctx,
                job,
                &endpoint,
                &event,
                now,
                json!({}),
                AttemptOutcome::Skipped,
                &Sent {
                    status: None,
                    excerpt: None,
                    retry_after: None,
                    error: Some(format!("endpoint {}", endpoint.status.as_str())),
                },
                Duration::ZERO,
            )
            .await?;
            count(&endpoint, AttemptOutcome::Skipped.as_str());
            return Ok(());
        }
        let limits = Limits {
            max_in_flight: u32::try_from(endpoint.max_in_flight).unwrap_or(1),
            rate_per_sec: endpoint
                .rate_limit_per_sec
                .and_then(|n| u32::try_from(n).ok()),
        };
        // The job id's random tail spreads the deferrals of one endpoint's backlog.
        let pass = match self
            .gates
            .admit(endpoint.id, limits, job.id.0.as_u128() as u64)
        {
            Admission::Go(pass) => pass,
            Admission::Wait { after, why } => {
                count(&endpoint, "deferred");
                return Err(AdapterError::deferred(after, why));
            }
        };
        let body = body(&event);
        let id = event.id.to_string();
        let timestamp = now.timestamp();
        // A secret that does not open (its key not configured) is the operator's to fix:
        // retried, not dead at once.
        let keys = self.keys(&endpoint).map_err(AdapterError::transient)?;
        let signature = sign_keyed(keys.signing(&endpoint, now), &id, timestamp, &body);
        let mut request = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", &signature);
        let mut shown = serde_json::Map::new();
        shown.insert("content-type".into(), "application/json".into());
        shown.insert("webhook-id".into(), id.clone().into());
        shown.insert("webhook-timestamp".into(), timestamp.to_string().into());
        // Never the signature itself: anyone holding it could replay this delivery.
        shown.insert(
            "webhook-signature".into(),
            signature
                .split(' ')
                .map(|_| "v1,***")
                .collect::<Vec<_>>()
                .join(" ")
                .into(),
        );
        if endpoint.prd_signature {
            let delivery = job.id.to_string();
            request = request
                .header(
                    "x-switchyard-signature",
                    prd_signature_keyed(&keys.prd, &body),
                )
                .header("x-switchyard-event", &event.event_type)
                .header("x-switchyard-delivery-id", &delivery);
            shown.insert("x-switchyard-signature".into(), "sha256=***".into());
            shown.insert("x-switchyard-event".into(), event.event_type.clone().into());
            shown.insert("x-switchyard-delivery-id".into(), delivery.into());
        }
        if let Some(headers) = endpoint.headers.as_object() {
            for (k, v) in headers {
                if let Some(v) = v.as_str() {
                    request = request.header(k.as_str(), v);
                    shown.insert(k.clone(), v.into());
                }
            }
        }
        let started = Instant::now();
        // An address in the URL never reaches the resolver's check: checked here.
        let result = match crate::ssrf::check_literal(&self.guard, &endpoint.url) {
            Ok(()) => request
                .body(body)
                .send()
                .await
                .map_err(|e| crate::ssrf::describe(&e)),
            Err(refused) => Err(refused.to_string()),
        };
        let sent = match result {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = retry_after(
                    response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                    now,
                );
                let excerpt = match response.bytes().await {
                    Ok(b) => {
                        Some(String::from_utf8_lossy(&b[..b.len().min(EXCERPT_BYTES)]).into_owned())
                    }
                    Err(e) => Some(format!("(body not read: {e})")),
                };
                Sent {
                    status: Some(status),
                    excerpt,
                    retry_after,
                    error: None,
                }
            }
            Err(e) => Sent {
                status: None,
                excerpt: None,
                retry_after: None,
                error: Some(e),
            },
        };
        let took = started.elapsed();
        let answer = Health::of(sent.status);
        // The slot is free from here: the bookkeeping below needs no receiver.
        pass.finish(answer, sent.retry_after);
        let outcome = match answer {
            Health::Delivered => AttemptOutcome::Succeeded,
            Health::Throttled | Health::Failed => AttemptOutcome::Failed,
        };
        count(&endpoint, outcome.as_str());
        if outcome == AttemptOutcome::Succeeded {
            if let Ok(latency) = (ctx.now() - event.occurred_at).to_std() {
                metrics::histogram!(LATENCY_METRIC).record(latency.as_secs_f64());
            }
        }
        self.log(
            ctx,
            job,
            &endpoint,
            &event,
            now,
            Value::Object(shown),
            outcome,
            &sent,
            took,
        )
        .await?;
        // Samples do not judge an endpoint's health: the admin may be testing a broken one.
        if event.sample_for.is_none() || sent.status == Some(410) {
            let disabled = if sent.status == Some(410) {
                health::disable(
                    ctx.pool(),
                    endpoint.org_id,
                    endpoint.id,
                    &DisableReason::Gone,
                    ctx.now(),
                )
                .await
                .map(|row| row.map(|r| (r, DisableReason::Gone)))
            } else {
                health::record(ctx.pool(), &endpoint, answer, self.disable_after, ctx.now())
                    .await
                    .map(|row| {
                        row.map(|r| {
                            let since = r.failing_since.unwrap_or(now);
                            (r, DisableReason::FailingSince(since))
                        })
                    })
            }
            .map_err(|e| AdapterError::transient(e.to_string()))?;
            if let Some((row, reason)) = disabled {
                self.disabled(ctx, job, &row, &reason);
            }
        }
        match sent.status {
            Some(s) if (200..300).contains(&s) => Ok(()),
            Some(410) => Err(AdapterError::permanent(format!(
                "{} answered 410 Gone: endpoint disabled",
                endpoint.url
            ))
            .with_status(410)),
            Some(s) => Err(AdapterError {
                class: switchyard_core::error::ErrorClass::Transient {
                    retry_after: sent.retry_after,
                },
                message: format!("{} answered {s}", endpoint.url),
                status: Some(s),
            }),
            None => Err(AdapterError::transient(format!(
                "{}: {}",
                endpoint.url,
                sent.error.as_deref().unwrap_or("no answer")
            ))),
        }
    }
}

/// Count one delivery of `endpoint` with `outcome`.
fn count(endpoint: &EndpointRow, outcome: &'static str) {
    metrics::counter!(DELIVERIES_METRIC, "endpoint" => endpoint.id.to_string(), "outcome" => outcome)
        .increment(1);
}

impl Deliverer {
    /// `endpoint`'s signing keys, opened once per stored secret: a rotation (or a re-sealing)
    /// changes what is stored, and the next delivery opens the new value.
    fn keys(&self, endpoint: &EndpointRow) -> Result<Arc<SigningKeys>, String> {
        let mut keys = self.keys.lock().expect("the signing keys lock");
        if let Some(k) = keys.get(&endpoint.id) {
            if k.stored == endpoint.stored_secrets {
                return Ok(k.clone());
            }
        }
        let opened = Arc::new(SigningKeys::open(endpoint, &self.sealing)?);
        keys.insert(endpoint.id, opened.clone());
        Ok(opened)
    }

    /// The hub disabled `endpoint` (its event is recorded): say so in the log, the integration
    /// log and the metrics.
    fn disabled(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        endpoint: &EndpointRow,
        reason: &DisableReason,
    ) {
        let text = reason.text();
        tracing::warn!(endpoint = %endpoint.id, name = %endpoint.name, reason = %text,
            "webhook endpoint disabled");
        metrics::counter!(DISABLED_METRIC, "reason" => reason.label()).increment(1);
        ctx.sink.record(
            &ctx.adapter_context(job),
            Exchange {
                partner: PartnerName(format!("webhook:{}", endpoint.name)),
                event: health::DISABLED_EVENT.to_owned(),
                direction: Direction::Outbound,
                method: None,
                url: Some(endpoint.url.clone()),
                request_body: None,
                response_status: None,
                response_body: None,
                duration: Duration::ZERO,
                error: Some(text),
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    async fn log(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        endpoint: &EndpointRow,
        event: &EventRow,
        at: DateTime<Utc>,
        request_headers: Value,
        outcome: AttemptOutcome,
        sent: &Sent,
        took: Duration,
    ) -> Result<(), AdapterError> {
        let error = sent.error.as_deref().map(|e| ctx.masker.mask_text(e));
        let attempt = AttemptRow {
            id: uuid::Uuid::now_v7(),
            endpoint_id: endpoint.id,
            event_id: event.id,
            event_type: event.event_type.clone(),
            job_id: Some(job.id.0),
            attempt: job.attempt,
            at,
            request_headers: request_headers.clone(),
            outcome,
            http_status: sent.status.map(i32::from),
            response_excerpt: sent.excerpt.clone(),
            error: error.clone(),
            duration_ms: took.as_millis().min(i32::MAX as u128) as i32,
        };
        // Waits for the batch's commit: the job completes only after its attempt is recorded.
        self.writes
            .call(ctx.pool(), (endpoint.org_id, attempt))
            .await
            .map_err(AdapterError::transient)?;
        ctx.sink.record(
            &ctx.adapter_context(job),
            Exchange {
                partner: PartnerName(format!("webhook:{}", endpoint.name)),
                event: format!("webhook.deliver {}", event.event_type),
                direction: Direction::Outbound,
                method: Some("POST".into()),
                url: Some(endpoint.url.clone()),
                request_body: Some(json!({"headers": request_headers, "event_id": event.id,
                                          "outcome": outcome.as_str()})),
                response_status: sent.status,
                response_body: sent.excerpt.clone().map(Value::String),
                duration: took,
                error,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_once_per_secret_space_separated() {
        let a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let b = "whsec_c3dpdGNoeWFyZC13ZWJob29rcy1pbmRlcGVuZGVudCE=";
        let one = sign(&[a], "msg_1", 1_700_000_000, b"{}").unwrap();
        let two = sign(&[a, b], "msg_1", 1_700_000_000, b"{}").unwrap();
        assert!(one.starts_with("v1,") && !one.contains(' '));
        assert_eq!(two.split(' ').next(), Some(one.as_str()));
        assert_eq!(two.split(' ').count(), 2);
        // The signature covers id, timestamp and body.
        assert_ne!(one, sign(&[a], "msg_2", 1_700_000_000, b"{}").unwrap());
        assert_ne!(one, sign(&[a], "msg_1", 1_700_000_001, b"{}").unwrap());
        assert_ne!(one, sign(&[a], "msg_1", 1_700_000_000, b"{ }").unwrap());
        assert!(sign(&["whsec_not base64!"], "m", 1, b"").is_err());
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            retry_after(Some("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(Some("Thu, 01 Jan 2026 00:01:00 GMT"), now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(Some("soon"), now), None);
        assert_eq!(retry_after(None, now), None);
    }
}
