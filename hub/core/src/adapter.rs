//! The contract between the daemon and a partner system.
//!
//! Adapters move raw documents and cursors (transport); mapping files translate (meaning).
//! An adapter never touches the database: whatever it exchanges it reports through the
//! [`ExchangeSink`] in its [`AdapterContext`], and the daemon writes that to the integration
//! log with secrets masked.

use crate::error::AdapterError;
use crate::ids::{JobId, OrgId, PartnerName};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// What an adapter can do. Every job kind that talks to a partner says which capability it
/// needs; the runtime refuses to enqueue (API: 422) or run such a job for a partner whose
/// adapter does not declare it, naming both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    PullCatalog,
    PullInventory,
    PullPrices,
    PullOrders,
    PushCatalog,
    PushInventory,
    PushPrices,
    PushOrders,
    PushShipments,
    PushInvoices,
    ReceiveWebhooks,
    HealthCheck,
    /// Exchanges files through a mailbox (a VAN's inbound/outbound folders, an exchange
    /// directory), which its own jobs poll and deliver into.
    Mailbox,
}

impl Capability {
    pub const ALL: [Capability; 13] = [
        Capability::PullCatalog,
        Capability::PullInventory,
        Capability::PullPrices,
        Capability::PullOrders,
        Capability::PushCatalog,
        Capability::PushInventory,
        Capability::PushPrices,
        Capability::PushOrders,
        Capability::PushShipments,
        Capability::PushInvoices,
        Capability::ReceiveWebhooks,
        Capability::HealthCheck,
        Capability::Mailbox,
    ];

    /// The name used in config, errors and the API (`push_catalog`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Capability::PullCatalog => "pull_catalog",
            Capability::PullInventory => "pull_inventory",
            Capability::PullPrices => "pull_prices",
            Capability::PullOrders => "pull_orders",
            Capability::PushCatalog => "push_catalog",
            Capability::PushInventory => "push_inventory",
            Capability::PushPrices => "push_prices",
            Capability::PushOrders => "push_orders",
            Capability::PushShipments => "push_shipments",
            Capability::PushInvoices => "push_invoices",
            Capability::ReceiveWebhooks => "receive_webhooks",
            Capability::HealthCheck => "health_check",
            Capability::Mailbox => "mailbox",
        }
    }

    /// Every push capability.
    pub const PUSH: [Capability; 6] = [
        Capability::PushCatalog,
        Capability::PushInventory,
        Capability::PushPrices,
        Capability::PushOrders,
        Capability::PushShipments,
        Capability::PushInvoices,
    ];

    /// Every pull capability.
    pub const PULL: [Capability; 4] = [
        Capability::PullCatalog,
        Capability::PullInventory,
        Capability::PullPrices,
        Capability::PullOrders,
    ];

    pub fn is_push(&self) -> bool {
        Self::PUSH.contains(self)
    }

    pub fn is_pull(&self) -> bool {
        Self::PULL.contains(self)
    }

    /// The push capability a document of this name needs (`catalog` → push_catalog); `None`
    /// for a document name that is none of the canonical entities (any push capability will do).
    pub fn push_for_document(document: &str) -> Option<Capability> {
        let d = document.to_ascii_lowercase();
        let d = d.trim_end_matches('s');
        Some(match d {
            "catalog" | "product" | "variant" => Capability::PushCatalog,
            "inventory" | "stock" | "inventory_level" => Capability::PushInventory,
            "price" | "price_list" => Capability::PushPrices,
            "order" | "order_response" => Capability::PushOrders,
            // `shipment_tracking`: a recorded shipment's tracking changed.
            "shipment" | "ship_notice" | "fulfillment" | "shipment_tracking" => {
                Capability::PushShipments
            }
            "invoice" => Capability::PushInvoices,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A document body as it goes over the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    Json { body: serde_json::Value },
    Text { content_type: String, body: String },
}

/// One mapped document to send to a partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundDocument {
    /// What it is (`catalog`, `order`, `invoice`...), used in logs and by adapters that route by it.
    pub document: String,
    pub payload: Payload,
}

/// What the partner said when it accepted a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushReceipt {
    pub status: u16,
    /// The partner's id for the created/updated resource, when it returns one.
    pub external_id: Option<String>,
    /// True when the partner recognised the idempotency key and did not apply the effect again.
    pub duplicate: bool,
}

/// One document of a batch push, with the idempotency key its write carries (each item of a
/// batch is its own write: a partner must be able to dedupe items one by one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    pub idempotency_key: String,
    pub doc: OutboundDocument,
    /// Whether the caller knows the partner has the item (see [`Presence`]); a caller that
    /// keeps no record leaves it [`Presence::New`].
    #[serde(default)]
    pub presence: Presence,
}

/// What the caller knows of an item at the partner, for adapters whose partner writes a new
/// item and an existing one differently (Magento's async bulk API: a create is a `POST`, an
/// update a `PUT .../bySku`, which fails for a SKU the store does not have). Knowledge, not a
/// guarantee: an admin may have deleted a `Sent` item at the partner since, so an adapter
/// still handles "not found" on an update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// No write of the item to this partner is on record as confirmed (never sent, its last
    /// confirmed write took it back, or the caller keeps no record): the partner may not have
    /// it, so write it in a way that creates it.
    #[default]
    New,
    /// The partner confirmed a write of the item (not a tombstone) the last time one was
    /// sent: it had the item then.
    Sent,
}

/// How many single pushes the default [`Adapter::push_batch`] keeps in flight.
pub const DEFAULT_BATCH_CONCURRENCY: usize = 16;

/// A request for one page of records from a partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub entity: String,
    pub cursor: Option<String>,
    #[serde(default)]
    pub params: serde_json::Value,
}

/// One page of raw records plus the cursor for the next page (None when done).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    pub records: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

/// A document received on a webhook, after the adapter verified its signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundDocument {
    pub document: String,
    pub payload: Payload,
}

/// A webhook delivery the adapter verified: what the runtime stores, dedupes and processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedWebhook {
    /// The partner's id of this event (`webhook-id`, `X-Shopify-Webhook-Id`, ...): a
    /// redelivery carries the same id and is processed once. An adapter whose partner sends no
    /// id derives one from the signed content.
    pub event_id: String,
    /// What happened (`orders/create`, `order.status_changed`), for logs and processors.
    pub topic: String,
    pub documents: Vec<InboundDocument>,
}

/// Which way an exchange went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// One request/response with a partner, reported by the adapter for the integration log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub partner: PartnerName,
    pub event: String,
    pub direction: Direction,
    pub method: Option<String>,
    pub url: Option<String>,
    pub request_body: Option<serde_json::Value>,
    pub response_status: Option<u16>,
    pub response_body: Option<serde_json::Value>,
    pub duration: Duration,
    pub error: Option<String>,
}

/// Where adapters report exchanges. The daemon's implementation masks secrets and writes
/// integration log rows; tests can collect them in memory.
pub trait ExchangeSink: Send + Sync {
    fn record(&self, ctx: &AdapterContext, exchange: Exchange);
}

/// A sink that drops everything (for CLI tools that talk to no partner).
#[derive(Debug, Default)]
pub struct NullSink;

impl ExchangeSink for NullSink {
    fn record(&self, _ctx: &AdapterContext, _exchange: Exchange) {}
}

/// Per-call context: who is asking, for which job, with which idempotency key.
#[derive(Clone)]
pub struct AdapterContext {
    pub org: OrgId,
    pub job: Option<JobId>,
    /// Passed to the partner so that a redelivered job does not apply its effect twice.
    pub idempotency_key: String,
    pub correlation_id: String,
    pub attempt: i32,
    pub sink: Arc<dyn ExchangeSink>,
}

impl std::fmt::Debug for AdapterContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterContext")
            .field("org", &self.org)
            .field("job", &self.job)
            .field("idempotency_key", &self.idempotency_key)
            .field("correlation_id", &self.correlation_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

/// A configured connection to one partner system.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// The adapter kind (`http`, `edi`, `shopify`...): the `kind` of its partners' sections.
    fn kind(&self) -> &'static str;

    fn capabilities(&self) -> &[Capability];

    fn supports(&self, capability: Capability) -> bool {
        self.capabilities().contains(&capability)
    }

    /// Cheap reachability/credentials check.
    async fn health(&self, ctx: &AdapterContext) -> Result<(), AdapterError>;

    /// Send one document. Must pass `ctx.idempotency_key` to the partner when the partner
    /// supports it, so redelivery after a crash is harmless.
    async fn push(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<PushReceipt, AdapterError> {
        let _ = (ctx, doc);
        Err(AdapterError::permanent(format!(
            "the {} adapter cannot push documents",
            self.kind()
        )))
    }

    /// Send several documents; one result per item, in the items' order. A partner with a
    /// batch or bulk API overrides this (one call for many items, per-item results from its
    /// answer); the default pushes one by one, [`Adapter::batch_concurrency`] at a time, each
    /// with its item's idempotency key. One item's failure never fails the others.
    async fn push_batch(
        &self,
        ctx: &AdapterContext,
        items: &[BatchItem],
    ) -> Vec<Result<PushReceipt, AdapterError>> {
        use futures::future::BoxFuture;
        use futures::StreamExt as _;
        let mut pushes: Vec<BoxFuture<'_, Result<PushReceipt, AdapterError>>> =
            Vec::with_capacity(items.len());
        for item in items {
            let mut one = ctx.clone();
            one.idempotency_key = item.idempotency_key.clone();
            pushes.push(Box::pin(async move { self.push(&one, &item.doc).await }));
        }
        futures::stream::iter(pushes)
            .buffered(self.batch_concurrency().max(1))
            .collect()
            .await
    }

    /// Single pushes the default [`Adapter::push_batch`] keeps in flight.
    fn batch_concurrency(&self) -> usize {
        DEFAULT_BATCH_CONCURRENCY
    }

    /// Fetch one page of records.
    async fn pull(
        &self,
        ctx: &AdapterContext,
        request: &PullRequest,
    ) -> Result<PullPage, AdapterError> {
        let _ = (ctx, request);
        Err(AdapterError::permanent(format!(
            "the {} adapter cannot pull records",
            self.kind()
        )))
    }

    /// Verify and decode an inbound webhook: `headers` (names lower-cased) and the raw `body`
    /// exactly as received. A bad or missing signature, or a timestamp outside the partner's
    /// tolerance, is an [`AdapterError::auth`]; nothing network-bound happens here (the
    /// runtime answers the partner within a second).
    async fn receive_webhook(
        &self,
        ctx: &AdapterContext,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<VerifiedWebhook, AdapterError> {
        let _ = (ctx, headers, body);
        Err(AdapterError::permanent(format!(
            "the {} adapter does not receive webhooks",
            self.kind()
        )))
    }

    /// The adapter as a supplier (order forwarding, status changes), when its partner is a
    /// wholesaler: the supplier flows find it through here.
    fn as_supplier(&self) -> Option<&dyn crate::supplier::Supplier> {
        None
    }
}

/// Resolves a credentials reference from the config (`secret:NAME`, `env:VAR`) to its value.
/// Implemented by the daemon over its encrypted secret store.
pub trait SecretResolver: Send + Sync {
    fn resolve(&self, reference: &str) -> Result<String, ConfigError>;

    /// A value derived from resolved credentials that the adapter will send (a Basic header's
    /// base64, a signed token): masked like the credentials themselves wherever text is
    /// logged or stored (`redact.rs`). Resolvers that record nothing ignore it.
    fn mask_also(&self, _derived: &str) {}
}

/// A config problem found while building an adapter.
#[derive(Debug, Clone, thiserror::Error)]
#[error("partner `{partner}`: {message}")]
pub struct ConfigError {
    pub partner: String,
    pub message: String,
    /// Where in the partner's table the problem is (`auth.token_ref`), when one key is to
    /// blame: the daemon turns it into the key's line and column in the config file.
    pub key: Option<String>,
}

impl ConfigError {
    pub fn new(partner: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            partner: partner.into(),
            message: message.into(),
            key: None,
        }
    }

    /// The dotted key the problem is about.
    pub fn at_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

/// Builds adapters of one kind from a partner's config section. The daemon keeps an explicit
/// registry of factories (no link-time magic); an unknown kind lists the known ones.
pub trait AdapterFactory: Send + Sync {
    fn kind(&self) -> &'static str;

    /// Parse and validate `config` (the partner's table, as JSON), then build the adapter.
    fn build(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError>;
}
