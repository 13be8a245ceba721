//! Email notifications: which notice an event is, and how a customer wants each notice.
//! (The SQL is in `switchyard_store::notifications`, the sending in `switchyard_runtime::notify`.)

use serde::{Deserialize, Serialize};

/// One kind of notification mail; its name is its templates' name
/// (`templates/email/<notice>.subject.txt`, `.txt`, `.html`) and its preference key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    OrderPlaced,
    OrderAccepted,
    OrderRejected,
    OrderFulfillmentStarted,
    OrderShipped,
    OrderStatusChanged,
    /// To the organization's purchaser, not a customer: no preferences.
    LowStock,
}

impl Notice {
    pub const ALL: &'static [Notice] = &[
        Notice::OrderPlaced,
        Notice::OrderAccepted,
        Notice::OrderRejected,
        Notice::OrderFulfillmentStarted,
        Notice::OrderShipped,
        Notice::OrderStatusChanged,
        Notice::LowStock,
    ];

    /// The notices a customer gets (and can set preferences for).
    pub const CUSTOMER: &'static [Notice] = &[
        Notice::OrderPlaced,
        Notice::OrderAccepted,
        Notice::OrderRejected,
        Notice::OrderFulfillmentStarted,
        Notice::OrderShipped,
        Notice::OrderStatusChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Notice::OrderPlaced => "order_placed",
            Notice::OrderAccepted => "order_accepted",
            Notice::OrderRejected => "order_rejected",
            Notice::OrderFulfillmentStarted => "order_fulfillment_started",
            Notice::OrderShipped => "order_shipped",
            Notice::OrderStatusChanged => "order_status_changed",
            Notice::LowStock => "low_stock",
        }
    }

    pub fn parse(s: &str) -> Option<Notice> {
        Notice::ALL.iter().copied().find(|n| n.as_str() == s)
    }

    /// The notice an event is, if any: `order.created` is "order placed"; a supplier status
    /// change names its new status (accepted, rejected, fulfillment started, shipped; any
    /// other status is "status changed"), except `pending`; `inventory.low` is low stock.
    ///
    /// `pending` is no notice: it is the status the forward records when the supplier takes
    /// the order (PhoneX `received`, WesellCellular `On Hold`), moments after "order placed",
    /// and it tells the customer nothing that mail did not (their order is pending, ours was
    /// already). Mailing it gave every customer two mails for one order.
    pub fn of_event(event_type: &str, data: &serde_json::Value) -> Option<Notice> {
        match event_type {
            "order.created" => Some(Notice::OrderPlaced),
            "order.supplier_status_changed" => match data.get("status").and_then(|s| s.as_str()) {
                Some("pending") => None,
                Some("accepted") => Some(Notice::OrderAccepted),
                Some("rejected") => Some(Notice::OrderRejected),
                Some("fulfillment_started") => Some(Notice::OrderFulfillmentStarted),
                Some("shipped") => Some(Notice::OrderShipped),
                _ => Some(Notice::OrderStatusChanged),
            },
            "inventory.low" => Some(Notice::LowStock),
            _ => None,
        }
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a customer wants one notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// A mail per event, at once (the default).
    #[default]
    Immediate,
    /// Collected into the daily digest mail.
    Digest,
    /// None (also what an unsubscribe link sets).
    Off,
}

impl DeliveryMode {
    pub const ALL: &'static [DeliveryMode] = &[
        DeliveryMode::Immediate,
        DeliveryMode::Digest,
        DeliveryMode::Off,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Immediate => "immediate",
            DeliveryMode::Digest => "digest",
            DeliveryMode::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryMode> {
        DeliveryMode::ALL.iter().copied().find(|m| m.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_map_to_notices_and_names_round_trip() {
        let status = |s: &str| json!({ "status": s });
        let of = |t: &str, d: serde_json::Value| Notice::of_event(t, &d);
        assert_eq!(of("order.created", json!({})), Some(Notice::OrderPlaced));
        assert_eq!(
            of("order.supplier_status_changed", status("shipped")),
            Some(Notice::OrderShipped)
        );
        assert_eq!(
            of("order.supplier_status_changed", status("awaiting_payment")),
            Some(Notice::OrderStatusChanged)
        );
        assert_eq!(
            of("order.supplier_status_changed", status("pending")),
            None,
            "the forward's first status repeats \"order placed\""
        );
        assert_eq!(of("inventory.low", json!({})), Some(Notice::LowStock));
        assert_eq!(of("order.updated", json!({})), None);
        for n in Notice::ALL {
            assert_eq!(Notice::parse(n.as_str()), Some(*n));
            assert_eq!(serde_json::to_value(n).unwrap(), json!(n.as_str()));
        }
    }
}
