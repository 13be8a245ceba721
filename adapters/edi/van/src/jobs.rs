//! The EDI job kinds' payloads, each naming its kind once.
//!
//! | kind | payload |
//! |---|---|
//! | `edi.mailbox.poll` | [`PollMailbox`]: `{"partner": NAME}` (or the older inline `mailbox` + `profile`) |
//! | `edi.send` | [`SendDocument`]: partner, `document`, `entity`, `order` |
//! | `edi.ack.overdue` | [`CheckOverdueAcks`]: `{"partner": NAME}` (or an inline `profile`) |
//! | `edi.order.import` | [`ImportOrders`]: `{"message_id": UUID}` |
//! | `edi.order.reprocess` | [`ReprocessOrder`]: `{"order_id": UUID, "remap": bool}` |

use crate::partners::{PartnerRef, KIND as PARTNER_KIND};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use switchyard_core::adapter::Capability;
use switchyard_core::JobPayload;
use switchyard_edi::partner::PartnerProfile;
use switchyard_runtime::job::{needs_nothing, PartnerRule, PartnerSource};
use utoipa::ToSchema;
use uuid::Uuid;

/// `edi.mailbox.poll`: store, validate and acknowledge what the partner left in its mailbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PollMailbox(pub PartnerRef);

impl JobPayload for PollMailbox {
    const KIND: &'static str = "edi.mailbox.poll";
}

/// `edi.ack.overdue`: warn once per document the partner has not acknowledged in its window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckOverdueAcks(pub PartnerRef);

impl JobPayload for CheckOverdueAcks {
    const KIND: &'static str = "edi.ack.overdue";
}

/// Which document to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 855 / ORDRSP from an order.
    OrderResponse,
    /// 856 / DESADV from a shipment (and its order).
    ShipNotice,
    /// 810 / INVOIC from an invoice.
    Invoice,
}

/// `edi.send`: build an outbound document from a canonical entity through its mapping file
/// and deliver it into the partner's mailbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendDocument {
    /// The EDI partner's name in `switchyard.toml`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// …or the older inline form: a local mailbox and the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<PartnerProfile>,
    pub document: DocumentKind,
    pub entity: Value,
    /// The shipment's order (ship notices only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Value>,
}

impl JobPayload for SendDocument {
    const KIND: &'static str = "edi.send";
}

impl SendDocument {
    /// How the payload names its partner.
    pub fn partner_ref(&self) -> PartnerRef {
        PartnerRef {
            partner: self.partner.clone(),
            mailbox: self.mailbox.clone(),
            profile: self.profile.clone(),
        }
    }
}

/// `edi.order.import`: the 850 / ORDERS sets of a processed inbound message become orders.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOrders {
    pub message_id: Uuid,
}

impl JobPayload for ImportOrders {
    const KIND: &'static str = "edi.order.import";
}

/// `edi.order.reprocess`: re-check (or re-map) an order waiting for review.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReprocessOrder {
    pub order_id: Uuid,
    /// Map the stored EDI message again (after reference data or a mapping file was fixed)
    /// instead of re-checking the order as the admin edited it.
    #[serde(default)]
    pub remap: bool,
}

impl JobPayload for ReprocessOrder {
    const KIND: &'static str = "edi.order.reprocess";
}

/// The jobs that move files need an EDI partner whose adapter has a mailbox.
pub const MAILBOX_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    // The older inline form carries the partner in the payload itself.
    required: false,
    kinds: &[PARTNER_KIND],
    needs: |_| &[Capability::Mailbox],
};

/// `edi.ack.overdue` reads the database only, but still names an EDI partner.
pub const PROFILE_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    required: false,
    kinds: &[PARTNER_KIND],
    needs: needs_nothing,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_runtime::job::parse_payload;

    #[test]
    fn payloads_keep_their_wire_shapes() {
        let poll: PollMailbox = parse_payload(&json!({"partner": "acme"})).unwrap();
        assert_eq!(poll.0, PartnerRef::named("acme"));
        assert_eq!(
            serde_json::to_value(&poll).unwrap(),
            json!({"partner": "acme"})
        );
        let e = parse_payload::<PollMailbox>(&json!({"partner": "acme", "x": 1})).unwrap_err();
        assert!(e.message.starts_with("edi.mailbox.poll payload: "), "{e}");
        let send: SendDocument =
            parse_payload(&json!({"partner": "acme", "document": "order_response", "entity": {}}))
                .unwrap();
        assert_eq!(send.document, DocumentKind::OrderResponse);
        assert_eq!(
            serde_json::to_value(&send).unwrap(),
            json!({"partner": "acme", "document": "order_response", "entity": {}})
        );
        let e = parse_payload::<SendDocument>(
            &json!({"partner": "acme", "document": "memo", "entity": {}}),
        )
        .unwrap_err();
        assert!(e.message.starts_with("edi.send payload: document: "), "{e}");
    }
}
