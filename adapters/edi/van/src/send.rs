//! `edi.send`: one outbound document (855/ORDRSP, 856/DESADV, 810/INVOIC) for a partner,
//! written into its VAN mailbox's `outbound/`.
//!
//! 1. A redelivered job finds the row it stored before (`edi_messages.job_id`) and only
//!    finishes what is left (writing the file of a row still `processed`); no new control
//!    numbers, no second file.
//! 2. Otherwise, in one transaction: allocate the envelope's control numbers (ISA/GS/ST or
//!    UNB/UNH), generate the document (through its mapping file where there is one, see
//!    [`crate::edi_outbound`]), re-parse and validate it with our own parser, store it
//!    (`processed`, with the job id). A document that does not validate clean is a permanent
//!    error: the transaction rolls back, so its numbers are given back and nothing is written.
//! 3. The file is written atomically into `outbound/`, the row marked `sent`, and one
//!    integration log row written.
//!
//! The document is delivered through the partner's mailbox transport (a local directory or
//! SFTP, see `edi_transport`): written under a temporary name, then renamed into `outbound/`.
//!
//! Payload: `{"partner": NAME, "document": "order_response" |
//! "ship_notice" | "invoice", "entity": {Order | Shipment | Invoice}}`; a ship notice also
//! needs `"order": {Order}` (the 856 HL order level and the DESADV order reference), and an
//! invoice may carry it: the buyer's PO number and date come from it where the shipment or
//! invoice has none.

use crate::envelope::{edi_standard, group_controls, message_types, sanitize_name, transient};
use crate::jobs::{DocumentKind, SendDocument};
use crate::messages::{self as store, ControlKind, EdiMessageId, EdiStatus, NewEdiMessage};
use crate::outbound as edi_outbound;
use crate::partners::{EdiPartner, EdiPartners};
use crate::transport::{Folder, MailboxTransport};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Instant;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{JobId, OrgId};
use switchyard_core::model::{Invoice, Order, Shipment};
use switchyard_edi::generate::{Envelope, OutboundKind};
use switchyard_edi::partner::PartnerProfile;
use switchyard_edi::validate::validate;
use switchyard_edi::{Interchange, Standard, Unit};
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_runtime::mappings::Mappings;
use switchyard_store::logs::{self, Direction, IntegrationType, LogStatus, Masker, NewLogEntry};
use switchyard_store::queue::ClaimedJob;
use tracing::{info, info_span, warn, Instrument};

pub const KIND: &str = <SendDocument as switchyard_core::JobPayload>::KIND;

/// The payload as it was called before it became [`SendDocument`].
pub type SendPayload = SendDocument;

/// What a send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub message: EdiMessageId,
    /// The file's name in `outbound/`.
    pub file: String,
    /// ISA13 / UNB 0020 of the document.
    pub interchange_control: String,
    /// False when a redelivered job found its document already written.
    pub written: bool,
}

pub struct EdiSend {
    pub partners: Arc<EdiPartners>,
}

#[async_trait]
impl Job for EdiSend {
    type Payload = SendDocument;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        payload: SendDocument,
    ) -> Result<(), AdapterError> {
        let partner = payload.partner_ref().resolve(&self.partners, KIND)?;
        let report = send(
            ctx.pool(),
            job.org_id,
            job.id,
            &partner,
            &payload,
            ctx.now(),
            &ctx.mappings,
        )
        .await?;
        info!(file = %report.file, written = report.written, "edi document sent");
        Ok(())
    }
}

/// The document's entity, deserialized; a payload that is not the canonical shape is a
/// permanent error naming the field serde stopped at.
fn entity<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T, AdapterError> {
    serde_json::from_value(v.clone()).map_err(|e| {
        AdapterError::permanent(format!("{KIND}: {what} is not a canonical {what}: {e}"))
    })
}

/// The parsed entities, checked before any control number is spent.
enum Entity {
    Order(Box<Order>),
    Shipment(Box<Shipment>, Box<Order>),
    Invoice(Box<Invoice>),
}

impl Entity {
    fn from_payload(p: &SendPayload) -> Result<Self, AdapterError> {
        Ok(match p.document {
            DocumentKind::OrderResponse => {
                let order: Order = entity(&p.entity, "order")?;
                // Refused before any control number is spent: a permanent error, so the job
                // becomes a dead letter (stored with its payload, replayable once the order
                // has the buyer's PO).
                edi_outbound::check_order_response(&order)
                    .map_err(|e| AdapterError::permanent(format!("{KIND}: {e}")))?;
                Entity::Order(Box::new(order))
            }
            DocumentKind::ShipNotice => {
                let order = p.order.as_ref().ok_or_else(|| {
                    AdapterError::permanent(format!(
                        "{KIND}: a ship notice needs the shipment's `order` in the payload"
                    ))
                })?;
                Entity::Shipment(
                    Box::new(entity(&p.entity, "shipment")?),
                    Box::new(entity(order, "order")?),
                )
            }
            DocumentKind::Invoice => {
                let mut invoice: Invoice = entity(&p.entity, "invoice")?;
                // The buyer matches an invoice on its own PO number (810 BIG04, INVOIC
                // RFF+ON): take it from the order invoiced where the invoice has none.
                if let Some(order) = &p.order {
                    invoice.fill_from_order(&entity::<Order>(order, "order")?);
                }
                Entity::Invoice(Box::new(invoice))
            }
        })
    }

    /// The document: through its mapping file (`mappings/edi/`, current version of the
    /// hot-reloaded registry) where there is one, otherwise by the Rust builder.
    fn generate(
        &self,
        p: &PartnerProfile,
        env: &Envelope,
        mappings: &Mappings,
    ) -> Result<String, AdapterError> {
        let failed = |e: &dyn std::fmt::Display| {
            AdapterError::permanent(format!("{KIND}: generating the document: {e}"))
        };
        let (kind, input) = match self {
            Entity::Order(o) => (
                OutboundKind::OrderResponse,
                edi_outbound::order_response_input(p, o, env.now),
            ),
            Entity::Invoice(i) => (
                OutboundKind::Invoice,
                edi_outbound::invoice_input(p, i, env.now),
            ),
            Entity::Shipment(s, o) => (
                OutboundKind::ShipNotice,
                edi_outbound::ship_notice_input(p, s, o, env).map_err(|e| failed(&e))?,
            ),
        };
        let name = edi_outbound::mapping_name(kind, p.standard);
        let mapping = mappings
            .get(name, None)
            .map_err(|e| AdapterError::permanent(format!("{KIND}: {}", e.message)))?;
        edi_outbound::generate(&mapping, name, kind, p, env, &input).map_err(|e| failed(&e))
    }
}

/// Parse `text` with our own reader and validate it: exactly one interchange with no issue
/// at all, or every issue, located, in the error.
pub fn check_clean(text: &[u8]) -> Result<Box<Interchange>, String> {
    let mut units = switchyard_edi::read_all(text);
    if units.len() != 1 {
        return Err(format!(
            "expected exactly one interchange, the reader found {}",
            units.len()
        ));
    }
    let ic = match units.pop() {
        Some(Unit::Interchange(ic)) => ic,
        Some(Unit::Unparseable(issue)) => return Err(format!("does not parse: {issue}")),
        None => return Err("empty document".into()),
    };
    let v = validate(&ic);
    if !v.issues.is_empty() {
        let all: Vec<String> = v.issues.iter().map(|i| i.to_string()).collect();
        return Err(format!("does not validate clean: {}", all.join("; ")));
    }
    Ok(ic)
}

fn to_u32(n: i64) -> Result<u32, AdapterError> {
    u32::try_from(n).map_err(|_| {
        AdapterError::permanent(format!("control number {n} does not fit the envelope"))
    })
}

/// Build, store and write one document (see the module docs).
pub async fn send(
    pool: &PgPool,
    org: OrgId,
    job: JobId,
    partner: &EdiPartner,
    payload: &SendPayload,
    now: DateTime<Utc>,
    mappings: &Mappings,
) -> Result<SendReport, AdapterError> {
    let profile = &partner.profile;
    let span =
        info_span!("edi.send", partner = %profile.name, job = %job, document = ?payload.document);
    async {
        let mb = crate::connect::connect(&partner.mailbox).await?;
        let mb = mb.as_ref();
        mb.ensure_dirs().await?;

        // A redelivery: finish what the first run did not, never build a second document.
        if let Some(row) = store::outbound_by_job(pool, org, job.0)
            .await
            .map_err(transient("looking for this job's document"))?
        {
            let file = row.file_name.clone().unwrap_or_default();
            let written = row.status == EdiStatus::Processed;
            if written {
                warn!(%file, "redelivered job: writing the document the first run stored");
                deliver(pool, org, job, profile, mb, row.id, &file, &row.raw, &row.interchange_control, now).await?;
            }
            return Ok(SendReport {
                message: row.id,
                file,
                interchange_control: row.interchange_control,
                written,
            });
        }

        let started = Instant::now();
        let entity = Entity::from_payload(payload)?;
        let partner = profile.name.as_str();
        let mut tx = switchyard_store::begin(pool)
            .await
            .map_err(|e| AdapterError::transient(format!("starting a transaction: {e}")))?;
        let alloc = transient("allocating control numbers");
        // One interchange, one group (X12; our EDIFACT documents carry no UNG), one set.
        let (interchange, group, set) = match profile.standard {
            Standard::X12 => (
                store::next_control_number(&mut *tx, org, partner, ControlKind::Isa).await.map_err(&alloc)?,
                store::next_control_number(&mut *tx, org, partner, ControlKind::Gs).await.map_err(&alloc)?,
                store::next_control_number(&mut *tx, org, partner, ControlKind::St).await.map_err(&alloc)?,
            ),
            Standard::Edifact => (
                store::next_control_number(&mut *tx, org, partner, ControlKind::Unb).await.map_err(&alloc)?,
                0,
                store::next_control_number(&mut *tx, org, partner, ControlKind::Unh).await.map_err(&alloc)?,
            ),
        };
        let env = Envelope {
            interchange: to_u32(interchange)?,
            group: to_u32(group)?,
            set: to_u32(set)?,
            now: now.naive_utc(),
            // SSCCs minted for packages without one: a block of 1000 serials per document,
            // keyed on the set number that is never reused for this partner.
            sscc_serial: set as u64 * 1000,
        };
        let text = entity.generate(profile, &env, mappings)?;
        // Written to the standard, checked by our own reader before the partner sees it: a
        // document we cannot read back clean is never sent (the rollback gives its numbers back).
        let ic = check_clean(text.as_bytes())
            .map_err(|e| AdapterError::permanent(format!("{KIND}: the generated document {e}")))?;
        let types = message_types(&ic);
        let file = format!(
            "{}_{}_{}.edi",
            sanitize_name(partner),
            types.join("+"),
            ic.header.control
        );
        let id = store::insert_outbound_for_job(
            &mut tx,
            &NewEdiMessage {
                org,
                partner: partner.to_owned(),
                standard: edi_standard(ic.standard),
                message_types: types,
                sender_id: ic.header.sender.clone(),
                receiver_id: ic.header.receiver.clone(),
                interchange_control: ic.header.control.clone(),
                group_controls: group_controls(&ic),
                status: EdiStatus::Processed,
                raw: text.clone().into_bytes(),
                validation: Some(json!({"issues": [], "valid": true})),
                errors: Vec::new(),
                related_message_id: None,
                file_name: Some(file.clone()),
                pickup_id: None,
                file_offset: None,
            },
            job.0,
        )
        .await
        .map_err(transient("storing the outbound document"))?;
        tx.commit()
            .await
            .map_err(|e| AdapterError::transient(format!("committing the outbound document: {e}")))?;
        deliver(pool, org, job, profile, mb, id, &file, text.as_bytes(), &ic.header.control, now).await?;
        info!(%file, control = %ic.header.control, elapsed_ms = started.elapsed().as_millis() as u64, "edi document written");
        Ok(SendReport {
            message: id,
            file,
            interchange_control: ic.header.control.clone(),
            written: true,
        })
    }
    .instrument(span)
    .await
}

/// Write the stored document into `outbound/`, mark it sent, log it.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    pool: &PgPool,
    org: OrgId,
    job: JobId,
    profile: &PartnerProfile,
    mb: &dyn MailboxTransport,
    id: EdiMessageId,
    file: &str,
    body: &[u8],
    control: &str,
    now: DateTime<Utc>,
) -> Result<(), AdapterError> {
    mb.write_atomic(Folder::Outbound, file, body).await?;
    store::set_status(pool, org, id, EdiStatus::Sent, None)
        .await
        .map_err(transient("marking the document sent"))?;
    let mut entry = NewLogEntry::new(
        Some(org),
        IntegrationType::Edi,
        "edi.document.sent",
        Direction::Outbound,
        LogStatus::Success,
    );
    entry.at = now;
    entry.partner = Some(profile.name.clone());
    entry.job_id = Some(job);
    entry.request_body = Some(json!({
        "file": file,
        "message_id": id.to_string(),
        "interchange_control": control,
    }));
    // The document is safely stored and written; a lost log row is reported, not retried.
    if let Err(e) = logs::insert(pool, &Masker::default(), &entry).await {
        warn!(error = %e, "could not write the integration log row");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_names_the_document_kind() {
        let p: SendPayload = serde_json::from_value(json!({
            "partner": "acme",
            "document": "ship_notice",
            "entity": {},
        }))
        .expect("payload");
        assert_eq!(p.document, DocumentKind::ShipNotice);
        // A ship notice without its order is refused before any number is spent.
        let err = Entity::from_payload(&p).err().expect("needs the order");
        assert!(err.to_string().contains("`order`"), "{err}");
    }

    /// An invoice sent with its order names the buyer's PO (issue 10 item 2); its own PO,
    /// when it has one, is kept.
    #[test]
    fn an_invoice_takes_the_buyers_po_from_its_order() {
        let order = json!({
            "order_number": "SO-1001", "customer_id": "ACME", "status": "confirmed",
            "currency": "USD", "ordered_at": "2026-03-01T08:00:00Z", "requested_delivery": null,
            "lines": [], "billing_address": null, "shipping_address": null,
            "supplier_order_ref": null, "customer_po": "PO-77881", "tracking_numbers": []
        });
        let party = json!({"id": "A", "name": "A", "tax_id": null, "email": null,
            "billing_address": null, "shipping_address": null, "price_tier": null});
        let mut invoice = json!({
            "invoice_number": "FV-1", "order_number": "SO-1001", "issue_date": "2026-03-06",
            "due_date": null, "currency": "USD", "seller": party, "buyer": party, "lines": []
        });
        let payload = |entity: &Value| SendPayload {
            partner: "acme".into(),
            document: DocumentKind::Invoice,
            entity: entity.clone(),
            order: Some(order.clone()),
        };
        let Ok(Entity::Invoice(i)) = Entity::from_payload(&payload(&invoice)) else {
            panic!("an invoice")
        };
        assert_eq!(i.customer_po.as_deref(), Some("PO-77881"));
        assert_eq!(
            i.customer_po_date.map(|d| d.to_string()).as_deref(),
            Some("2026-03-01")
        );
        invoice["customer_po"] = json!("PO-OWN");
        let Ok(Entity::Invoice(i)) = Entity::from_payload(&payload(&invoice)) else {
            panic!("an invoice")
        };
        assert_eq!(i.customer_po.as_deref(), Some("PO-OWN"));
        assert_eq!(i.customer_po_date, None);
    }

    /// The 855 BAK03 / ORDRSP RFF+ON is the buyer's PO: an order without one is refused
    /// before any control number is spent, as a permanent error (the job's dead letter keeps
    /// the payload for a replay once the order is fixed) naming the order and the field.
    #[test]
    fn an_order_response_without_the_buyers_po_is_refused() {
        let payload = SendPayload {
            partner: "acme".into(),
            document: DocumentKind::OrderResponse,
            entity: json!({
                "order_number": "SO-1001", "customer_id": "ACME", "status": "pending_review",
                "currency": "USD", "ordered_at": null, "requested_delivery": null, "lines": [],
                "billing_address": null, "shipping_address": null, "supplier_order_ref": null,
                "customer_po": null, "tracking_numbers": []
            }),
            order: None,
        };
        let err = Entity::from_payload(&payload).err().expect("refused");
        assert!(!err.class.is_retryable(), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("order SO-1001") && msg.contains("customer_po") && msg.contains("BAK03"),
            "{msg}"
        );
    }

    #[test]
    fn a_document_with_a_wrong_count_is_not_clean() {
        let bad = "ISA*00*          *00*          *ZZ*SWITCHYARD     *01*ACMERETAIL     *260304*0915*U*00401*000000017*0*T*:~GS*PR*SWITCHYARD*ACMEAP*20260304*0915*42*X*004010~ST*855*0001~BAK*00*AC*PO-1*20260301~SE*9*0001~GE*1*42~IEA*1*000000017~";
        let err = check_clean(bad.as_bytes()).expect_err("not clean");
        assert!(err.contains("SE"), "{err}");
    }
}
