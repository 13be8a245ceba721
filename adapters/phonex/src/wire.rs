//! Every PhoneX wire name in one module.
//!
//! **All of it is provisional.** PhoneX publishes no API documentation (see
//! `../shared/PARTNER-APIS.md` §4 and README.md): the paths, headers, field names and status
//! words below come from the PhoneExport design's inferred examples, completed with choices of
//! our own. When a real contract or a captured exchange exists, this module (and the fake,
//! which imports it) is what changes; nothing outside the crate sees these names.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::supplier::SupplierStatus;

/// Health: who the key belongs to (`{"account_id": ..., "name": ...}`).
pub const ACCOUNT_PATH: &str = "v1/account";
/// `POST` places an order; `GET v1/orders/{id}` reads one by the supplier's id.
pub const ORDERS_PATH: &str = "v1/orders";
/// The stock list with prices, paged by `page` (from 1) and `per_page`.
pub const STOCK_PATH: &str = "v1/stock";
pub const PAGE_PARAM: &str = "page";
pub const PER_PAGE_PARAM: &str = "per_page";
/// The largest `per_page` PhoneX serves (assumed, like the rest).
pub const MAX_PER_PAGE: u32 = 500;

pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Set (`true`) on the answer to a repeated `Idempotency-Key`: nothing new was placed.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// HMAC-SHA256 over `{timestamp}.{raw body}`, hex or base64 as configured.
pub const SIGNATURE_HEADER: &str = "X-PhoneX-Signature";
/// Unix seconds when PhoneX sent the delivery; signed with the body, so a stale delivery
/// cannot be made fresh by changing it.
pub const TIMESTAMP_HEADER: &str = "X-PhoneX-Timestamp";
/// The same across redeliveries of one event: what the runtime dedupes by.
pub const EVENT_ID_HEADER: &str = "X-PhoneX-Event-Id";

/// The one event PhoneX sends.
pub const STATUS_UPDATED: &str = "order.status_updated";

/// An order's status at PhoneX. `received` is the status of a new order (the design names the
/// other five, which webhooks carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    Accepted,
    Rejected,
    FulfillmentStarted,
    Shipped,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Received,
        OrderStatus::Accepted,
        OrderStatus::Rejected,
        OrderStatus::FulfillmentStarted,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::Accepted => "accepted",
            OrderStatus::Rejected => "rejected",
            OrderStatus::FulfillmentStarted => "fulfillment_started",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The supplier-neutral status the flows use.
    pub fn supplier(self) -> SupplierStatus {
        match self {
            OrderStatus::Received => SupplierStatus::Pending,
            OrderStatus::Accepted => SupplierStatus::Accepted,
            OrderStatus::Rejected => SupplierStatus::Rejected,
            OrderStatus::FulfillmentStarted => SupplierStatus::FulfillmentStarted,
            OrderStatus::Shipped => SupplierStatus::Shipped,
            OrderStatus::Cancelled => SupplierStatus::Cancelled,
        }
    }
}

/// `POST /v1/orders` body: what `mappings/phonex/order.out.toml` makes of our order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The wholesaler PhoneX forwards to (`wesellcellular`).
    pub supplier: String,
    /// Our order number; PhoneX refuses a second order with the same one (409).
    pub order_id: String,
    pub customer_id: String,
    pub items: Vec<OrderItem>,
    pub shipping_address: Value,
    #[serde(default)]
    pub metadata: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    pub sku: String,
    pub quantity: u64,
    /// A JSON number with two places (`231.00`).
    pub unit_price: Value,
}

/// An order as PhoneX answers `POST /v1/orders` and `GET /v1/orders/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// PhoneX's id (`ORD845140`).
    pub id: String,
    /// Ours, echoed.
    pub order_id: String,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/stock` answer. Records are passed on raw (the pull engine's mappings read them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockPage {
    pub items: Vec<Value>,
    pub page: u32,
    pub per_page: u32,
    /// `null` on the last page (and on any page past it).
    #[serde(default)]
    pub next_page: Option<u32>,
}

/// One line of the stock list, as the fake serves it and `mappings/phonex/stock.in.toml` /
/// `price.in.toml` read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockItem {
    pub sku: String,
    pub description: String,
    /// Units available to order now.
    pub available: u64,
    /// Unit price as a decimal string (`"231.00"`).
    pub price: String,
    pub currency: String,
    pub updated_at: DateTime<Utc>,
}

/// The error body of every non-2xx answer: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On a 409 for an order number already placed: that order's PhoneX id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
}

/// The `order.status_updated` webhook body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub event: String,
    /// Ours, echoed.
    pub order_id: String,
    pub supplier_order_id: String,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub updated_at: DateTime<Utc>,
}
