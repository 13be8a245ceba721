//! Outbound webhooks' vocabulary: the event types and their documented payloads, the body a
//! receiver gets, the `[webhooks]` settings, and the rules an endpoint's URL, subscriptions
//! and custom headers must follow. The events themselves are written by triggers
//! (migrations/0016_events.sql); the payload structs here are what those triggers write, and
//! a test holds each trigger to its struct (`hub/api/tests/api/webhooks_out.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Every event type the hub records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "product.created")]
    ProductCreated,
    #[serde(rename = "product.updated")]
    ProductUpdated,
    #[serde(rename = "product.deleted")]
    ProductDeleted,
    #[serde(rename = "inventory.updated")]
    InventoryUpdated,
    #[serde(rename = "price.updated")]
    PriceUpdated,
    #[serde(rename = "order.created")]
    OrderCreated,
    #[serde(rename = "order.updated")]
    OrderUpdated,
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    #[serde(rename = "order.supplier_status_changed")]
    OrderSupplierStatusChanged,
    #[serde(rename = "inventory.low")]
    InventoryLow,
    #[serde(rename = "dead_letter.created")]
    DeadLetterCreated,
    #[serde(rename = "bom.created")]
    BomCreated,
    #[serde(rename = "bom.updated")]
    BomUpdated,
    #[serde(rename = "export.completed")]
    ExportCompleted,
    #[serde(rename = "webhook.endpoint.disabled")]
    WebhookEndpointDisabled,
    #[serde(rename = "shipment.dispatched")]
    ShipmentDispatched,
    #[serde(rename = "shipment.tracking_updated")]
    ShipmentTrackingUpdated,
    #[serde(rename = "invoice.created")]
    InvoiceCreated,
    #[serde(rename = "edi.message.received")]
    EdiMessageReceived,
    #[serde(rename = "edi.message.failed")]
    EdiMessageFailed,
}

impl EventType {
    pub const ALL: [EventType; 20] = [
        Self::ProductCreated,
        Self::ProductUpdated,
        Self::ProductDeleted,
        Self::InventoryUpdated,
        Self::PriceUpdated,
        Self::OrderCreated,
        Self::OrderUpdated,
        Self::OrderCancelled,
        Self::OrderSupplierStatusChanged,
        Self::InventoryLow,
        Self::DeadLetterCreated,
        Self::BomCreated,
        Self::BomUpdated,
        Self::ExportCompleted,
        Self::WebhookEndpointDisabled,
        Self::ShipmentDispatched,
        Self::ShipmentTrackingUpdated,
        Self::InvoiceCreated,
        Self::EdiMessageReceived,
        Self::EdiMessageFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductCreated => "product.created",
            Self::ProductUpdated => "product.updated",
            Self::ProductDeleted => "product.deleted",
            Self::InventoryUpdated => "inventory.updated",
            Self::PriceUpdated => "price.updated",
            Self::OrderCreated => "order.created",
            Self::OrderUpdated => "order.updated",
            Self::OrderCancelled => "order.cancelled",
            Self::OrderSupplierStatusChanged => "order.supplier_status_changed",
            Self::InventoryLow => "inventory.low",
            Self::DeadLetterCreated => "dead_letter.created",
            Self::BomCreated => "bom.created",
            Self::BomUpdated => "bom.updated",
            Self::ExportCompleted => "export.completed",
            Self::WebhookEndpointDisabled => "webhook.endpoint.disabled",
            Self::ShipmentDispatched => "shipment.dispatched",
            Self::ShipmentTrackingUpdated => "shipment.tracking_updated",
            Self::InvoiceCreated => "invoice.created",
            Self::EdiMessageReceived => "edi.message.received",
            Self::EdiMessageFailed => "edi.message.failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// `order` of `order.created`.
    pub fn family(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or_default()
    }

    /// A made-up payload of this type, for an endpoint's test action.
    pub fn sample(self) -> Value {
        match self {
            Self::ProductCreated | Self::ProductDeleted => {
                json!({"sku": "SAMPLE-1", "name": "Sample product"})
            }
            Self::ProductUpdated => {
                json!({"sku": "SAMPLE-1", "name": "Sample product", "changed": ["name"]})
            }
            Self::InventoryUpdated => json!({"sku": "SAMPLE-1", "location": "MAIN",
                "on_hand": "10", "on_hand_at_least": false, "allocated": "2", "on_order": "0"}),
            Self::PriceUpdated => json!({"sku": "SAMPLE-1"}),
            Self::OrderCreated => json!({"order_id": "00000000-0000-7000-8000-000000000000",
                "order_number": "SO-1", "customer_id": "C1", "customer_po": "PO-1", "status": "confirmed"}),
            Self::OrderUpdated | Self::OrderCancelled => {
                json!({"order_id": "00000000-0000-7000-8000-000000000000",
                "order_number": "SO-1", "customer_id": "C1", "customer_po": "PO-1",
                "status": if self == Self::OrderCancelled { "cancelled" } else { "pending" },
                "previous_status": "confirmed", "changed": ["status"]})
            }
            Self::OrderSupplierStatusChanged => {
                json!({"order_id": "00000000-0000-7000-8000-000000000000",
                "order_number": "SO-1", "customer_id": "C1", "partner": "phonex",
                "supplier_order_id": "ORD845140", "status": "shipped", "previous_status": "accepted",
                "supplier_status": "shipped", "tracking_number": "1Z999AA10123456784",
                "carrier": "UPS", "updated_at": "2026-10-30T18:06:39Z"})
            }
            Self::InventoryLow => {
                json!({"sku": "SAMPLE-1", "location": "MAIN", "available": "3", "threshold": "5"})
            }
            Self::DeadLetterCreated => {
                json!({"dead_letter_id": "00000000-0000-7000-8000-000000000001",
                "job_id": "00000000-0000-7000-8000-000000000002", "kind": "partner.push",
                "partner": "acme", "reason": "permanent: sample", "error_class": "permanent"})
            }
            Self::BomCreated | Self::BomUpdated => {
                json!({"product_sku": "SAMPLE-1", "version": 1, "items": 3})
            }
            Self::ExportCompleted => json!({"export_id": "00000000-0000-7000-8000-000000000003",
                "entity": "orders", "format": "csv", "rows": 1200, "bytes": 98304,
                "expires_at": "2026-01-02T10:00:00Z",
                "download": "/api/v1/exports/00000000-0000-7000-8000-000000000003/download"}),
            Self::WebhookEndpointDisabled => json!({
                "endpoint_id": "00000000-0000-7000-8000-000000000004", "name": "erp",
                "url": "https://erp.example.com/hooks",
                "reason": "disabled by the hub: every delivery failed since 2026-01-01T00:00:00Z",
                "failing_since": "2026-01-01T00:00:00Z"}),
            Self::ShipmentDispatched => {
                json!({"shipment_id": "00000000-0000-7000-8000-000000000004",
                "shipment_number": "SH-1", "order_id": "00000000-0000-7000-8000-000000000000",
                "order_number": "SO-1", "carrier": "UPS", "service": "Ground",
                "tracking_number": "1Z999AA10123456784",
                "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
                "shipped_at": "2026-01-02T10:00:00Z"})
            }
            Self::ShipmentTrackingUpdated => {
                json!({"shipment_id": "00000000-0000-7000-8000-000000000004",
                "shipment_number": "SH-1", "order_id": "00000000-0000-7000-8000-000000000000",
                "order_number": "SO-1", "carrier": "UPS", "service": "Ground",
                "tracking_number": "1Z999AA10123456785",
                "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456785",
                "previous_tracking_number": "1Z999AA10123456784",
                "shipped_at": "2026-01-02T10:00:00Z"})
            }
            Self::InvoiceCreated => {
                json!({"invoice_id": "00000000-0000-7000-8000-000000000005",
                "invoice_number": "FV/1/2026", "order_id": "00000000-0000-7000-8000-000000000000",
                "order_number": "SO-1", "customer_id": "C1", "currency": "PLN",
                "issue_date": "2026-01-02", "due_date": "2026-01-16", "net_total": "100.00",
                "vat_total": "23.00", "gross_total": "123.00"})
            }
            Self::EdiMessageReceived => {
                json!({"message_id": "00000000-0000-7000-8000-000000000004",
                "partner": "acme-edi", "standard": "x12", "message_types": ["850"],
                "sender_id": "ACME", "receiver_id": "SWITCHYARD", "interchange_control": "000000101",
                "status": "received", "file_name": "po-101.edi", "duplicate_of": null})
            }
            Self::EdiMessageFailed => json!({"message_id": "00000000-0000-7000-8000-000000000004",
                "partner": "acme-edi", "direction": "inbound", "standard": "x12",
                "message_types": ["850"], "interchange_control": "000000101",
                "previous_status": "received",
                "errors": ["PO1 segment 3: element PO102 (quantity) is required"]}),
        }
    }
}

/// `product.created`, `product.updated`, `product.deleted`. Thin on purpose: a receiver
/// fetches the product (`GET /catalog/products/{sku}`) if it needs more.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductEventData {
    pub sku: String,
    pub name: String,
    /// `product.updated` only: the product's fields whose values changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<String>>,
}

/// `inventory.updated`: the level of one SKU at one location after the change (zeros when the
/// level was removed). Quantities are exact decimal strings. A change of `on_hand_at_least`
/// alone (a supplier's "100+" became a count, or the reverse) is an update too.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryEventData {
    pub sku: String,
    pub location: String,
    pub on_hand: String,
    /// `on_hand` is a floor, not a count: the source capped it ("100+"). Absent in events
    /// recorded before migration 0024 (read as false).
    #[serde(default)]
    pub on_hand_at_least: bool,
    pub allocated: String,
    pub on_order: String,
}

/// `price.updated`: some price of the SKU may have changed (a list price, a price list, a
/// tier, a discount, a contract, a break or a unit conversion reaching it). One event per SKU.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceEventData {
    pub sku: String,
}

/// `order.created`, `order.updated`, `order.cancelled`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderEventData {
    pub order_id: uuid::Uuid,
    pub order_number: String,
    pub customer_id: Option<String>,
    pub customer_po: String,
    pub status: String,
    /// Updates and cancellations: the status before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    /// Updates and cancellations: the order's fields whose values changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<String>>,
}

/// `order.supplier_status_changed`: the supplier reported a new status for an order we
/// forwarded to it (written by the supplier flows, hub/runtime/src/supplier/status.rs, in the
/// transaction that applied it; stale and duplicate reports record nothing). `status` and
/// `previous_status` are the supplier-neutral words (`pending`, `accepted`,
/// `awaiting_shipping_quote`, `awaiting_payment`, `fulfillment_started`, `shipped`,
/// `rejected`, `cancelled`); `supplier_status` is the supplier's own word.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierStatusEventData {
    pub order_id: uuid::Uuid,
    pub order_number: String,
    pub customer_id: Option<String>,
    /// The partner (config name) the order was forwarded to.
    pub partner: String,
    pub supplier_order_id: String,
    pub status: String,
    /// Null for the first status the supplier reported.
    pub previous_status: Option<String>,
    pub supplier_status: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    /// When the supplier made the change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// `inventory.low`: the SKU's available stock at the location (on hand less allocated less
/// active reservations) fell to or below its `low_stock_threshold`. Recorded once per
/// crossing: not again until it has recovered above the threshold. Exact decimal strings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LowStockEventData {
    pub sku: String,
    pub location: String,
    pub available: String,
    pub threshold: String,
}

/// `dead_letter.created` (never for a failed webhook delivery, which would loop).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterEventData {
    pub dead_letter_id: uuid::Uuid,
    pub job_id: uuid::Uuid,
    pub kind: String,
    pub partner: Option<String>,
    pub reason: String,
    pub error_class: String,
}

/// `bom.created`, `bom.updated` (a version's items replaced by an import with `update`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BomEventData {
    pub product_sku: String,
    pub version: i32,
    /// How many lines the version has now.
    pub items: i64,
}

/// `export.completed`: an export's file is ready to download until `expires_at`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportEventData {
    pub export_id: uuid::Uuid,
    pub entity: String,
    pub format: String,
    pub rows: i64,
    pub bytes: Option<i64>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The download's path under the API's base URL.
    pub download: String,
}

/// `webhook.endpoint.disabled`: an endpoint was disabled by the hub, because every delivery
/// to it failed for `[webhooks] disable_after_secs` or it answered 410 Gone. Delivered to the
/// organization's other endpoints that subscribe to it (never to the disabled one).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointDisabledEventData {
    pub endpoint_id: uuid::Uuid,
    pub name: String,
    pub url: String,
    pub reason: String,
    /// The first failed delivery of the streak; null for a 410 after successes.
    pub failing_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// `shipment.dispatched`: a shipment of an order left, with its tracking (recorded by
/// `POST /orders/{id}/shipments`; the order's own `order.updated` follows with its new
/// status). `shipment.tracking_updated`: its carrier, tracking number or URL changed
/// (`PATCH /orders/{id}/shipments/{shipment_id}`), with the number it replaced. A type of its
/// own rather than `shipment.dispatched` again (nothing new left the warehouse) or
/// `order.updated` (which names no shipment and does not fire for a URL alone).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentEventData {
    pub shipment_id: uuid::Uuid,
    pub shipment_number: String,
    pub order_id: uuid::Uuid,
    pub order_number: String,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    /// `shipment.tracking_updated` only: the tracking number before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_tracking_number: Option<String>,
    pub shipped_at: chrono::DateTime<chrono::Utc>,
}

/// `invoice.created`. Amounts are exact decimal strings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceEventData {
    pub invoice_id: uuid::Uuid,
    pub invoice_number: String,
    /// The sales order invoiced, when there is one.
    pub order_id: Option<uuid::Uuid>,
    pub order_number: Option<String>,
    pub customer_id: String,
    pub currency: String,
    pub issue_date: chrono::NaiveDate,
    pub due_date: Option<chrono::NaiveDate>,
    pub net_total: String,
    pub vat_total: String,
    pub gross_total: String,
}

/// `edi.message.received`: an inbound interchange was stored (a duplicate copy too, with
/// `duplicate_of` naming the first; it is not processed again). The raw interchange is at
/// `GET /api/v1/edi/messages/{message_id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EdiReceivedEventData {
    pub message_id: uuid::Uuid,
    /// The trading partner (config name).
    pub partner: String,
    /// `x12` or `edifact`.
    pub standard: String,
    /// Transaction sets / messages in the interchange (`850`, `ORDERS`).
    pub message_types: Vec<String>,
    pub sender_id: String,
    pub receiver_id: String,
    /// ISA13 / UNB 0020.
    pub interchange_control: String,
    /// The status as stored: `received`, or `error` for a duplicate.
    pub status: String,
    pub file_name: Option<String>,
    pub duplicate_of: Option<uuid::Uuid>,
}

/// `edi.message.failed`: a message's status became `error`: an inbound interchange that
/// failed validation or is a duplicate, or an outbound one the partner's acknowledgement
/// rejected. Once per move into `error`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EdiFailedEventData {
    pub message_id: uuid::Uuid,
    pub partner: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub standard: String,
    pub message_types: Vec<String>,
    pub interchange_control: String,
    /// Null when the message was stored as failed.
    pub previous_status: Option<String>,
    /// What is wrong, in words (the validation's problems, the partner's rejection reasons).
    pub errors: Vec<String>,
}

/// The body of every delivery (signed by Standard Webhooks 1.0: `webhook-id` is the event
/// id, the same on every retry).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPayload {
    /// The event type.
    pub event: String,
    /// When the event occurred (RFC 3339); deliveries are not ordered, this is.
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub org_id: uuid::Uuid,
    /// The type's payload: `ProductEventData`, `InventoryEventData`, `PriceEventData`,
    /// `OrderEventData`, `SupplierStatusEventData`, `LowStockEventData`,
    /// `DeadLetterEventData`, `BomEventData`, `ExportEventData`,
    /// `EndpointDisabledEventData`, `ShipmentEventData`, `InvoiceEventData`,
    /// `EdiReceivedEventData` or `EdiFailedEventData`.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Check that `data` is what `event_type`'s struct says (the test of the triggers uses it).
pub fn check_data(event_type: EventType, data: &Value) -> Result<(), String> {
    fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(v.clone())
            .map(drop)
            .map_err(|e| e.to_string())
    }
    match event_type {
        EventType::OrderSupplierStatusChanged => return parse::<SupplierStatusEventData>(data),
        EventType::InventoryLow => return parse::<LowStockEventData>(data),
        EventType::WebhookEndpointDisabled => return parse::<EndpointDisabledEventData>(data),
        EventType::EdiMessageReceived => return parse::<EdiReceivedEventData>(data),
        EventType::EdiMessageFailed => return parse::<EdiFailedEventData>(data),
        _ => {}
    }
    match event_type.family() {
        "product" => parse::<ProductEventData>(data),
        "inventory" => parse::<InventoryEventData>(data),
        "price" => parse::<PriceEventData>(data),
        "order" => parse::<OrderEventData>(data),
        "bom" => parse::<BomEventData>(data),
        "export" => parse::<ExportEventData>(data),
        "shipment" => parse::<ShipmentEventData>(data),
        "invoice" => parse::<InvoiceEventData>(data),
        _ => parse::<DeadLetterEventData>(data),
    }
}

/// The `[webhooks]` section: what outbound deliveries may reach and how long they wait.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Hosts an endpoint may name with plain `http://` (development: `127.0.0.1`,
    /// `localhost`). Everything else must be `https://`.
    pub allow_http_hosts: Vec<String>,
    /// Exceptions to the SSRF guard: host names (`localhost`), addresses and CIDR blocks
    /// (`127.0.0.1`, `10.1.0.0/16`) that endpoints may reach although they are loopback,
    /// private, link-local, unique-local, CGNAT, multicast or metadata addresses. Empty by
    /// default: only public addresses are reached.
    pub allow_private: Vec<switchyard_core::ssrf::Allowed>,
    /// How long a rotated-out secret keeps signing, in seconds (both signatures are sent);
    /// at most 30 days.
    pub secret_overlap_secs: u64,
    /// A delivery not answered 2xx within this is a failed attempt.
    pub timeout_ms: u64,
    /// An endpoint whose every delivery has failed for this long (throttling answers aside)
    /// is disabled when the next one fails; 5 days by default (Svix's figure).
    pub disable_after_secs: u64,
    /// The keys endpoints' secrets are sealed with at rest (not read from `[webhooks]`: the
    /// daemon sets them from `[secrets]`); none: stored in the clear.
    #[serde(skip)]
    pub sealing: switchyard_store::sealing::Sealing,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_http_hosts: Vec::new(),
            allow_private: Vec::new(),
            secret_overlap_secs: 24 * 60 * 60,
            timeout_ms: 30_000,
            disable_after_secs: 5 * 24 * 60 * 60,
            sealing: switchyard_store::sealing::Sealing::default(),
        }
    }
}

/// At most this many custom headers per endpoint.
pub const MAX_HEADERS: usize = 20;

/// Why an endpoint's settings are refused: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub field: &'static str,
    pub message: String,
}

fn refused(field: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        field,
        message: message.into(),
    }
}

/// How long the check at creation waits for a name to resolve.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

impl WebhookSettings {
    /// The SSRF guard these settings describe.
    pub fn guard(&self) -> switchyard_core::ssrf::Guard {
        switchyard_core::ssrf::Guard::new(self.allow_private.clone())
    }

    /// The SSRF guard at creation: the URL's host (an address, or every address its name
    /// resolves to now) must be public or allowed by `allow_private`. A name that does not
    /// resolve (yet, or on a machine without DNS) is accepted: the delivery client checks
    /// every address again after resolution, on every connection, which is the check that
    /// counts (a name can resolve elsewhere tomorrow); this one only refuses early what is
    /// already plainly wrong.
    pub async fn check_destination(&self, raw: &str) -> Result<(), Refused> {
        let url = url::Url::parse(raw.trim()).map_err(|e| refused("url", format!("{e}")))?;
        let guard = self.guard();
        let port = url.port_or_known_default().unwrap_or(443);
        let (host, verb, addrs): (String, &str, Vec<std::net::IpAddr>) = match url.host() {
            None => return Err(refused("url", "the URL names no host")),
            Some(url::Host::Ipv4(a)) => (a.to_string(), "names", vec![a.into()]),
            Some(url::Host::Ipv6(a)) => (a.to_string(), "names", vec![a.into()]),
            Some(url::Host::Domain(d)) => {
                if guard.host_allowed(d) {
                    return Ok(());
                }
                let found =
                    tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((d, port))).await;
                match found {
                    Ok(Ok(addrs)) => (d.to_owned(), "resolves to", addrs.map(|a| a.ip()).collect()),
                    _ => return Ok(()),
                }
            }
        };
        for addr in addrs {
            guard.check(&host, addr).map_err(|r| {
                refused(
                    "url",
                    format!(
                        "`{}` {verb} {}, {}: refused by the SSRF guard unless [webhooks] allow_private lists the host or address",
                        raw.trim(),
                        r.addr,
                        r.reserved
                    ),
                )
            })?;
        }
        Ok(())
    }

    /// An endpoint URL: absolute, `https`, or `http` to an allowed host; no credentials in it
    /// (they would be logged with every attempt).
    pub fn check_url(&self, raw: &str) -> Result<(), Refused> {
        let url = url::Url::parse(raw.trim()).map_err(|e| refused("url", format!("{e}")))?;
        let host = url
            .host_str()
            .ok_or_else(|| refused("url", "the URL names no host"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused(
                "url",
                "credentials in the URL are not allowed; use a custom header",
            ));
        }
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_http_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) => Ok(()),
            "http" => Err(refused(
                "url",
                format!("plain http is allowed only to the hosts in [webhooks] allow_http_hosts; `{host}` is not one: use https"),
            )),
            other => Err(refused("url", format!("scheme `{other}`: use https"))),
        }
    }
}

/// Every subscription pattern there is: `*`, each family (`order.*`), each type.
pub fn patterns() -> Vec<String> {
    let mut out = vec!["*".to_owned()];
    for t in EventType::ALL {
        let family = format!("{}.*", t.family());
        if !out.contains(&family) {
            out.push(family);
        }
    }
    out.extend(EventType::ALL.iter().map(|t| t.as_str().to_owned()));
    out
}

/// Subscriptions: each a known type, a known family (`order.*`) or `*`.
pub fn check_patterns(patterns: &[String]) -> Result<(), Refused> {
    if patterns.is_empty() {
        return Err(refused("events", "subscribe to at least one event type"));
    }
    for p in patterns {
        let known = p == "*"
            || EventType::parse(p).is_some()
            || p.strip_suffix(".*")
                .is_some_and(|f| EventType::ALL.iter().any(|t| t.family() == f));
        if !known {
            let types: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(refused(
                "events",
                format!(
                    "`{p}` is not an event type, a family such as `order.*`, or `*`; known types: {}",
                    types.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Custom headers: valid HTTP names and values, none that the signature or the body's type
/// depend on.
pub fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), Refused> {
    if headers.len() > MAX_HEADERS {
        return Err(refused(
            "headers",
            format!("at most {MAX_HEADERS} custom headers"),
        ));
    }
    for (name, value) in headers {
        let n = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| refused("headers", format!("`{name}` is not a header name")))?;
        if n.as_str().starts_with("webhook-")
            || n.as_str().starts_with("x-switchyard-")
            || ["content-type", "content-length", "host", "user-agent"].contains(&n.as_str())
        {
            return Err(refused(
                "headers",
                format!("`{name}` is set by the hub and cannot be overridden"),
            ));
        }
        http::HeaderValue::from_str(value).map_err(|_| {
            refused(
                "headers",
                format!("the value of `{name}` is not a header value"),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_is_its_types_struct_and_extra_fields_are_refused() {
        for t in EventType::ALL {
            let sample = t.sample();
            check_data(t, &sample).unwrap_or_else(|e| panic!("{}: {e}", t.as_str()));
            let mut extra = sample.clone();
            extra["surprise"] = json!(1);
            assert!(
                check_data(t, &extra).is_err(),
                "{} took an unknown field",
                t.as_str()
            );
        }
        // The EDI structs are the ones chosen for their types (a received payload is not a
        // failed one).
        assert!(check_data(
            EventType::EdiMessageFailed,
            &EventType::EdiMessageReceived.sample()
        )
        .is_err());
        assert_eq!(EventType::EdiMessageFailed.family(), "edi");
        assert!(patterns().contains(&"edi.*".to_owned()));
    }

    #[tokio::test]
    async fn destinations_are_checked_by_address_and_by_resolved_name() {
        let settings = WebhookSettings::default();
        for url in [
            "https://127.0.0.1/",
            "https://[::1]:8443/",
            "https://169.254.169.254/latest",
            "https://localhost/hook",
        ] {
            let refused = settings.check_destination(url).await.unwrap_err();
            assert_eq!(refused.field, "url");
            assert!(refused.message.contains(url), "{}", refused.message);
        }
        // Public, or not resolvable here (the delivery-time check is the one that counts).
        settings
            .check_destination("https://93.184.216.34/")
            .await
            .unwrap();
        settings
            .check_destination("https://no-such-host.invalid/")
            .await
            .unwrap();
        let allowed = WebhookSettings {
            allow_private: vec![
                switchyard_core::ssrf::Allowed::parse("localhost").unwrap(),
                switchyard_core::ssrf::Allowed::parse("10.0.0.0/8").unwrap(),
            ],
            ..WebhookSettings::default()
        };
        allowed
            .check_destination("https://localhost/hook")
            .await
            .unwrap();
        allowed
            .check_destination("https://10.2.3.4/")
            .await
            .unwrap();
        assert!(allowed
            .check_destination("https://192.168.0.1/")
            .await
            .is_err());
    }
}
