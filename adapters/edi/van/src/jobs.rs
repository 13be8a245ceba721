//! The EDI job kinds' payloads, each naming its kind once.
//!
//! | kind | payload |
//! |---|---|
//! | `edi.mailbox.poll` | [`PollMailbox`]: `{"partner": NAME}` |
//! | `edi.send` | [`SendDocument`]: partner, `document`, `entity`, `order` |
//! | `edi.ack.overdue` | [`CheckOverdueAcks`]: `{"partner": NAME}` |
//! | `edi.order.import` | [`ImportOrders`]: `{"message_id": UUID}` |
//! | `edi.order.reprocess` | [`ReprocessOrder`]: `{"order_id": UUID, "remap": bool}` |

use crate::partners::{PartnerRef, KIND as PARTNER_KIND};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_core::adapter::Capability;
use switchyard_core::JobPayload;
use switchyard_runtime::job::{
    needs_nothing, Parses, PartnerRule, PartnerSource, PayloadCheck, PayloadProblem,
};
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
    /// The EDI partner's name in `switchyard.toml`.
    pub partner: String,
    pub document: DocumentKind,
    pub entity: Value,
    /// The order shipped (ship notices, required) or invoiced (invoices, optional): the buyer's
    /// PO reference comes from it where the entity has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Value>,
}

impl JobPayload for SendDocument {
    const KIND: &'static str = "edi.send";
}

impl SendDocument {
    /// How the payload names its partner.
    pub fn partner_ref(&self) -> PartnerRef {
        PartnerRef::named(&self.partner)
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
    required: true,
    kinds: &[PARTNER_KIND],
    needs: |_| &[Capability::Mailbox],
};

/// `edi.ack.overdue` reads the database only, but still names an EDI partner.
pub const PROFILE_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    required: true,
    kinds: &[PARTNER_KIND],
    needs: needs_nothing,
};

/// Admission of an EDI job's payload: it must deserialize as `P`. The older inline form
/// (`"mailbox": DIR` + `"profile"`) is refused by name: it let an API caller pick any directory
/// of the server for the daemon to create folders in, move files out of and import orders
/// from; a mailbox is where the operator's `[partners.NAME.mailbox]` says.
pub struct EdiPayload<P>(Parses<P>);

impl<P> Default for EdiPayload<P> {
    fn default() -> Self {
        Self(Parses::default())
    }
}

impl<P: JobPayload> PayloadCheck for EdiPayload<P> {
    fn check(&self, payload: &Value) -> Result<(), PayloadProblem> {
        if let Some(field) = ["mailbox", "profile"]
            .into_iter()
            .find(|f| payload.get(f).is_some())
        {
            return Err(PayloadProblem::new(
                field,
                "the inline `mailbox` + `profile` form is not accepted: name an EDI partner \
                 declared in switchyard.toml (`{\"partner\": NAME}`), whose \
                 `[partners.NAME.mailbox]` says where its mailbox is",
            ));
        }
        self.0.check(payload)
    }
}

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
    }

    #[test]
    fn the_inline_mailbox_form_is_refused_by_name() {
        let inline = json!({"mailbox": "/etc", "profile": {"name": "x"}});
        let problem = EdiPayload::<PollMailbox>::default()
            .check(&inline)
            .unwrap_err();
        assert_eq!(problem.field, "mailbox");
        assert!(
            problem.message.contains("[partners.NAME.mailbox]"),
            "{problem}"
        );
        let problem = EdiPayload::<SendDocument>::default()
            .check(&json!({"partner": "acme", "profile": {}, "document": "invoice", "entity": {}}))
            .unwrap_err();
        assert_eq!(problem.field, "profile");
        // Anything else the payload does not know is refused with its field named.
        let problem = EdiPayload::<PollMailbox>::default()
            .check(&json!({"partner": "acme", "limit": 3}))
            .unwrap_err();
        assert!(
            problem.to_string().contains("unknown field `limit`"),
            "{problem}"
        );
        EdiPayload::<PollMailbox>::default()
            .check(&json!({"partner": "acme"}))
            .unwrap();
        let e = parse_payload::<SendDocument>(
            &json!({"partner": "acme", "document": "memo", "entity": {}}),
        )
        .unwrap_err();
        assert!(e.message.starts_with("edi.send payload: document: "), "{e}");
    }
}
