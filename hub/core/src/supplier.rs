//! The supplier contract: what the order-forwarding, status and stock flows need from a
//! wholesaler, whether it is reached directly (WesellCellular's tenant API) or through
//! middleware (PhoneX).
//!
//! The PhoneExport design's `SupplierAdapter` (create an order, get an order's status, sync
//! the stock list, handle a webhook) as a Rust trait. The flows live in the runtime and are
//! written once against this trait; which supplier serves an organization is configuration,
//! so switching `phonex` for `wesellcellular` changes no flow and no mapping outside the
//! adapters' own.
//!
//! The stock list and prices are not here: a supplier adapter serves them through
//! [`crate::Adapter::pull`] (entities `inventory` and `prices`), so the generic pull engine
//! and its mapping files bring them into the canonical inventory and prices like any other
//! source.
//!
//! Every wire name of both suppliers is provisional (no public documentation exists): the
//! adapters translate their wire shapes into the types below and nothing outside them sees
//! a supplier's field names or status words.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::adapter::{AdapterContext, OutboundDocument};
use crate::error::AdapterError;

/// An order's state at the supplier, in the supplier-neutral words the flows use. The
/// adapters map their own words onto these (PhoneX `fulfillment_started`, WesellCellular
/// `Ready for Fulfillment` → [`SupplierStatus::FulfillmentStarted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierStatus {
    /// Placed and not yet reviewed (WesellCellular's `On Hold`).
    Pending,
    Accepted,
    AwaitingShippingQuote,
    AwaitingPayment,
    /// Picking has begun (PhoneX `fulfillment_started`, WesellCellular `Ready for Fulfillment`).
    FulfillmentStarted,
    Shipped,
    /// Refused by the supplier before it was accepted.
    Rejected,
    Cancelled,
}

impl SupplierStatus {
    pub const ALL: [SupplierStatus; 8] = [
        SupplierStatus::Pending,
        SupplierStatus::Accepted,
        SupplierStatus::AwaitingShippingQuote,
        SupplierStatus::AwaitingPayment,
        SupplierStatus::FulfillmentStarted,
        SupplierStatus::Shipped,
        SupplierStatus::Rejected,
        SupplierStatus::Cancelled,
    ];

    /// The snake_case name used in JSON, in the database and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SupplierStatus::Pending => "pending",
            SupplierStatus::Accepted => "accepted",
            SupplierStatus::AwaitingShippingQuote => "awaiting_shipping_quote",
            SupplierStatus::AwaitingPayment => "awaiting_payment",
            SupplierStatus::FulfillmentStarted => "fulfillment_started",
            SupplierStatus::Shipped => "shipped",
            SupplierStatus::Rejected => "rejected",
            SupplierStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<SupplierStatus> {
        SupplierStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// How far along an order in this state is. Deliveries arrive out of order (a `shipped`
    /// webhook before the `accepted` one); the flows never move an order to a lower rank.
    /// Rejected and cancelled end the order whatever came before, so they rank highest.
    pub fn rank(self) -> u8 {
        match self {
            SupplierStatus::Pending => 0,
            SupplierStatus::Accepted => 1,
            SupplierStatus::AwaitingShippingQuote => 2,
            SupplierStatus::AwaitingPayment => 3,
            SupplierStatus::FulfillmentStarted => 4,
            SupplierStatus::Shipped => 5,
            SupplierStatus::Rejected | SupplierStatus::Cancelled => 6,
        }
    }

    /// Nothing follows it.
    pub fn is_final(self) -> bool {
        matches!(self, SupplierStatus::Rejected | SupplierStatus::Cancelled)
    }
}

/// A parcel's tracking, as the supplier reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    /// The carrier's name when the supplier gives one (`UPS`); the tracking link is built
    /// from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

/// What the supplier answered when it took an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierOrderAck {
    /// The supplier's id of the order (`ORD845140`, `PXSTKL0000347`): stored on our order.
    pub supplier_order_id: String,
    pub status: SupplierStatus,
    /// The supplier's own word for the status, kept for logs and the order's history.
    pub supplier_status: String,
    /// True when the supplier recognised the idempotency key (our order) and placed nothing
    /// new: the answer is the first placement's.
    #[serde(default)]
    pub replayed: bool,
}

/// Which order at the supplier: the supplier's id, and ours as the supplier knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierOrderRef {
    pub supplier_order_id: String,
    /// Our order number, sent with the order (PhoneX `order_id`, a reference field).
    pub order_number: String,
}

/// One status change of one order, from a webhook, a poll or a status query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub supplier_order_id: String,
    /// Our order number when the supplier echoes it. Suppliers reassign their own numbers
    /// (WesellCellular does): a known order number with a new supplier id is the same order,
    /// and the flows follow the new id instead of creating a second order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    pub status: SupplierStatus,
    pub supplier_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
    /// When the supplier made the change: with [`SupplierStatus::rank`] it decides whether a
    /// late delivery is stale.
    pub updated_at: DateTime<Utc>,
}

/// A page of status changes for a supplier that is polled (no webhooks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StatusChanges {
    pub updates: Vec<StatusUpdate>,
    /// Where the next poll starts (an `updatedSince` value, a page token). `None`: keep the
    /// cursor the poll began with.
    pub next_cursor: Option<String>,
    /// More changes wait behind this page: poll again at once.
    pub more: bool,
}

/// What a supplier does for the flows. Implemented by the supplier adapters next to
/// [`crate::Adapter`]; reached through [`crate::Adapter::as_supplier`].
#[async_trait]
pub trait Supplier: Send + Sync {
    /// Place an order. `doc` is our canonical order mapped by the supplier's own order
    /// mapping; `ctx.idempotency_key` is derived from our order, and the supplier must be
    /// given it so a retry never places a second order.
    async fn create_order(
        &self,
        ctx: &AdapterContext,
        doc: &OutboundDocument,
    ) -> Result<SupplierOrderAck, AdapterError>;

    /// The order's current status at the supplier.
    async fn order_status(
        &self,
        ctx: &AdapterContext,
        order: &SupplierOrderRef,
    ) -> Result<StatusUpdate, AdapterError>;

    /// Whether status changes arrive by polling [`Supplier::status_changes`] (true) or by
    /// webhooks through [`Supplier::webhook_updates`] (false).
    fn polled(&self) -> bool;

    /// Status changes since `cursor` (`None`: from the supplier's default window). Suppliers
    /// that send webhooks answer with an empty page.
    async fn status_changes(
        &self,
        ctx: &AdapterContext,
        cursor: Option<&str>,
    ) -> Result<StatusChanges, AdapterError> {
        let _ = (ctx, cursor);
        Ok(StatusChanges::default())
    }

    /// The status updates a webhook carries. `body` was verified by
    /// [`crate::Adapter::receive_webhook`] already; a body that is not a status event the
    /// supplier sends is a permanent error naming the field.
    fn webhook_updates(&self, topic: &str, body: &[u8]) -> Result<Vec<StatusUpdate>, AdapterError> {
        let _ = body;
        Err(AdapterError::permanent(format!(
            "this supplier sends no webhooks (got topic {topic:?})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for s in SupplierStatus::ALL {
            assert_eq!(SupplierStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().into())
            );
        }
        assert_eq!(SupplierStatus::parse("Shipped"), None);
    }

    #[test]
    fn shipped_outranks_accepted_and_cancelled_outranks_everything() {
        assert!(SupplierStatus::Shipped.rank() > SupplierStatus::Accepted.rank());
        for s in SupplierStatus::ALL {
            assert!(SupplierStatus::Cancelled.rank() >= s.rank());
        }
        assert!(SupplierStatus::Cancelled.is_final());
        assert!(!SupplierStatus::Shipped.is_final());
    }
}
