//! Inbound webhooks, once for every partner system.
//!
//! `POST /webhooks/{partner}` carries no API key: the partner's adapter verifies the signature
//! over the raw body and headers ([`switchyard_core::adapter::Adapter::receive_webhook`]).
//! A verified delivery is stored raw, deduplicated by the partner's event id, and its
//! processing enqueued as a `webhook.process` job in the same transaction; then the partner
//! gets its answer (202 new, 200 a redelivery), with nothing network-bound in between. An
//! invalid signature is 401 and logged with the body's secrets masked.
//!
//! Processing runs the [`WebhookProcessor`] the partner's integration registered for its
//! kind; without one, each document is recorded in the integration log. A delivery is
//! processed once however often the partner sends it.

use crate::adapters::Adapters;
use crate::context::JobContext;
use crate::job::{Job, JobKindSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_api::webhooks::{WebhookAnswer, WebhookIntake};
use switchyard_core::adapter::{
    AdapterContext, Capability, Direction, Exchange, ExchangeSink, InboundDocument,
};
use switchyard_core::clock::Clock;
use switchyard_core::error::{AdapterError, ErrorClass};
use switchyard_core::ids::{OrgId, PartnerName};
use switchyard_core::JobPayload;
use switchyard_store::logs::{self, IntegrationType, LogStatus, Masker, NewLogEntry};
use switchyard_store::queue::{ClaimedJob, NewJob, RetrySpec};
use switchyard_store::webhooks::{self as store, DeliveryRow, NewDelivery, Stored};
use uuid::Uuid;

/// Processes the deliveries of one partner kind (registered in [`crate::integration::Parts`]).
#[async_trait]
pub trait WebhookProcessor: Send + Sync {
    /// Act on one verified delivery. Runs at least once per delivery (a crash mid-way runs it
    /// again), so effects must be keyed by `delivery.id` or the partner's event id.
    async fn process(&self, ctx: &JobContext, delivery: &Delivery) -> Result<(), AdapterError>;
}

/// A stored delivery as processors see it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub org: OrgId,
    pub partner: String,
    pub event_id: String,
    pub topic: String,
    pub documents: Vec<InboundDocument>,
    pub body: Vec<u8>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = AdapterError;
    fn try_from(row: DeliveryRow) -> Result<Self, AdapterError> {
        let documents = serde_json::from_value(row.documents).map_err(|e| {
            AdapterError::permanent(format!("delivery {}: stored documents: {e}", row.id))
        })?;
        Ok(Self {
            id: row.id,
            org: OrgId(row.org_id),
            partner: row.partner,
            event_id: row.event_id,
            topic: row.topic,
            documents,
            body: row.body,
        })
    }
}

/// `webhook.process`: `{"delivery_id": UUID}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessDelivery {
    pub delivery_id: Uuid,
}

impl JobPayload for ProcessDelivery {
    const KIND: &'static str = "webhook.process";
}

/// Headers whose values never reach the database or a log.
fn masked_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "cookie",
        "signature",
        "hmac",
        "token",
        "secret",
        "api-key",
        "apikey",
    ]
    .iter()
    .any(|s| n.contains(s))
}

fn headers_json(headers: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(
        headers
            .iter()
            .map(|(k, v)| {
                let v = if masked_header(k) { "***" } else { v.as_str() };
                (k.to_ascii_lowercase(), serde_json::Value::from(v))
            })
            .collect(),
    )
}

/// The body for the log: its JSON masked, or its size when it is not JSON.
fn body_for_log(masker: &Masker, body: &[u8]) -> serde_json::Value {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => masker.masked(v),
        Err(_) => serde_json::json!({ "bytes": body.len() }),
    }
}

/// The intake behind `POST /webhooks/{partner}`.
pub struct Intake {
    pub pool: sqlx::PgPool,
    pub adapters: Arc<Adapters>,
    /// The organization of each partner (its `org` in the config).
    pub orgs: BTreeMap<String, OrgId>,
    pub clock: Arc<dyn Clock>,
    pub masker: Masker,
    pub sink: Arc<dyn ExchangeSink>,
    pub retry: RetrySpec,
}

/// One integration-log line about a delivery.
struct Logged<'a> {
    org: OrgId,
    partner: &'a str,
    event: String,
    status: LogStatus,
    http_status: u16,
    error: Option<String>,
}

impl Intake {
    async fn log(&self, line: Logged<'_>, body: &[u8], started: Instant) {
        let partner = line.partner;
        let mut entry = NewLogEntry::new(
            Some(line.org),
            IntegrationType::Webhook,
            line.event,
            logs::Direction::Inbound,
            line.status,
        );
        entry.at = self.clock.now();
        entry.http_status = Some(line.http_status.into());
        entry.partner = Some(partner.to_owned());
        entry.request_body = Some(body_for_log(&self.masker, body));
        entry.error_message = line.error;
        entry.duration_ms = Some(started.elapsed().as_millis().min(i32::MAX as u128) as i32);
        if let Err(e) = logs::insert(&self.pool, &self.masker, &entry).await {
            tracing::error!(error = %e, partner, "could not log a webhook delivery");
        }
    }
}

#[async_trait]
impl WebhookIntake for Intake {
    async fn receive(
        &self,
        partner: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> WebhookAnswer {
        let started = Instant::now();
        let (Some(adapter), Some(org)) = (self.adapters.get(partner), self.orgs.get(partner))
        else {
            return WebhookAnswer::UnknownPartner;
        };
        if !adapter.supports(Capability::ReceiveWebhooks) {
            return WebhookAnswer::NotReceived;
        }
        let ctx = AdapterContext {
            org: *org,
            job: None,
            idempotency_key: String::new(),
            correlation_id: format!("webhook:{partner}"),
            attempt: 1,
            sink: self.sink.clone(),
        };
        let verified = match adapter.receive_webhook(&ctx, headers, body).await {
            Ok(v) => v,
            Err(e) => {
                let refused = matches!(e.class, ErrorClass::Auth);
                let status = if refused { 401 } else { 400 };
                let line = Logged {
                    org: *org,
                    partner,
                    event: "webhook.refused".into(),
                    status: LogStatus::Error,
                    http_status: status,
                    error: Some(e.message.clone()),
                };
                self.log(line, body, started).await;
                return if refused {
                    WebhookAnswer::Unauthenticated(e.message)
                } else {
                    WebhookAnswer::Invalid(e.message)
                };
            }
        };
        let delivery = NewDelivery {
            org: *org,
            partner: partner.to_owned(),
            event_id: verified.event_id.clone(),
            topic: verified.topic.clone(),
            headers: headers_json(headers),
            body: body.to_vec(),
            documents: serde_json::to_value(&verified.documents).unwrap_or_default(),
        };
        let now = self.clock.now();
        let retry = self.retry;
        let stored = store::store(&self.pool, &delivery, now, |id| {
            let mut job = NewJob::new(
                *org,
                ProcessDelivery::KIND,
                serde_json::json!({ "delivery_id": id }),
            )
            .partner(partner)
            .key(format!("webhook:{id}"))
            .retry(retry);
            job.correlation_id = Some(format!("webhook:{}", verified.event_id));
            job
        })
        .await;
        match stored {
            Ok(Stored::New { delivery, .. }) => {
                let line = Logged {
                    org: *org,
                    partner,
                    event: format!("webhook.{}", verified.topic),
                    status: LogStatus::Success,
                    http_status: 202,
                    error: None,
                };
                self.log(line, body, started).await;
                WebhookAnswer::Accepted { delivery }
            }
            Ok(Stored::Duplicate { delivery }) => {
                let line = Logged {
                    org: *org,
                    partner,
                    event: format!("webhook.{}", verified.topic),
                    status: LogStatus::Warning,
                    http_status: 200,
                    error: Some(format!(
                        "event `{}` was received before; not processed again",
                        verified.event_id
                    )),
                };
                self.log(line, body, started).await;
                WebhookAnswer::Duplicate { delivery }
            }
            Err(e) => {
                tracing::error!(error = %e, partner, "could not store a webhook delivery");
                WebhookAnswer::Unavailable("the delivery could not be stored; send it again".into())
            }
        }
    }
}

/// `webhook.process`: run the partner kind's processor over one stored delivery, then mark
/// it processed.
pub struct Process {
    pub processors: BTreeMap<&'static str, Arc<dyn WebhookProcessor>>,
}

impl Process {
    pub fn spec(processors: BTreeMap<&'static str, Arc<dyn WebhookProcessor>>) -> JobKindSpec {
        JobKindSpec::typed(Process { processors })
    }
}

#[async_trait]
impl Job for Process {
    type Payload = ProcessDelivery;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        payload: ProcessDelivery,
    ) -> Result<(), AdapterError> {
        let db = |e: switchyard_store::StoreError| AdapterError::transient(e.to_string());
        // A delivery of another organization is as good as absent (a job enqueued through
        // the API names any id it likes).
        let row = store::get(ctx.pool(), payload.delivery_id)
            .await
            .map_err(db)?
            .filter(|row| row.org_id == job.org_id.0)
            .ok_or_else(|| {
                AdapterError::permanent(format!(
                    "webhook delivery {} does not exist (removed by retention?)",
                    payload.delivery_id
                ))
            })?;
        if row.status == "processed" {
            return Ok(());
        }
        let delivery = Delivery::try_from(row)?;
        let kind = ctx
            .adapters
            .get(&delivery.partner)
            .map(|a| a.kind())
            .unwrap_or_default();
        let outcome = match self.processors.get(kind) {
            Some(p) => p.process(ctx, &delivery).await,
            None => {
                record_documents(ctx, job, &delivery);
                Ok(())
            }
        };
        match outcome {
            Ok(()) => store::finish(ctx.pool(), delivery.id, None, ctx.now())
                .await
                .map_err(db),
            Err(e) => {
                if !e.class.is_retryable() {
                    store::finish(ctx.pool(), delivery.id, Some(&e.message), ctx.now())
                        .await
                        .map_err(db)?;
                }
                Err(e)
            }
        }
    }
}

/// The default processing: one integration-log exchange per document.
fn record_documents(ctx: &JobContext, job: &ClaimedJob, delivery: &Delivery) {
    let actx = ctx.adapter_context(job);
    for doc in &delivery.documents {
        ctx.sink.record(
            &actx,
            Exchange {
                partner: PartnerName(delivery.partner.clone()),
                event: format!("webhook.{}", doc.document),
                direction: Direction::Inbound,
                method: None,
                url: None,
                request_body: serde_json::to_value(&doc.payload).ok(),
                response_status: None,
                response_body: None,
                duration: Duration::ZERO,
                error: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_headers_are_masked() {
        let h = headers_json(&[
            ("Webhook-Signature".into(), "v1,abc".into()),
            ("X-Shopify-Hmac-Sha256".into(), "xyz".into()),
            ("Authorization".into(), "Bearer t".into()),
            ("Webhook-Id".into(), "msg_1".into()),
        ]);
        assert_eq!(h["webhook-signature"], "***");
        assert_eq!(h["x-shopify-hmac-sha256"], "***");
        assert_eq!(h["authorization"], "***");
        assert_eq!(h["webhook-id"], "msg_1");
    }
}
