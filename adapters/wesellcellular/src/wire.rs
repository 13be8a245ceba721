//! Every shape WesellCellular's tenant API sends or takes, in one place.
//!
//! PROVISIONAL: no public documentation of the tenant API exists. The paths come from browser
//! traffic seen by a third party (docs/PARTNER-APIS.md §4); every field name below is our
//! guess until a real contract or a HAR capture exists. When the real names are known, this
//! module (and the fake, which speaks it) is what changes; nothing outside the crate sees
//! these names.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use switchyard_core::supplier::SupplierStatus;

/// `POST /auth/token` (Cognito-like client credentials).
pub const TOKEN_PATH: &str = "auth/token";
/// The cheap authenticated read `health` uses.
pub const USER_INFO_PATH: &str = "account/user-info";
/// `GET` paged with `includeOutOfStock`, `page`, `pageSize`.
pub const STOCKLIST_PATH: &str = "stocklist/items";
/// `POST` to place, `GET` with `updatedSince`, `page`, `pageSize` to poll.
pub const SALES_ORDERS_PATH: &str = "sales-orders";

/// The header our idempotency key travels in (the buyer reference in the body is what the
/// tenant dedupes on; the header ties its access log to our job).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// A JWT; its `exp` claim is when it ends.
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds; informational (the JWT's `exp` is what the client trusts).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The claims the client reads from the token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
}

/// The tenant's error body: `{"message": "...", "field": "items[0].quantity"}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
}

/// A stock quantity: a count, or the portal's cap `"100+"` (at least that many; the real
/// number is not disclosed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Exact(u64),
    AtLeast(u64),
}

impl Quantity {
    pub fn count(self) -> u64 {
        match self {
            Quantity::Exact(n) | Quantity::AtLeast(n) => n,
        }
    }

    pub fn capped(self) -> bool {
        matches!(self, Quantity::AtLeast(_))
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Quantity::Exact(n) => s.serialize_u64(*n),
            Quantity::AtLeast(n) => s.serialize_str(&format!("{n}+")),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        match &v {
            serde_json::Value::Number(n) => n
                .as_u64()
                .map(Quantity::Exact)
                .ok_or_else(|| D::Error::custom(format!("quantity {n} is not a whole count"))),
            serde_json::Value::String(s) => {
                let t = s.trim();
                if let Some(n) = t.strip_suffix('+') {
                    n.trim()
                        .parse()
                        .map(Quantity::AtLeast)
                        .map_err(|_| D::Error::custom(format!("quantity `{s}` is not `N+`")))
                } else {
                    t.parse()
                        .map(Quantity::Exact)
                        .map_err(|_| D::Error::custom(format!("quantity `{s}` is not a count")))
                }
            }
            other => Err(D::Error::custom(format!(
                "quantity must be a number or \"N+\", got {other}"
            ))),
        }
    }
}

/// One line of the stock list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    pub model: String,
    pub storage: String,
    /// A, B, AB or Functional.
    pub grade: String,
    /// `GSM Unlocked` or `Locked`.
    pub lock_status: String,
    /// W1, W2, DFW.
    pub warehouse: String,
    pub quantity: Quantity,
    pub price: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_message: Option<String>,
}

/// A page of a list endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub page_size: u32,
    pub total_pages: u32,
    pub total_items: u64,
}

/// A sales order as the tenant shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesOrder {
    /// `PXSTKL0000347`; the tenant may reassign it.
    pub order_number: String,
    /// Our order number, as sent when placing it.
    #[serde(default)]
    pub buyer_reference: Option<String>,
    pub status: String,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

/// The field of a sales order body that carries our order number.
pub const BUYER_REFERENCE: &str = "buyerReference";

/// The portal's order statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    OnHold,
    AwaitingShippingQuote,
    AwaitingPayment,
    ReadyForFulfillment,
    Shipped,
    Canceled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::OnHold,
        OrderStatus::AwaitingShippingQuote,
        OrderStatus::AwaitingPayment,
        OrderStatus::ReadyForFulfillment,
        OrderStatus::Shipped,
        OrderStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::OnHold => "On Hold",
            OrderStatus::AwaitingShippingQuote => "Awaiting Shipping Quote",
            OrderStatus::AwaitingPayment => "Awaiting Payment",
            OrderStatus::ReadyForFulfillment => "Ready for Fulfillment",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::Canceled => "Canceled",
        }
    }

    /// The portal's words, compared without regard to case or surrounding blanks.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    /// The next state of the machine (`None` at the end or when canceled).
    pub fn next(self) -> Option<Self> {
        match self {
            OrderStatus::OnHold => Some(OrderStatus::AwaitingShippingQuote),
            OrderStatus::AwaitingShippingQuote => Some(OrderStatus::AwaitingPayment),
            OrderStatus::AwaitingPayment => Some(OrderStatus::ReadyForFulfillment),
            OrderStatus::ReadyForFulfillment => Some(OrderStatus::Shipped),
            OrderStatus::Shipped | OrderStatus::Canceled => None,
        }
    }

    /// In the supplier-neutral words the flows use.
    pub fn supplier_status(self) -> SupplierStatus {
        match self {
            OrderStatus::OnHold => SupplierStatus::Pending,
            OrderStatus::AwaitingShippingQuote => SupplierStatus::AwaitingShippingQuote,
            OrderStatus::AwaitingPayment => SupplierStatus::AwaitingPayment,
            OrderStatus::ReadyForFulfillment => SupplierStatus::FulfillmentStarted,
            OrderStatus::Shipped => SupplierStatus::Shipped,
            OrderStatus::Canceled => SupplierStatus::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_quantities_are_not_counts() {
        let q: Quantity = serde_json::from_str("\"100+\"").unwrap();
        assert_eq!(q, Quantity::AtLeast(100));
        assert!(q.capped());
        let q: Quantity = serde_json::from_str("7").unwrap();
        assert_eq!(q, Quantity::Exact(7));
        let q: Quantity = serde_json::from_str("\"12\"").unwrap();
        assert_eq!(q, Quantity::Exact(12));
        assert!(serde_json::from_str::<Quantity>("\"lots\"").is_err());
        assert!(serde_json::from_str::<Quantity>("1.5").is_err());
        assert_eq!(
            serde_json::to_value(Quantity::AtLeast(100)).unwrap(),
            serde_json::json!("100+")
        );
    }

    #[test]
    fn every_status_maps_and_the_machine_ends_shipped() {
        let mut s = OrderStatus::OnHold;
        let mut ranks = vec![s.supplier_status().rank()];
        while let Some(n) = s.next() {
            s = n;
            ranks.push(s.supplier_status().rank());
        }
        assert_eq!(s, OrderStatus::Shipped);
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
        assert_eq!(
            OrderStatus::parse("ready for fulfillment "),
            Some(OrderStatus::ReadyForFulfillment)
        );
        assert_eq!(
            OrderStatus::Canceled.supplier_status(),
            SupplierStatus::Cancelled
        );
        assert_eq!(OrderStatus::parse("Cancelled"), None);
    }
}
